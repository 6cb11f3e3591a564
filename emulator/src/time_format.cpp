#include "time_format.hpp"

#include <array>
#include <cctype>
#include <cstdio>

namespace emu {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's civil-date algorithm (public domain description of the proleptic calendar).
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool read_digits(std::string_view text, size_t& pos, size_t count, int64_t& out) {
  if (pos + count > text.size()) {
    return false;
  }
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

}  // namespace

std::string format_iso_ms(int64_t epoch_ms) {
  const int64_t days = floor_div(epoch_ms, 86400000);
  const int64_t rem = epoch_ms - days * 86400000;
  const Civil c = civil_from_days(days);
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(c.year), c.month, c.day,
                static_cast<long long>(rem / 3600000), static_cast<long long>(rem / 60000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return buf.data();
}

std::string format_date(int64_t epoch_ms) {
  const Civil c = civil_from_days(floor_div(epoch_ms, 86400000));
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                c.day);
  return buf.data();
}

std::optional<int64_t> parse_iso(std::string_view text) {
  size_t pos = 0;
  int64_t year = 0;
  int64_t month = 0;
  int64_t day = 0;
  if (!read_digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  int64_t ms =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400000;
  if (pos == text.size()) {
    return ms;
  }
  if (text[pos] != 'T' && text[pos] != ' ') {
    return std::nullopt;
  }
  ++pos;
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t millis = 0;
  if (!read_digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !read_digits(text, pos, 2, minute) || hour > 23 || minute > 59) {
    return std::nullopt;
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!read_digits(text, pos, 2, second) || second > 60) {
      return std::nullopt;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100;
      size_t digits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
        if (digits < 3) {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
        }
        ++digits;
        ++pos;
      }
      if (digits == 0) {
        return std::nullopt;
      }
    }
  }
  ms += hour * 3600000 + minute * 60000 + second * 1000 + millis;
  if (pos == text.size()) {
    return ms;
  }
  if (text[pos] == 'Z' && pos + 1 == text.size()) {
    return ms;
  }
  if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    int64_t oh = 0;
    int64_t om = 0;
    if (!read_digits(text, pos, 2, oh)) {
      return std::nullopt;
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
    }
    if (!read_digits(text, pos, 2, om) || pos != text.size()) {
      return std::nullopt;
    }
    return ms - sign * (oh * 3600000 + om * 60000);
  }
  return std::nullopt;
}

}  // namespace emu
