#include "airtable_lakeflow/schema/column_names.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace airtable_lakeflow::schema {

namespace {

std::string lower(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Cuts at most `limit` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(const std::string& text, size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) {
    --end;
  }
  return text.substr(0, end);
}

// Letters of the scripts people name fields in (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic,
// CJK, Hangul) stay; symbols and emoji (U+2000 and up, outside CJK and Hangul) become gaps.
bool keep_code_point(uint32_t cp) {
  return cp < 0x2000 || (cp >= 0x3040 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF);
}

// Decodes the UTF-8 sequence at `at`; returns its length (1 for a stray byte).
size_t decode_utf8(const std::string& text, size_t at, uint32_t& cp) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (at + length > text.size() || length == 1) {
    cp = 0xFFFD;
    return 1;
  }
  cp = lead & (0x7FU >> length);
  for (size_t i = 1; i < length; ++i) {
    cp = (cp << 6U) | (static_cast<unsigned char>(text[at + i]) & 0x3FU);
  }
  return length;
}

}  // namespace

std::string column_name(const std::string& airtable_name) {
  std::string out;
  bool gap = false;
  for (size_t at = 0; at < airtable_name.size();) {
    const auto u = static_cast<unsigned char>(airtable_name[at]);
    size_t length = 1;
    bool keep = std::isalnum(u) != 0;
    if (u >= 0x80) {
      uint32_t cp = 0;
      length = decode_utf8(airtable_name, at, cp);
      keep = keep_code_point(cp);
    }
    if (keep) {
      if (gap && !out.empty()) {
        out.push_back('_');
      }
      gap = false;
      for (size_t i = 0; i < length; ++i) {
        out.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>(airtable_name[at + i]))));
      }
    } else {
      gap = true;  // spaces, punctuation, "_", symbols, emoji and control characters
    }
    at += length;
  }
  out = cut_utf8(out, kMaxColumnName);
  while (!out.empty() && out.back() == '_') {
    out.pop_back();
  }
  return out.empty() ? "field" : out;
}

std::string NameAllocator::take(const std::string& wanted) {
  std::string name = wanted;
  for (int n = 2; taken_.count(lower(name)) > 0; ++n) {
    const std::string suffix = "_" + std::to_string(n);
    name = cut_utf8(wanted, kMaxColumnName - suffix.size()) + suffix;
  }
  taken_.insert(lower(name));
  return name;
}

std::vector<std::string> column_names(const std::vector<NamedField>& fields,
                                      const std::vector<std::string>& reserved) {
  NameAllocator names;
  for (const std::string& name : reserved) {
    names.take(name);
  }
  std::vector<size_t> order(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return fields[a].id < fields[b].id; });
  std::vector<std::string> wanted(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    wanted[i] = column_name(fields[i].name);
  }
  std::vector<std::string> out(fields.size());
  for (const bool exact : {true, false}) {
    for (const size_t i : order) {
      if (out[i].empty() && (wanted[i] == fields[i].name) == exact) {
        out[i] = names.take(wanted[i]);
      }
    }
  }
  return out;
}

}  // namespace airtable_lakeflow::schema
