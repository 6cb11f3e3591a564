#include "airtable_lakeflow/convert/json_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace airtable_lakeflow::convert {

namespace {

using Appender = arrow::Buffer::Appender;

constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> out{};
  for (size_t c = 0; c < 0x20; ++c) {
    out[c] = true;
  }
  out['"'] = true;
  out['\\'] = true;
  return out;
}();

void put(Appender& out, char c) { out.put(c); }
template <size_t kSize>
void put(Appender& out, const char (&text)[kSize]) {
  out.append(text, kSize - 1);
}

// Number text written into `buffer` up to `end`: never longer than the buffer, which the
// compiler is told too (it would otherwise warn about the long-copy path it cannot rule out).
template <size_t kSize>
void put_chars(Appender& out, const char (&buffer)[kSize], const char* end) {
  out.append(buffer, std::min(static_cast<size_t>(end - buffer), kSize));
}

template <typename Integer>
void put_integer(Appender& out, Integer value) {
  char buffer[24];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  put_chars(out, buffer, end);
}

void put_string(Appender& out, std::string_view text) {
  put(out, '"');
  size_t plain = 0;  // start of the run of characters that need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) {
      continue;
    }
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': put(out, "\\\""); break;
      case '\\': put(out, "\\\\"); break;
      case '\b': put(out, "\\b"); break;
      case '\t': put(out, "\\t"); break;
      case '\n': put(out, "\\n"); break;
      case '\f': put(out, "\\f"); break;
      case '\r': put(out, "\\r"); break;
      default: {
        constexpr const char* kHex = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof(escaped));
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  put(out, '"');
}

void put_value(Appender& out, const Tape& tape, uint32_t at) {
  switch (tape.type(at)) {
    case '[': {
      put(out, '[');
      const uint32_t close = tape.close(at);
      for (uint32_t item = at + 1; item < close; item = tape.after(item)) {
        if (item != at + 1) {
          put(out, ',');
        }
        put_value(out, tape, item);
      }
      put(out, ']');
      return;
    }
    case '{': {
      put(out, '{');
      const uint32_t close = tape.close(at);
      for (uint32_t key = at + 1; key < close; key = tape.after(key + 1)) {
        if (key != at + 1) {
          put(out, ',');
        }
        put_string(out, tape.string(key));
        put(out, ':');
        put_value(out, tape, key + 1);
      }
      put(out, '}');
      return;
    }
    case '"': put_string(out, tape.string(at)); return;
    case 'l': put_integer(out, tape.int64(at)); return;
    case 'u': put_integer(out, tape.uint64(at)); return;
    case 'd': {
      // simdjson's own shortest text for doubles ("1.0", "1e-07"), which minify writes too.
      char buffer[32];
      put_chars(out, buffer, simdjson::internal::to_chars(buffer, nullptr, tape.float64(at)));
      return;
    }
    case 't': put(out, "true"); return;
    case 'f': put(out, "false"); return;
    default: put(out, "null"); return;
  }
}

}  // namespace

void append_json_string(std::string_view text, arrow::Buffer& out) {
  Appender appender(out);
  put_string(appender, text);
}

void append_json_text(const Tape& tape, uint32_t at, arrow::Buffer& out) {
  Appender appender(out);
  put_value(appender, tape, at);
}

}  // namespace airtable_lakeflow::convert
