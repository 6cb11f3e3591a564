// One JSON type for the whole emulator; ordered so responses keep Airtable's key order.
#pragma once

#include <nlohmann/json.hpp>

namespace emu {
using Json = nlohmann::ordered_json;
}  // namespace emu
