// Compact JSON text of a parsed value, appended to a reused string: the `_rescued_data` values
// and the utf8 columns of unknown field types. Same text as simdjson::minify, without its
// allocation per value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "airtable_lakeflow/convert/tape.hpp"

namespace airtable_lakeflow::convert {

// Appends `text` as a quoted JSON string: `"`, `\` and control characters escaped.
void append_json_string(std::string_view text, std::string& out);
// Appends the value at `at` as compact JSON.
void append_json_text(const Tape& tape, uint32_t at, std::string& out);

}  // namespace airtable_lakeflow::convert
