#include "time_format.hpp"

#include <gtest/gtest.h>

namespace emu {
namespace {

TEST(TimeFormat, FormatsLikeAirtable) {
  EXPECT_EQ(format_iso_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso_ms(1709547330250), "2024-03-04T10:15:30.250Z");
  EXPECT_EQ(format_date(1709547330250), "2024-03-04");
  EXPECT_EQ(format_iso_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormat, ParsesIsoVariants) {
  EXPECT_EQ(parse_iso("2024-03-04T10:15:30.250Z"), 1709547330250);
  EXPECT_EQ(parse_iso("2024-03-04T10:15:30Z"), 1709547330000);
  EXPECT_EQ(parse_iso("2024-03-04T10:15"), 1709547300000);
  EXPECT_EQ(parse_iso("2024-03-04"), 1709510400000);
  EXPECT_EQ(parse_iso("2024-03-04T12:15:30.250+02:00"), 1709547330250);
  EXPECT_EQ(parse_iso("2024-03-04T10:15:30.2504Z"), 1709547330250);
  EXPECT_FALSE(parse_iso("2024-13-04"));
  EXPECT_FALSE(parse_iso("yesterday"));
  EXPECT_FALSE(parse_iso("2024-03-04T25:00"));
  EXPECT_FALSE(parse_iso("2024-03-04T10:15:30.Z"));
}

TEST(TimeFormat, RoundTrips) {
  for (int64_t ms : {0LL, 951782400000LL, 4102444799999LL, 1709547330250LL}) {
    EXPECT_EQ(parse_iso(format_iso_ms(ms)), ms);
  }
}

}  // namespace
}  // namespace emu
