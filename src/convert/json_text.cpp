#include "airtable_lakeflow/convert/json_text.hpp"

#include <array>
#include <charconv>

namespace airtable_lakeflow::convert {

namespace {

constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> out{};
  for (size_t c = 0; c < 0x20; ++c) {
    out[c] = true;
  }
  out['"'] = true;
  out['\\'] = true;
  return out;
}();

template <typename Integer>
void append_integer(Integer value, std::string& out) {
  char buffer[24];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  out += '"';
  size_t plain = 0;  // start of the run of characters that need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) {
      continue;
    }
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default: {
        constexpr const char* kHex = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof(escaped));
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

void append_json_text(const Tape& tape, uint32_t at, std::string& out) {
  switch (tape.type(at)) {
    case '[': {
      out += '[';
      const uint32_t close = tape.close(at);
      for (uint32_t item = at + 1; item < close; item = tape.after(item)) {
        if (item != at + 1) {
          out += ',';
        }
        append_json_text(tape, item, out);
      }
      out += ']';
      return;
    }
    case '{': {
      out += '{';
      const uint32_t close = tape.close(at);
      for (uint32_t key = at + 1; key < close; key = tape.after(key + 1)) {
        if (key != at + 1) {
          out += ',';
        }
        append_json_string(tape.string(key), out);
        out += ':';
        append_json_text(tape, key + 1, out);
      }
      out += '}';
      return;
    }
    case '"': append_json_string(tape.string(at), out); return;
    case 'l': append_integer(tape.int64(at), out); return;
    case 'u': append_integer(tape.uint64(at), out); return;
    case 'd': {
      // simdjson's own shortest text for doubles ("1.0", "1e-07"), which minify writes too.
      char buffer[32];
      const char* end = simdjson::internal::to_chars(buffer, nullptr, tape.float64(at));
      out.append(buffer, static_cast<size_t>(end - buffer));
      return;
    }
    case 't': out += "true"; return;
    case 'f': out += "false"; return;
    default: out += "null"; return;
  }
}

}  // namespace airtable_lakeflow::convert
