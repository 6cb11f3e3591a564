// What the emulator knows about each Airtable field type: whether it is computed (read-only,
// does not move LAST_MODIFIED_TIME) and which value shape a cell holds.
#pragma once

#include <string_view>

#include "json.hpp"

namespace emu {

// Types Airtable computes itself; the API rejects writes to them.
bool is_computed_type(std::string_view type);
// Every type the emulator models (unknown types are still stored and served verbatim).
bool is_known_type(std::string_view type);
// True when a stored value counts as empty and must be omitted from responses:
// null, "", [], false.
bool is_empty_cell(const Json& value);
// The type a computed field's value has: options.result.type for formula / rollup / lookup,
// else the field's own type.
std::string_view result_type(std::string_view type, const Json& options);

}  // namespace emu
