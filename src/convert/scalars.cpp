#include "airtable_lakeflow/convert/scalars.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

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

// Days from 1970-01-01 to a proleptic Gregorian date of years 0-9999 into `out`, or false when
// there is no such day. Counted by whole 400-year eras (146,097 days each) from March 1st, so the
// leap day ends its year, one era early so that every number stays positive. Branch-free but for
// the answer: dates in a column rarely follow a pattern a branch predictor could learn.
[[gnu::always_inline]] inline bool civil_days(unsigned year, unsigned month, unsigned day,
                                              int32_t& out) {
  static constexpr std::array<unsigned, 13> kDaysIn = {0,  31, 28, 31, 30, 31, 30,
                                                       31, 31, 30, 31, 30, 31};
  const unsigned leap =
      static_cast<unsigned>((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0);
  const unsigned last = month <= 12 ? kDaysIn[month] + (leap & (month == 2)) : 0;
  const unsigned march_based = month > 2 ? month - 3 : month + 9;  // March = 0
  const unsigned y = year + 400 - (month <= 2 ? 1 : 0);            // one era early
  const unsigned era = y / 400;
  const unsigned year_of_era = y - era * 400;  // 0 … 399
  const unsigned day_of_year = (153 * march_based + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  constexpr int kEpochShift = 719468 + 146097;  // 0000-03-01 → 1970-01-01, and the early era
  out = static_cast<int32_t>(era * 146097 + day_of_era) - kEpochShift;
  return day - 1 < last;  // day 0 wraps around
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

// A fixed text layout such as "dddd-dd-dd": 'd' a digit, any other byte itself. Text of the
// layout's length is read as little-endian words and each word checked at once.
template <size_t kSize>
struct Layout {
  static constexpr size_t kWords = (kSize + 7) / 8;
  std::array<uint64_t, kWords> digits{};      // 0xFF at each digit
  std::array<uint64_t, kWords> separators{};  // 0xFF at each other byte
  std::array<uint64_t, kWords> expected{};    // the other bytes' values

  explicit constexpr Layout(const char (&pattern)[kSize + 1]) {
    for (size_t i = 0; i < kSize; ++i) {
      const unsigned shift = 8 * (i % 8);
      if (pattern[i] == 'd') {
        digits[i / 8] |= uint64_t{0xFF} << shift;
      } else {
        separators[i / 8] |= uint64_t{0xFF} << shift;
        expected[i / 8] |= uint64_t{static_cast<unsigned char>(pattern[i])} << shift;
      }
    }
  }

  // Word `w` of the layout checked: nonzero when a byte is off. `word` then holds each digit's
  // value 0-9 in its byte. Separator bytes are masked out of the digit test; a digit byte
  // carries into the next only from 0x8A up, where its own top bit already shows it.
  [[nodiscard]] constexpr uint64_t check(size_t w, uint64_t& word) const {
    constexpr uint64_t kZeros = 0x3030303030303030;
    constexpr uint64_t kOverNine = 0x7676767676767676;  // 0x0A + 0x76 sets the top bit
    constexpr uint64_t kTopBits = 0x8080808080808080;
    const uint64_t wrong_separator = (word & separators[w]) ^ expected[w];
    const uint64_t values = (word ^ kZeros) & digits[w];
    word = values;
    return wrong_separator | (((values + kOverNine) | values) & kTopBits & digits[w]);
  }
};

uint64_t load_word(const char* bytes) {
  uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof(word));
  return word;
}

// The digit at byte `at` of checked words, and the numbers written by two and four digits.
constexpr unsigned digit_at(const uint64_t* words, size_t at) {
  return static_cast<unsigned>((words[at / 8] >> (8 * (at % 8))) & 0xFF);
}
constexpr unsigned two_digits(const uint64_t* words, size_t at) {
  return digit_at(words, at) * 10 + digit_at(words, at + 1);
}
constexpr unsigned four_digits(const uint64_t* words, size_t at) {
  return two_digits(words, at) * 100 + two_digits(words, at + 2);
}

constexpr Layout<10> kDateLayout("dddd-dd-dd");
// What Airtable writes: milliseconds and Z.
constexpr Layout<24> kInstantLayout("dddd-dd-ddTdd:dd:dd.dddZ");

}  // namespace

bool parse_date(std::string_view text, int32_t& days) {
  if (text.size() != 10) {
    return false;
  }
  std::array<uint64_t, 2> words = {load_word(text.data()),
                                   uint64_t{static_cast<unsigned char>(text[8])} |
                                       uint64_t{static_cast<unsigned char>(text[9])} << 8};
  return (kDateLayout.check(0, words[0]) | kDateLayout.check(1, words[1])) == 0 &&
         civil_days(four_digits(words.data(), 0), two_digits(words.data(), 5),
                    two_digits(words.data(), 8), days);
}

namespace {

// Any other form than Airtable's own: a space for the T, 0-9 fraction digits, an offset.
[[gnu::noinline]] bool other_timestamp(std::string_view text, int64_t& out) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':' || !digits(text, 11, 2, hour) || !digits(text, 14, 2, minute) ||
      !digits(text, 17, 2, second) || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  int32_t days = 0;
  if (!parse_date(text.substr(0, 10), days)) {
    return false;
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
        return false;  // sub-microsecond precision would be lost
      }
    }
    if (count == 0) {
      return false;
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
      return false;
    }
    offset_s = (text[at] == '+' ? 1 : -1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
  } else {
    return false;
  }
  const int64_t seconds =
      int64_t{days} * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_s;
  out = seconds * 1'000'000 + micros;
  return true;
}

}  // namespace

bool parse_timestamp(std::string_view text, int64_t& micros) {
  if (text.size() != 24) {
    return other_timestamp(text, micros);
  }
  // Airtable's own form, read a word at a time.
  std::array<uint64_t, 3> words = {load_word(text.data()), load_word(text.data() + 8),
                                   load_word(text.data() + 16)};
  if ((kInstantLayout.check(0, words[0]) | kInstantLayout.check(1, words[1]) |
       kInstantLayout.check(2, words[2])) != 0) {
    return other_timestamp(text, micros);
  }
  const unsigned hour = two_digits(words.data(), 11);
  const unsigned minute = two_digits(words.data(), 14);
  const unsigned second = two_digits(words.data(), 17);
  int32_t days = 0;
  const bool valid = civil_days(four_digits(words.data(), 0), two_digits(words.data(), 5),
                                two_digits(words.data(), 8), days);
  const int64_t seconds =
      int64_t{days} * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second;
  const unsigned millis = two_digits(words.data(), 20) * 10 + digit_at(words.data(), 22);
  micros = seconds * 1'000'000 + int64_t{millis} * 1000;
  return valid & (hour <= 23) & (minute <= 59) & (second <= 59);
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
bool scaled_exactly(double number, int scale, int128& out) {
  static constexpr std::array<double, 19> kPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                                    1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                                    1e14, 1e15, 1e16, 1e17, 1e18};
  constexpr double kLimit = 4503599627370496.0;  // 2^52
  if (scale < 0 || scale > kMaxDigits) {
    return false;
  }
  // rint(v·10^k) when it is below 2^52 and reads back as v: adding and taking away 2^52 rounds
  // to the nearest integer, ties to even, as nearbyint does (without a call into libm: baseline
  // x86-64 has no rounding instruction).
  const auto exact_at = [number](int k, double& rounded) {
    const double power = kPow10[static_cast<size_t>(k)];
    const double scaled = number * power;
    if (!(std::fabs(scaled) < kLimit)) {
      return false;
    }
    const double magic = std::copysign(kLimit, scaled);
    rounded = (scaled + magic) - magic;
    return rounded / power == number;
  };
  double rounded = 0;
  const int widest = std::min(scale, static_cast<int>(kPow10.size()) - 1);
  if (widest == scale && std::fabs(number * kPow10[static_cast<size_t>(scale)]) < kLimit) {
    if (!exact_at(scale, rounded)) {
      return false;
    }
    out = static_cast<int64_t>(rounded);
    return true;
  }
  for (int k = 0; k <= widest; ++k) {
    if (exact_at(k, rounded)) {
      const auto n = static_cast<int128>(static_cast<int64_t>(rounded));
      const auto shift = static_cast<size_t>(scale - k);
      // |n| < 2^52 has at most 16 digits; with the shift it must stay within 38.
      if (n >= kPow10Exact[kMaxDigits - shift] || -n >= kPow10Exact[kMaxDigits - shift]) {
        return false;
      }
      out = n * kPow10Exact[shift];
      return true;
    }
    if (!(std::fabs(number * kPow10[static_cast<size_t>(k)]) < kLimit)) {
      break;
    }
  }
  return false;
}

bool scaled_integer(int64_t number, int scale, int128& out) {
  if (scale < 0 || scale > kMaxDigits) {
    return false;
  }
  const int128 n = number;
  const int128 limit = kPow10Exact[static_cast<size_t>(kMaxDigits - scale)];
  if (n >= limit || -n >= limit) {
    return false;  // more than 38 digits with the scale's zeros
  }
  out = n * kPow10Exact[static_cast<size_t>(scale)];
  return true;
}

std::string_view shortest_text(double value, char (&buffer)[32]) {
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string_view(buffer, end - buffer) : std::string_view();
}

}  // namespace airtable_lakeflow::convert
