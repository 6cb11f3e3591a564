#include "airtable_lakeflow/schema/column_names.hpp"

#include <cctype>

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

}  // namespace

std::string column_name(const std::string& airtable_name) {
  std::string out;
  bool gap = false;
  for (const char c : airtable_name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || u >= 0x80) {
      if (gap && !out.empty()) {
        out.push_back('_');
      }
      gap = false;
      out.push_back(static_cast<char>(std::tolower(u)));
    } else {
      gap = true;  // spaces, punctuation, "_" and control characters
    }
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

}  // namespace airtable_lakeflow::schema
