// A read-only view of a parsed JSON document in simdjson's DOM tape layout (simdjson's
// doc/tape.md): one 64-bit word per value, its top byte the type; a string's word points into
// the string buffer (4-byte length, the bytes, a NUL); a number's value is the next word; '{'
// and '[' hold the index after their matching close and (saturated) their element count.
// Values are named by their index on the tape, so the converter's cell index is four bytes a
// cell and every read is one load from two pointers kept in registers.
//
// simdjson documents this layout but marks document::tape and document::string_buf as
// implementation details: this view depends on the simdjson Debian ships (3.0.1). The golden
// converter tests, short_copy_test.cpp and json_text_test.cpp (which compares with simdjson's
// own minify) fail if a newer simdjson changes it.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace airtable_lakeflow::convert {

// A key of up to 24 bytes (a field id, a struct member's name) kept as three zero-padded words
// and a mask per word, so that Tape::string_is compares it in three word compares. A longer key
// never matches.
struct ShortKey {
  static constexpr size_t kMaxSize = 24;
  std::array<uint64_t, 3> words{};
  std::array<uint64_t, 3> masks{};
  uint32_t size = UINT32_MAX;

  ShortKey() = default;
  explicit ShortKey(std::string_view key) {
    if (key.size() > kMaxSize) {
      return;
    }
    size = static_cast<uint32_t>(key.size());
    std::array<char, kMaxSize> bytes{};
    std::memcpy(bytes.data(), key.data(), key.size());
    std::memcpy(words.data(), bytes.data(), kMaxSize);
    std::array<unsigned char, kMaxSize> mask{};
    std::memset(mask.data(), 0xFF, key.size());
    std::memcpy(masks.data(), mask.data(), kMaxSize);
  }
};

// A string's length and first 24 bytes (bytes past its end are whatever the buffer holds), in
// scalars so that they stay in registers while compared with several keys.
struct KeyText {
  uint32_t size = 0;
  uint64_t word0 = 0;
  uint64_t word1 = 0;
  uint64_t word2 = 0;

  [[nodiscard]] bool is(const ShortKey& key) const {
    return size == key.size &&
           (((word0 ^ key.words[0]) & key.masks[0]) | ((word1 ^ key.words[1]) & key.masks[1]) |
            ((word2 ^ key.words[2]) & key.masks[2])) == 0;
  }
};

class Tape {
 public:
  static constexpr uint32_t kRoot = 1;  // the document's top value (word 0 is the root marker)
  static constexpr uint32_t kNone = 0;  // never a value's index

  explicit Tape(const simdjson::dom::document& document)
      : words_(document.tape.get()), strings_(document.string_buf.get()) {}

  // '{' '[' '"' 'l' (int64) 'u' (uint64) 'd' (double) 't' 'f' 'n'
  [[nodiscard]] char type(uint32_t at) const { return static_cast<char>(words_[at] >> 56); }
  [[nodiscard]] bool is_null(uint32_t at) const { return type(at) == 'n'; }

  // The string at `at` (type '"'). Its bytes lie in a buffer padded well past the last string
  // (simdjson sizes it for the worst case plus 64 bytes), so 32 bytes from data() or 8 from any
  // of its bytes can be read (see arrow::Buffer::append_padded and convert/json_text.cpp).
  [[nodiscard]] std::string_view string(uint32_t at) const {
    const uint8_t* entry = string_entry(at);
    return {reinterpret_cast<const char*>(entry + sizeof(uint32_t)), string_size(entry)};
  }
  // The string at `at` (type '"') as a key to compare with ShortKeys: its length and first 24
  // bytes, read from the padded string buffer into registers once.
  [[nodiscard]] KeyText key(uint32_t at) const {
    const uint8_t* entry = string_entry(at);
    KeyText out;
    out.size = string_size(entry);
    std::memcpy(&out.word0, entry + sizeof(uint32_t), sizeof(uint64_t));
    std::memcpy(&out.word1, entry + sizeof(uint32_t) + 8, sizeof(uint64_t));
    std::memcpy(&out.word2, entry + sizeof(uint32_t) + 16, sizeof(uint64_t));
    return out;
  }
  // Whether the string at `at` (type '"') is `key`.
  [[nodiscard]] bool string_is(uint32_t at, const ShortKey& key) const {
    return this->key(at).is(key);
  }
  [[nodiscard]] int64_t int64(uint32_t at) const { return static_cast<int64_t>(words_[at + 1]); }
  [[nodiscard]] uint64_t uint64(uint32_t at) const { return words_[at + 1]; }
  [[nodiscard]] double float64(uint32_t at) const {
    double value = 0;
    std::memcpy(&value, &words_[at + 1], sizeof(value));
    return value;
  }

  // The index of the value after the one at `at`.
  [[nodiscard]] uint32_t after(uint32_t at) const {
    const uint64_t word = words_[at];
    switch (static_cast<char>(word >> 56)) {
      case '{':
      case '[': return static_cast<uint32_t>(word);
      case 'l':
      case 'u':
      case 'd': return at + 2;
      default: return at + 1;
    }
  }
  // For '{' or '[': the index of the matching '}' or ']'; the members lie between.
  [[nodiscard]] uint32_t close(uint32_t at) const { return static_cast<uint32_t>(words_[at]) - 1; }
  // For '{' (key-value pairs) or '[' (items): how many.
  [[nodiscard]] uint32_t count(uint32_t at) const {
    const auto saturated = static_cast<uint32_t>((words_[at] >> 32) & kCount);
    if (saturated < kCount) {
      return saturated;
    }
    const bool object = type(at) == '{';
    uint32_t n = 0;
    for (uint32_t i = at + 1; i < close(at); i = after(object ? i + 1 : i)) {
      ++n;
    }
    return n;
  }
  // For '{': the value of the first `key`, or kNone.
  [[nodiscard]] uint32_t member(uint32_t object, std::string_view key) const {
    for (uint32_t k = object + 1; k < close(object); k = after(k + 1)) {
      if (string(k) == key) {
        return k + 1;
      }
    }
    return kNone;
  }

 private:
  // A string's entry in the string buffer: its 4-byte length, then its bytes.
  [[nodiscard]] const uint8_t* string_entry(uint32_t at) const {
    return strings_ + (words_[at] & kPayload);
  }
  static uint32_t string_size(const uint8_t* entry) {
    uint32_t size = 0;
    std::memcpy(&size, entry, sizeof(size));
    return size;
  }

  static constexpr uint64_t kPayload = 0x00FFFFFFFFFFFFFF;
  static constexpr uint64_t kCount = 0xFFFFFF;
  const uint64_t* words_;
  const uint8_t* strings_;
};

}  // namespace airtable_lakeflow::convert
