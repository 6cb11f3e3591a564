// The engine's version, set by the build from the project version.
#pragma once

namespace airtable_lakeflow {
inline constexpr const char* kVersion = AIRTABLE_LAKEFLOW_VERSION;
}  // namespace airtable_lakeflow
