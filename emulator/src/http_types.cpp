#include "http_types.hpp"

#include <cctype>

namespace emu {

std::string HttpRequest::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return {};
}

bool HttpRequest::has_param(const std::string& name) const {
  for (const auto& [key, value] : query) {
    if (key == name) {
      return true;
    }
  }
  return false;
}

std::string HttpRequest::param(const std::string& name) const {
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

std::vector<std::string> HttpRequest::params(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : query) {
    if (key == name) {
      out.push_back(value);
    }
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string valid_utf8(std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
      needed = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      needed = 2;
      lower = lead == 0xE0 ? 0xA0 : lower;  // no overlong forms
      upper = lead == 0xED ? 0x9F : upper;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      needed = 3;
      lower = lead == 0xF0 ? 0x90 : lower;
      upper = lead == 0xF4 ? 0x8F : upper;  // nothing past U+10FFFF
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k <= needed && i + k < bytes.size(); ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      if (next < lower || next > upper) {
        break;
      }
      lower = 0x80;
      upper = 0xBF;
    }
    if (k == needed + 1) {
      out.append(bytes.substr(i, k));
    } else {
      out += kReplacement;  // the byte that broke the sequence is read again
    }
    i += k;
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return valid_utf8(out);
}

QueryParams parse_query(std::string_view query) {
  QueryParams out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    const std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(url_decode(part, true), "");
      } else {
        out.emplace_back(url_decode(part.substr(0, eq), true),
                         url_decode(part.substr(eq + 1), true));
      }
    }
    start = end + 1;
  }
  return out;
}

}  // namespace emu
