// Compact JSON text of a parsed value, appended to a reused byte buffer: the `_rescued_data`
// values and the utf8 columns of unknown field types. Same text as simdjson::minify, without its
// allocation per value (and without std::string's out-of-line appends, a call per character).
#pragma once

#include <cstdint>
#include <string_view>

#include "airtable_lakeflow/arrow/buffer.hpp"
#include "airtable_lakeflow/convert/tape.hpp"

namespace airtable_lakeflow::convert {

// Appends `text` as a quoted JSON string: `"`, `\` and control characters escaped.
void append_json_string(std::string_view text, arrow::Buffer& out);
// Appends the value at `at` as compact JSON.
void append_json_text(const Tape& tape, uint32_t at, arrow::Buffer& out);

}  // namespace airtable_lakeflow::convert
