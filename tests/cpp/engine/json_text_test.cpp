#include "airtable_lakeflow/convert/json_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace airtable_lakeflow::convert {
namespace {

std::string text_of(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::document document;
  simdjson::dom::element value = parser.parse_into_document(document, json);
  arrow::Buffer out;
  append_json_text(Tape(document), Tape::kRoot, out);
  EXPECT_EQ(out.text(), simdjson::minify(value)) << json;
  return std::string(out.text());
}

// The engine's JSON text must be simdjson::minify's text: golden files hold it.
TEST(JsonText, MatchesSimdjsonMinify) {
  const std::vector<std::string> documents = {
      R"({"kind":"mystery","n":0})",
      R"( [ 1 , -2 , 18446744073709551615 , -9223372036854775808 , 1.5 , 1e-7 , 100.0 ] )",
      R"({"quote":"say \"hi\"","slash":"a\\b","controls":"\b\f\n\r\t\u0001\u001f"})",
      R"({"unicode":"ünïcode ✓ 😀","empty":"","nested":{"a":[{},[],null,true,false]}})",
      R"("just a string")",
      R"(null)",
      R"({"key with \"quotes\"":1})",
      R"([0.1, -0.0, 1e300, 5e-324, 1.2345678901234567e29, 3.0, -7])",
      R"({"a":{"b":{"c":[[[]],{"d":[1,{"e":null}]}]}},"f":[true,false]})",
  };
  for (const std::string& document : documents) {
    text_of(document);
  }
  EXPECT_EQ(text_of(R"({"a" : [1, "x\u0002"]})"), R"({"a":[1,"x\u0002"]})");
}

// Strings are searched for characters to escape eight bytes at a time: escapes at every place
// in and across those words, in keys and values, of strings of every length up to 40.
TEST(JsonText, EscapesAnywhereInLongAndShortStrings) {
  std::mt19937 random(5);
  const std::vector<std::string> pieces = {"a",       "é", "\\\"", "\\\\", "\\n", "\\u0001",
                                           "\\u001f", "~", " ",    "\\t",  "✓"};
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const size_t length = random() % 41;
    while (text.size() < length) {
      text += pieces[random() % pieces.size()];
    }
    text_of("{\"" + text + "\":\"" + text + "\"}");
    text_of("[\"" + text + "\"," + std::to_string(i) + "]");
  }
}

TEST(JsonText, QuotesKeysLikeJson) {
  arrow::Buffer out;
  append_json_string("fld\"x\\\n\x7f", out);
  EXPECT_EQ(out.text(), "\"fld\\\"x\\\\\\n\x7f\"");
}

}  // namespace
}  // namespace airtable_lakeflow::convert
