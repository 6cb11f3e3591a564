#include "airtable_lakeflow/convert/scalars.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace airtable_lakeflow::convert {

namespace {

bool digits(std::string_view text, size_t at, size_t count, int& out) {
  if (at + count > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    const auto digit = static_cast<unsigned>(text[i]) - '0';
    if (digit > 9) {
      return false;
    }
    value = value * 10 + static_cast<int>(digit);
  }
  out = value;
  return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date, by whole 400-year eras (146,097 days
// each) counted from March 1st, so the leap day ends its year; plain arithmetic, no tables.
std::optional<int32_t> civil_days(int year, int month, int day) {
  constexpr int kDaysIn[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) {
    return std::nullopt;
  }
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  if (day > kDaysIn[month - 1] + (month == 2 && leap ? 1 : 0)) {
    return std::nullopt;
  }
  const int y = month <= 2 ? year - 1 : year;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int year_of_era = y - era * 400;  // 0 … 399
  const int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  constexpr int kEpochShift = 719468;  // 0000-03-01 → 1970-01-01
  return era * 146097 + day_of_era - kEpochShift;
}

constexpr int kMaxDigits = 38;

// 10^0 … 10^38, exactly.
constexpr auto kPow10Exact = [] {
  std::array<int128, kMaxDigits + 1> out{};
  out[0] = 1;
  for (size_t i = 1; i < out.size(); ++i) {
    out[i] = out[i - 1] * 10;
  }
  return out;
}();

}  // namespace

std::optional<int32_t> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  // Fixed places: every digit checked at once, no loop.
  const auto digit = [&text](size_t i) { return static_cast<unsigned char>(text[i]) - 48U; };
  const unsigned y0 = digit(0), y1 = digit(1), y2 = digit(2), y3 = digit(3);
  const unsigned m0 = digit(5), m1 = digit(6), d0 = digit(8), d1 = digit(9);
  if ((y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) | (m0 > 9) | (m1 > 9) | (d0 > 9) | (d1 > 9)) {
    return std::nullopt;
  }
  return civil_days(static_cast<int>(((y0 * 10 + y1) * 10 + y2) * 10 + y3),
                    static_cast<int>(m0 * 10 + m1), static_cast<int>(d0 * 10 + d1));
}

std::optional<int64_t> parse_timestamp(std::string_view text) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':' || !digits(text, 11, 2, hour) || !digits(text, 14, 2, minute) ||
      !digits(text, 17, 2, second) || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const auto days = parse_date(text.substr(0, 10));
  if (!days) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int count = 0;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++count) {
      if (count < 6) {
        micros = micros * 10 + (text[at] - '0');
      } else if (text[at] != '0') {
        return std::nullopt;  // sub-microsecond precision would be lost
      }
    }
    if (count == 0) {
      return std::nullopt;
    }
    for (; count < 6; ++count) {
      micros *= 10;
    }
  }
  int64_t offset_s = 0;
  if (at + 1 == text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int oh = 0;
    int om = 0;
    if (!digits(text, at + 1, 2, oh) || !digits(text, at + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (text[at] == '+' ? 1 : -1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
  } else {
    return std::nullopt;
  }
  const int64_t seconds =
      int64_t{*days} * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_s;
  return seconds * 1'000'000 + micros;
}

std::optional<int128> scaled_decimal(std::string_view text, int scale) {
  size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) {
    ++at;
  }
  int128 mantissa = 0;
  int mantissa_digits = 0;  // significant digits kept in `mantissa`
  int exponent = 0;         // value = mantissa × 10^exponent
  bool any = false;
  bool seen_point = false;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    if (c >= '0' && c <= '9') {
      any = true;
      if (mantissa == 0 && c == '0') {
        if (seen_point) {
          --exponent;  // leading zeros after the point only move the exponent
        }
        continue;
      }
      if (mantissa_digits >= kMaxDigits) {
        return std::nullopt;
      }
      mantissa = mantissa * 10 + (c - '0');
      ++mantissa_digits;
      if (seen_point) {
        --exponent;
      }
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any) {
    return std::nullopt;
  }
  if (at < text.size()) {
    if (text[at] != 'e' && text[at] != 'E') {
      return std::nullopt;
    }
    int explicit_exponent = 0;
    const char* begin = text.data() + at + 1;
    if (begin < text.data() + text.size() && *begin == '+') {
      ++begin;
    }
    const auto [end, error] = std::from_chars(begin, text.data() + text.size(), explicit_exponent);
    if (error != std::errc() || end != text.data() + text.size()) {
      return std::nullopt;
    }
    exponent += explicit_exponent;
  }
  if (mantissa == 0) {
    return int128{0};
  }
  // Drop trailing zeros of the mantissa (they are not precision).
  while (mantissa % 10 == 0) {
    mantissa /= 10;
    --mantissa_digits;
    ++exponent;
  }
  const int shift = exponent + scale;  // value × 10^scale = mantissa × 10^shift
  if (shift < 0 || mantissa_digits + shift > kMaxDigits) {
    return std::nullopt;
  }
  const int128 out = mantissa * kPow10Exact[static_cast<size_t>(shift)];
  return negative ? -out : out;
}

// The common case without text. If n = rint(v·10^k) has |n| < 2^52 and n / 10^k == v, then
// n·10^-k is the only decimal with k fraction digits that reads back as v (its neighbours are
// 10^-k apart, more than v's rounding interval), so the smallest such k gives the value of the
// shortest text. Tried first at k = scale (one step for most cells), then upwards from 0 when
// v·10^scale is too large for the check (wide scales such as formula results).
std::optional<int128> scaled_exactly(double number, int scale) {
  static constexpr std::array<double, 19> kPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                                    1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                                    1e14, 1e15, 1e16, 1e17, 1e18};
  constexpr double kLimit = 4503599627370496.0;  // 2^52
  if (scale < 0 || scale > kMaxDigits) {
    return std::nullopt;
  }
  const auto exact_at = [number](int k) -> std::optional<double> {
    const double power = kPow10[static_cast<size_t>(k)];
    const double scaled = number * power;
    if (!(std::fabs(scaled) < kLimit)) {
      return std::nullopt;
    }
    const double rounded = std::nearbyint(scaled);
    return rounded / power == number ? std::optional<double>(rounded) : std::nullopt;
  };
  const int widest = std::min(scale, static_cast<int>(kPow10.size()) - 1);
  if (widest == scale && std::fabs(number * kPow10[static_cast<size_t>(scale)]) < kLimit) {
    const auto rounded = exact_at(scale);
    return rounded ? std::optional<int128>(static_cast<int64_t>(*rounded)) : std::nullopt;
  }
  for (int k = 0; k <= widest; ++k) {
    if (const auto rounded = exact_at(k)) {
      const auto n = static_cast<int128>(static_cast<int64_t>(*rounded));
      const auto shift = static_cast<size_t>(scale - k);
      // |n| < 2^52 has at most 16 digits; with the shift it must stay within 38.
      if (n >= kPow10Exact[kMaxDigits - shift] || -n >= kPow10Exact[kMaxDigits - shift]) {
        return std::nullopt;
      }
      return n * kPow10Exact[shift];
    }
    if (!(std::fabs(number * kPow10[static_cast<size_t>(k)]) < kLimit)) {
      break;
    }
  }
  return std::nullopt;
}

std::optional<int128> scaled_integer(int64_t number, int scale) {
  if (scale < 0 || scale > kMaxDigits) {
    return std::nullopt;
  }
  const int128 n = number;
  const int128 limit = kPow10Exact[static_cast<size_t>(kMaxDigits - scale)];
  if (n >= limit || -n >= limit) {
    return std::nullopt;  // more than 38 digits with the scale's zeros
  }
  return n * kPow10Exact[static_cast<size_t>(scale)];
}

std::string_view shortest_text(double value, char (&buffer)[32]) {
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string_view(buffer, end - buffer) : std::string_view();
}

}  // namespace airtable_lakeflow::convert
