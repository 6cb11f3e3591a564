// Equality of short strings (JSON keys, 17-byte field ids) without a call into memcmp: eight
// bytes at a time, the tail as one overlapping word, short keys as two overlapping words;
// nothing is read outside either string.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace airtable_lakeflow::convert {

namespace detail {

template <typename Word>
inline bool word_equal(const char* a, const char* b) {
  Word x;
  Word y;
  std::memcpy(&x, a, sizeof(Word));
  std::memcpy(&y, b, sizeof(Word));
  return x == y;
}

}  // namespace detail

inline bool short_equal(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) {
    return false;
  }
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (!detail::word_equal<uint64_t>(a.data() + i, b.data() + i)) {
        return false;
      }
    }
    return detail::word_equal<uint64_t>(a.data() + n - 8, b.data() + n - 8);
  }
  if (n >= 4) {
    return detail::word_equal<uint32_t>(a.data(), b.data()) &&
           detail::word_equal<uint32_t>(a.data() + n - 4, b.data() + n - 4);
  }
  return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

}  // namespace airtable_lakeflow::convert
