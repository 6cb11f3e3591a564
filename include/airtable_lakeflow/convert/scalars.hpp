// Exact conversions of Airtable's scalar cell values: dates, instants, numbers to decimals and
// durations. Each returns nothing when the value does not fit, never a rounded value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "airtable_lakeflow/int128.hpp"

namespace airtable_lakeflow::convert {

// "2024-03-04" → days since 1970-01-01. False (and `days` unspecified) for any other text.
// Results come back through a reference: an optional returned from another file goes through
// memory in pieces, which then stall the load that reads it back.
bool parse_date(std::string_view text, int32_t& days);
// "2024-03-04T09:30:00.000Z" (or an offset such as +02:00, 0–9 fraction digits, no digits past
// microseconds that are not 0) → microseconds since the epoch, UTC. False for any other text.
bool parse_timestamp(std::string_view text, int64_t& micros);
// A JSON number's text ("-12.5", "1e-7", "3") as value × 10^scale, exactly; nothing when that
// needs more fraction digits than `scale` or more than 38 digits in all.
std::optional<int128> scaled_decimal(std::string_view number_text, int scale);
// An integer × 10^scale, exactly, into `out` (what scaled_decimal gives for its text); false
// when that has more than 38 digits.
bool scaled_integer(int64_t number, int scale, int128& out);
// The same as scaled_decimal(shortest_text(number), scale) for the common case, without text,
// into `out`: false when the fast check cannot decide (the caller then takes the text path).
bool scaled_exactly(double number, int scale, int128& out);
// The shortest text that reads back as `value` ("121.000000001", "1e-07").
std::string_view shortest_text(double value, char (&buffer)[32]);

}  // namespace airtable_lakeflow::convert
