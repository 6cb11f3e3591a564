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

void append_json_text(simdjson::dom::element value, std::string& out) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      const simdjson::dom::array items = value.get_array().value_unsafe();
      for (const simdjson::dom::element item : items) {
        if (!first) {
          out += ',';
        }
        first = false;
        append_json_text(item, out);
      }
      out += ']';
      return;
    }
    case element_type::OBJECT: {
      out += '{';
      bool first = true;
      const simdjson::dom::object members = value.get_object().value_unsafe();
      for (const auto [key, member] : members) {
        if (!first) {
          out += ',';
        }
        first = false;
        append_json_string(key, out);
        out += ':';
        append_json_text(member, out);
      }
      out += '}';
      return;
    }
    case element_type::STRING: append_json_string(value.get_string().value_unsafe(), out); return;
    case element_type::INT64: append_integer(value.get_int64().value_unsafe(), out); return;
    case element_type::UINT64: append_integer(value.get_uint64().value_unsafe(), out); return;
    case element_type::DOUBLE:
      out += simdjson::minify(value);  // simdjson's shortest text for doubles ("1.0", "1e-07")
      return;
    case element_type::BOOL: out += value.get_bool().value_unsafe() ? "true" : "false"; return;
    case element_type::NULL_VALUE: out += "null"; return;
  }
}

}  // namespace airtable_lakeflow::convert
