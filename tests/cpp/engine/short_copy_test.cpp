// The converter's hand-made short-string primitives: every length around the word sizes, a
// difference at every position, read from a real parsed document's padded string buffer.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "airtable_lakeflow/arrow/array_builder.hpp"
#include "airtable_lakeflow/arrow/buffer.hpp"
#include "airtable_lakeflow/convert/tape.hpp"

namespace airtable_lakeflow {
namespace {

std::string text_of_length(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += static_cast<char>('a' + i % 26);
  }
  return out;
}

// A JSON array of the given strings, parsed; the strings are items 2, 3, … on the tape.
struct Parsed {
  explicit Parsed(const std::vector<std::string>& items) {
    std::string json = "[";
    for (const std::string& item : items) {
      json += (json.size() > 1 ? ",\"" : "\"") + item + "\"";
    }
    json += "]";
    if (parser.parse_into_document(document, json).error() != simdjson::SUCCESS) {
      throw std::runtime_error("test JSON does not parse");
    }
  }
  simdjson::dom::parser parser;
  simdjson::dom::document document;
};

TEST(ShortKey, EveryLengthAndEveryPosition) {
  for (size_t n = 0; n <= convert::ShortKey::kMaxSize; ++n) {
    const std::string a = text_of_length(n);
    std::vector<std::string> items = {a, a + "x"};
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = '#';
      items.push_back(b);
    }
    const Parsed parsed(items);
    const convert::Tape tape(parsed.document);
    const convert::ShortKey key(a);
    EXPECT_TRUE(tape.string_is(2, key)) << n;
    EXPECT_FALSE(tape.string_is(3, key)) << n;
    for (uint32_t i = 0; i < n; ++i) {
      EXPECT_FALSE(tape.string_is(4 + i, key)) << n << " at " << i;
    }
  }
  // A key too long to hold never matches, not even itself.
  const std::string long_key = text_of_length(convert::ShortKey::kMaxSize + 1);
  const Parsed parsed({long_key});
  EXPECT_FALSE(convert::Tape(parsed.document).string_is(2, convert::ShortKey(long_key)));
}

TEST(StringBuilder, AppendsPaddedStringsOfEveryLengthExactly) {
  std::vector<std::string> items;
  for (size_t n = 0; n <= 70; ++n) {
    items.push_back(text_of_length(n));
  }
  const Parsed parsed(items);
  const convert::Tape tape(parsed.document);
  arrow::StringBuilder builder;
  builder.append_column<true>(static_cast<uint32_t>(items.size()), [&tape](uint32_t i) {
    return std::optional<std::string_view>(tape.string(2 + i));
  });
  ArrowArray array{};
  builder.finish(&array);
  const auto* offsets = static_cast<const int32_t*>(array.buffers[1]);
  const auto* data = static_cast<const char*>(array.buffers[2]);
  ASSERT_EQ(array.length, static_cast<int64_t>(items.size()));
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(std::string(data + offsets[i], data + offsets[i + 1]), items[i]) << i;
  }
  array.release(&array);
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
