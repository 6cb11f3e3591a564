// The converter's hand-made short-string primitives: every length around the word sizes, a
// difference at every position.
#include <gtest/gtest.h>

#include <string>

#include "airtable_lakeflow/arrow/buffer.hpp"
#include "airtable_lakeflow/convert/short_equal.hpp"

namespace airtable_lakeflow {
namespace {

std::string text_of_length(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += static_cast<char>('a' + i % 26);
  }
  return out;
}

TEST(ShortEqual, EveryLengthAndEveryPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string a = text_of_length(n);
    std::string b = a;
    EXPECT_TRUE(convert::short_equal(a, b)) << n;
    EXPECT_FALSE(convert::short_equal(a, a + "x")) << n;
    for (size_t i = 0; i < n; ++i) {
      b[i] = '#';
      EXPECT_FALSE(convert::short_equal(a, b)) << n << " at " << i;
      b[i] = a[i];
    }
  }
}

TEST(Buffer, AppendsEveryLengthExactly) {
  arrow::Buffer buffer;
  std::string want;
  for (size_t n = 0; n <= 70; ++n) {
    const std::string piece = text_of_length(n);
    buffer.append(piece.data(), piece.size());
    want += piece;
  }
  ASSERT_EQ(buffer.size(), want.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()), want);
}

}  // namespace
}  // namespace airtable_lakeflow
