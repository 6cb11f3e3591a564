#include "airtable_lakeflow/convert/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace airtable_lakeflow::convert {

namespace {

// The buffer being written, through a cursor that each writer takes and returns moved on, so
// that it stays in a register (an appender's own size, kept in memory, would make every write
// wait for the store of the one before). Room is made ahead of each piece.
class Out {
 public:
  explicit Out(arrow::Buffer& buffer) : buffer_(buffer) {}
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  // The cursor at the buffer's end.
  char* start() {
    end_ = base() + buffer_.capacity();
    return base() + buffer_.size();
  }
  // `at` with room for `n` bytes from it (the buffer may move).
  char* room(char* at, size_t n) { return n <= static_cast<size_t>(end_ - at) ? at : grow(at, n); }
  // The buffer ends at `at`.
  void finish(const char* at) { buffer_.set_size(static_cast<size_t>(at - base())); }

 private:
  char* base() { return reinterpret_cast<char*>(buffer_.data()); }
  [[gnu::noinline]] char* grow(char* at, size_t n) {
    const auto used = static_cast<size_t>(at - base());
    buffer_.set_size(used);
    buffer_.reserve(std::max({used + n, 2 * buffer_.capacity(), size_t{256}}));
    end_ = base() + buffer_.capacity();
    return base() + used;
  }

  arrow::Buffer& buffer_;
  char* end_ = nullptr;
};

template <size_t kSize>
char* put(Out& out, char* at, const char (&text)[kSize]) {
  at = out.room(at, kSize - 1);
  std::memcpy(at, text, kSize - 1);
  return at + kSize - 1;
}
char* put(Out& out, char* at, char c) {
  at = out.room(at, 1);
  *at = c;
  return at + 1;
}

template <typename Integer>
char* put_integer(Out& out, char* at, Integer value) {
  constexpr size_t kMost = 20;  // digits of 2^64, or a sign and 19 digits
  at = out.room(at, kMost);
  return std::to_chars(at, at + kMost, value).ptr;
}

// A control character, '"' or '\' escaped; room for 6 bytes made by the caller.
char* put_escaped(char* at, unsigned char c) {
  const char* short_form = nullptr;
  switch (c) {
    case '"': short_form = "\\\""; break;
    case '\\': short_form = "\\\\"; break;
    case '\b': short_form = "\\b"; break;
    case '\t': short_form = "\\t"; break;
    case '\n': short_form = "\\n"; break;
    case '\f': short_form = "\\f"; break;
    case '\r': short_form = "\\r"; break;
    default: {
      constexpr const char* kHex = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      std::memcpy(at, escaped, sizeof(escaped));
      return at + sizeof(escaped);
    }
  }
  std::memcpy(at, short_form, 2);
  return at + 2;
}

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Where the first byte of the 8 in `word` that needs an escape is, as its bit position (a
// multiple of 8), or 64 when none does. Each test is exact at its lowest flagged byte (a borrow
// only flags bytes above a real one), so their lowest is too.
int first_to_escape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kTops = 0x8080808080808080;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  const uint64_t flags = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                          ((word - kOnes * 0x20) & ~word)) &
                         kTops;
  return flags == 0 ? 64 : __builtin_ctzll(flags);
}

// `text` quoted, with room for its longest escaped form made once. kPadded: 8 bytes can be read
// from anywhere in `text` (a JSON parser's padded string buffer), so it is searched a word at a
// time.
template <bool kPadded>
char* put_string(Out& out, char* at, std::string_view text) {
  constexpr size_t kEscapedMost = 6;  // \u00XX
  at = out.room(at, text.size() * kEscapedMost + 2);
  *at++ = '"';
  size_t plain = 0;  // start of the run of characters that need no escape
  for (size_t i = 0; i < text.size();) {
    size_t escape = i;
    if constexpr (kPadded) {
      uint64_t word = 0;
      std::memcpy(&word, text.data() + i, sizeof(word));
      escape = i + static_cast<size_t>(first_to_escape(word) / 8);
      if (escape >= i + 8) {
        i += 8;
        continue;
      }
      if (escape >= text.size()) {
        break;
      }
    } else if (!needs_escape(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::memcpy(at, text.data() + plain, escape - plain);
    at = put_escaped(at + (escape - plain), static_cast<unsigned char>(text[escape]));
    plain = escape + 1;
    i = escape + 1;
  }
  std::memcpy(at, text.data() + plain, text.size() - plain);
  at += text.size() - plain;
  *at++ = '"';
  return at;
}

char* put_value(Out& out, char* at, const Tape& tape, uint32_t value) {
  switch (tape.type(value)) {
    case '[': {
      at = put(out, at, '[');
      const uint32_t close = tape.close(value);
      for (uint32_t item = value + 1; item < close; item = tape.after(item)) {
        if (item != value + 1) {
          at = put(out, at, ',');
        }
        at = put_value(out, at, tape, item);
      }
      return put(out, at, ']');
    }
    case '{': {
      at = put(out, at, '{');
      const uint32_t close = tape.close(value);
      for (uint32_t key = value + 1; key < close; key = tape.after(key + 1)) {
        if (key != value + 1) {
          at = put(out, at, ',');
        }
        at = put_string<true>(out, at, tape.string(key));
        at = put(out, at, ':');
        at = put_value(out, at, tape, key + 1);
      }
      return put(out, at, '}');
    }
    case '"': return put_string<true>(out, at, tape.string(value));
    case 'l': return put_integer(out, at, tape.int64(value));
    case 'u': return put_integer(out, at, tape.uint64(value));
    case 'd': {
      // simdjson's own shortest text for doubles ("1.0", "1e-07"), which minify writes too.
      constexpr size_t kMost = 32;
      at = out.room(at, kMost);
      return simdjson::internal::to_chars(at, nullptr, tape.float64(value));
    }
    case 't': return put(out, at, "true");
    case 'f': return put(out, at, "false");
    default: return put(out, at, "null");
  }
}

}  // namespace

void append_json_string(std::string_view text, arrow::Buffer& out) {
  Out writer(out);
  writer.finish(put_string<false>(writer, writer.start(), text));
}

void append_json_text(const Tape& tape, uint32_t at, arrow::Buffer& out) {
  Out writer(out);
  writer.finish(put_value(writer, writer.start(), tape, at));
}

}  // namespace airtable_lakeflow::convert
