// Equality of short strings (JSON keys, 17-byte field ids) without a call into memcmp: eight
// bytes at a time, then the tail.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace airtable_lakeflow::convert {

inline bool short_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x = 0;
    uint64_t y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      return false;
    }
  }
  for (; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace airtable_lakeflow::convert
