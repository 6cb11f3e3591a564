// ISO-8601 timestamps as Airtable writes them ("2024-03-04T10:15:30.000Z") and dates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emu {

// "2024-03-04T10:15:30.000Z"
std::string format_iso_ms(int64_t epoch_ms);
// "2024-03-04" (UTC day of the instant)
std::string format_date(int64_t epoch_ms);
// Days since 1970-01-01 <-> civil date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with optional "Z" or "+HH:MM"; a
// missing zone means UTC. Returns epoch milliseconds.
std::optional<int64_t> parse_iso(std::string_view text);

}  // namespace emu
