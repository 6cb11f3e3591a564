#include "airtable_lakeflow/convert/scalars.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace airtable_lakeflow::convert {
namespace {

std::optional<int32_t> date(std::string_view text) {
  int32_t days = 0;
  return parse_date(text, days) ? std::optional<int32_t>(days) : std::nullopt;
}

std::optional<int64_t> instant(std::string_view text) {
  int64_t micros = 0;
  return parse_timestamp(text, micros) ? std::optional<int64_t>(micros) : std::nullopt;
}

std::optional<int128> exactly(double number, int scale) {
  int128 out = 0;
  return scaled_exactly(number, scale, out) ? std::optional<int128>(out) : std::nullopt;
}

std::optional<int128> integer(int64_t number, int scale) {
  int128 out = 0;
  return scaled_integer(number, scale, out) ? std::optional<int128>(out) : std::nullopt;
}

TEST(Scalars, Dates) {
  EXPECT_EQ(date("1970-01-01"), 0);
  EXPECT_EQ(date("2024-03-04"), 19786);
  EXPECT_EQ(date("1969-12-31"), -1);
  EXPECT_EQ(date("2024-02-29"), 19782);
  EXPECT_FALSE(date("2023-02-29"));  // not a leap year
  EXPECT_FALSE(date("2024-13-01"));
  EXPECT_FALSE(date("2024-3-4"));
  EXPECT_FALSE(date("not a date"));
}

// Every calendar day of years 0000 … 9999 against std::chrono's civil calendar, and the day
// after each month's last is refused.
TEST(Scalars, EveryDateAgreesWithTheCivilCalendar) {
  using namespace std::chrono;
  char text[16];
  int checked = 0;
  for (int y = 0; y <= 9999; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      const unsigned last =
          static_cast<unsigned>(year_month_day_last{year{y}, month_day_last{month{m}}}.day());
      for (unsigned d = 1; d <= last + 1; ++d) {
        std::snprintf(text, sizeof(text), "%04d-%02u-%02u", y, m, d);
        const auto days = date(text);
        if (d > last) {
          ASSERT_FALSE(days) << text;
          continue;
        }
        const auto expected = sys_days{year_month_day{year{y}, month{m}, day{d}}};
        ASSERT_EQ(days, expected.time_since_epoch().count()) << text;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3652425);  // 10,000 Gregorian years
  EXPECT_FALSE(date("2024-00-10"));
  EXPECT_FALSE(date("2024-01-00"));
  EXPECT_FALSE(date("2024-01-3a"));
  EXPECT_FALSE(date("2024/01/30"));
  EXPECT_FALSE(date("+024-01-30"));
}

// Random instants of years 0000-9999 read the same written as Airtable writes them and with a
// +00:00 offset.
TEST(Scalars, TimestampsWithAndWithoutOffsetAgree) {
  std::mt19937_64 random(7);
  char canonical[32];
  char with_offset[40];
  for (int i = 0; i < 200000; ++i) {
    const int year = static_cast<int>(random() % 10000);
    const int month = static_cast<int>(random() % 12) + 1;
    const int day = static_cast<int>(random() % 28) + 1;
    const int hour = static_cast<int>(random() % 24);
    const int minute = static_cast<int>(random() % 60);
    const int second = static_cast<int>(random() % 60);
    const int millis = static_cast<int>(random() % 1000);
    std::snprintf(canonical, sizeof(canonical), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, month,
                  day, hour, minute, second, millis);
    std::snprintf(with_offset, sizeof(with_offset), "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00",
                  year, month, day, hour, minute, second, millis);
    const auto fast = instant(canonical);
    ASSERT_TRUE(fast) << canonical;
    ASSERT_EQ(fast, instant(with_offset)) << canonical;
  }
  EXPECT_EQ(instant("2024-03-04 09:30:00.000Z"), instant("2024-03-04T09:30:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T24:00:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T09:60:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T09:30:60.000Z"));
  EXPECT_FALSE(instant("2024-03-04T09:30:00.0a0Z"));
  EXPECT_FALSE(instant("2024-02-30T09:30:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T0x:30:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T09:30:00.000z0"));
  EXPECT_FALSE(instant("2024-03-04T09:30:00,000Z"));
  EXPECT_FALSE(
      instant("2024-03-04T09:30:00.\xff"
              "00Z"));
}

// Airtable's own form is read a word at a time, any other form byte by byte: with any one byte
// of an instant changed, both read the same, the +00:00 form standing in for the other reader.
TEST(Scalars, InstantsWithAByteChangedReadTheSameEitherWay) {
  std::mt19937_64 random(11);
  const std::string alphabet("0123456789-:.TZz +/a\xff\0", 22);
  int valid = 0;
  for (int i = 0; i < 200000; ++i) {
    char text[32];
    std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
                  static_cast<int>(random() % 10000), static_cast<int>(random() % 13),
                  static_cast<int>(random() % 32), static_cast<int>(random() % 25),
                  static_cast<int>(random() % 61), static_cast<int>(random() % 61),
                  static_cast<int>(random() % 1000));
    std::string body(text);
    body[random() % body.size()] = alphabet[random() % alphabet.size()];
    const auto own = instant(body + "Z");
    ASSERT_EQ(own, instant(body + "+00:00")) << body;
    valid += own ? 1 : 0;
  }
  EXPECT_GT(valid, 20000);  // both outcomes were exercised
  EXPECT_LT(valid, 190000);
}

TEST(Scalars, Timestamps) {
  EXPECT_EQ(instant("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(instant("2024-03-04T09:30:00.000Z"), int64_t{1709544600} * 1'000'000);
  EXPECT_EQ(instant("2024-03-04T09:30:00Z"), int64_t{1709544600} * 1'000'000);
  EXPECT_EQ(instant("2024-03-04T09:30:00.123456Z"), int64_t{1709544600} * 1'000'000 + 123456);
  EXPECT_EQ(instant("2024-03-04T09:30:00.1234560Z"), int64_t{1709544600} * 1'000'000 + 123456);
  EXPECT_EQ(instant("2024-03-04T11:30:00.000+02:00"), int64_t{1709544600} * 1'000'000);
  EXPECT_EQ(instant("2024-03-04T04:00:00.000-05:30"), int64_t{1709544600} * 1'000'000);
  EXPECT_EQ(instant("1969-12-31T23:59:59.500Z"), -500'000);
  EXPECT_FALSE(instant("2024-03-04T09:30:00.1234567Z"));  // would lose a digit
  EXPECT_EQ(instant("2024-03-04 09:30:00.000Z"), instant("2024-03-04T09:30:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T24:00:00.000Z"));
  EXPECT_FALSE(instant("2024-03-04T09:30:00.000"));  // no zone: ambiguous
  EXPECT_FALSE(instant("2024-03-04"));
}

TEST(Scalars, DecimalsAreExactOrNothing) {
  EXPECT_EQ(scaled_decimal("1234.5", 2), 123450);
  EXPECT_EQ(scaled_decimal("-0.5", 2), -50);
  EXPECT_EQ(scaled_decimal("0", 2), 0);
  EXPECT_EQ(scaled_decimal("-0", 2), 0);
  EXPECT_EQ(scaled_decimal("100", 0), 100);
  EXPECT_EQ(scaled_decimal("1.50", 1), 15);  // trailing zeros are not precision
  EXPECT_EQ(scaled_decimal("1e-7", 8), 10);
  EXPECT_EQ(scaled_decimal("1.5E3", 0), 1500);
  EXPECT_EQ(scaled_decimal("2.5e+2", 0), 250);
  EXPECT_EQ(scaled_decimal("121.000000001", 18), int128{121000000001} * 1'000'000'000);
  EXPECT_FALSE(scaled_decimal("121.000000001", 2));  // never silently rounded
  EXPECT_FALSE(scaled_decimal("1.234", 2));
  EXPECT_FALSE(scaled_decimal("1e-19", 18));
  EXPECT_FALSE(scaled_decimal("1e40", 0));  // more than 38 digits
  const auto max = scaled_decimal("99999999999999999999.999999999999999999", 18);
  ASSERT_TRUE(max);
  EXPECT_FALSE(scaled_decimal("999999999999999999999.999999999999999999", 18));
  EXPECT_FALSE(scaled_decimal("abc", 2));
  EXPECT_FALSE(scaled_decimal("1.2.3", 2));
  EXPECT_FALSE(scaled_decimal("", 2));
}

TEST(Scalars, ShortestTextRoundTrips) {
  char buffer[32];
  EXPECT_EQ(shortest_text(0.1 + 0.2, buffer), "0.30000000000000004");
  EXPECT_EQ(shortest_text(121.000000001, buffer), "121.000000001");
  EXPECT_EQ(shortest_text(1e-7, buffer), "1e-07");
  EXPECT_EQ(scaled_decimal(shortest_text(1e-7, buffer), 8), 10);
}

}  // namespace
}  // namespace airtable_lakeflow::convert

namespace airtable_lakeflow::convert {
namespace {

// The fast path must agree with the exact text path whenever it answers.
TEST(Scalars, FastDecimalPathAgreesWithTheTextPath) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> digits(-99'999'999'999, 99'999'999'999);
  std::uniform_int_distribution<int> scales(0, 12);
  std::uniform_int_distribution<int> wide_scales(13, 38);  // formula results: scale 18 and more
  std::uniform_real_distribution<double> any(-1e9, 1e9);
  int answered = 0;
  for (int i = 0; i < 200'000; ++i) {
    const int scale = (i % 3 == 0) ? wide_scales(rng) : scales(rng);
    // Half decimals as Airtable stores them, half arbitrary doubles (formula results).
    const double number =
        (i % 2 == 0) ? static_cast<double>(digits(rng)) / std::pow(10.0, scales(rng)) : any(rng);
    const auto fast = exactly(number, scale);
    if (!fast) {
      continue;
    }
    ++answered;
    char buffer[32];
    const auto slow = scaled_decimal(shortest_text(number, buffer), scale);
    ASSERT_TRUE(slow) << number << " scale " << scale;
    ASSERT_TRUE(*fast == *slow) << number << " scale " << scale;
  }
  EXPECT_GT(answered, 20'000);
  EXPECT_EQ(exactly(0.1 + 0.2, 2), std::nullopt);  // 0.30000000000000004 needs 17
  EXPECT_EQ(exactly(1234.5, 2), int128{123450});
  EXPECT_EQ(exactly(-0.5, 2), int128{-50});
  EXPECT_EQ(exactly(121.000000001, 18), int128{121'000'000'001} * 1'000'000'000);
  EXPECT_EQ(exactly(0.1 + 0.2, 18), std::nullopt);  // answered by the text path
  EXPECT_EQ(exactly(1e20, 20), std::nullopt);       // too many digits for 38
}

// Integers take no text path: the same answer as the text of the integer.
TEST(Scalars, IntegerPathAgreesWithTheTextPath) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> scales(0, 40);
  const std::vector<int64_t> edges = {0, 1, -1, INT64_MAX, INT64_MIN, 9'999'999'999'999'999};
  for (int i = 0; i < 100'000; ++i) {
    const int64_t number = i < static_cast<int>(edges.size())
                               ? edges[static_cast<size_t>(i)]
                               : static_cast<int64_t>(rng()) >> (rng() % 63);
    const int scale = scales(rng);
    const std::string text = std::to_string(number);
    const auto slow = scale > 38 ? std::nullopt : scaled_decimal(text, scale);
    ASSERT_TRUE(integer(number, scale) == slow) << number << " scale " << scale;
  }
}

}  // namespace
}  // namespace airtable_lakeflow::convert
