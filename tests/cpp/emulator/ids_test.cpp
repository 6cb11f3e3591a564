#include "ids.hpp"

#include <gtest/gtest.h>

#include <set>

namespace emu {
namespace {

TEST(Ids, AirtableShapeAndDeterminism) {
  IdGenerator a(42);
  IdGenerator b(42);
  IdGenerator c(43);
  const std::string first = a.next("rec");
  EXPECT_EQ(first, b.next("rec"));
  EXPECT_NE(first, c.next("rec"));
  EXPECT_TRUE(is_airtable_id(first, "rec"));
  EXPECT_EQ(first.size(), 17U);
  std::set<std::string> unique;
  for (int i = 0; i < 10000; ++i) {
    unique.insert(a.next("rec"));
  }
  EXPECT_EQ(unique.size(), 10000U);
}

TEST(Ids, Validation) {
  EXPECT_TRUE(is_airtable_id("rec8DwkNhFdnXsiVp", "rec"));
  EXPECT_FALSE(is_airtable_id("rec8DwkNhFdnXsiV", "rec"));
  EXPECT_FALSE(is_airtable_id("tbl8DwkNhFdnXsiVp", "rec"));
  EXPECT_FALSE(is_airtable_id("rec8DwkNhFdnXsi-p", "rec"));
  EXPECT_TRUE(is_personal_access_token(
      "patEmulatorToken1.0000000000000000000000000000000000000000000000000000000000000001"));
  EXPECT_FALSE(is_personal_access_token("keyABCDEFGHIJKLMN"));
  EXPECT_FALSE(is_personal_access_token(
      "patEmulatorToken1.000000000000000000000000000000000000000000000000000000000000000G"));
}

}  // namespace
}  // namespace emu
