#include "http_types.hpp"

#include <gtest/gtest.h>

namespace emu {
namespace {

TEST(HttpTypes, DecodesQueryStrings) {
  const QueryParams q = parse_query(
      "fields%5B%5D=Task%20Name&fields[]=Due+Date&sort%5B0%5D%5Bfield%5D=%F0%9F%9A%80&empty=&flag");
  ASSERT_EQ(q.size(), 5U);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"fields[]", "Task Name"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"fields[]", "Due Date"}));
  EXPECT_EQ(q[2].first, "sort[0][field]");
  EXPECT_EQ(q[2].second, "\xF0\x9F\x9A\x80");
  EXPECT_EQ(q[3].second, "");
  EXPECT_EQ(q[4].first, "flag");
}

TEST(HttpTypes, PathDecodingKeepsPlus) {
  EXPECT_EQ(url_decode("Packaging%20Tasks", false), "Packaging Tasks");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("100%", false), "100%");
  EXPECT_EQ(url_decode("%zz", false), "%zz");
}

// Regression (fuzzing): a name decoded from the URL that was not UTF-8 made every answer
// quoting it throw while serialising. Invalid sequences read as U+FFFD, as URLSearchParams does.
TEST(HttpTypes, DecodedBytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(url_decode("%C3%A9%F0%9F%93%A3", false), "\xC3\xA9\xF0\x9F\x93\xA3");
  EXPECT_EQ(url_decode("a%FFb", false), "a" + kFffd + "b");
  EXPECT_EQ(url_decode("%C3", true), kFffd);                        // cut short
  EXPECT_EQ(url_decode("%E2%82z", true), kFffd + "z");              // cut short, then read on
  EXPECT_EQ(url_decode("%C0%AF", true), kFffd + kFffd);             // overlong
  EXPECT_EQ(url_decode("%ED%A0%80", true), kFffd + kFffd + kFffd);  // a surrogate
  EXPECT_EQ(url_decode("%F4%90%80%80", true), kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  EXPECT_EQ(url_decode("\xFF", false), kFffd);  // raw, not percent-encoded
}

}  // namespace
}  // namespace emu
