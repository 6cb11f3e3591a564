#include "airtable_lakeflow/read/id_set.hpp"

#include <algorithm>
#include <optional>

namespace airtable_lakeflow::read {

namespace {

constexpr size_t kPrefix = 3;
constexpr size_t kBody = 14;

std::optional<uint128> pack(std::string_view id) {
  if (id.size() != kPrefix + kBody || id.substr(0, kPrefix) != "rec") {
    return std::nullopt;
  }
  uint128 out = 1;  // a leading 1 keeps the length in the value
  for (const char c : id.substr(kPrefix)) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'A' && c <= 'Z') {
      digit = static_cast<unsigned>(c - 'A') + 10;
    } else if (c >= 'a' && c <= 'z') {
      digit = static_cast<unsigned>(c - 'a') + 36;
    } else {
      return std::nullopt;
    }
    out = (out << 6U) | digit;
  }
  return out;
}

}  // namespace

void IdSet::add(std::string_view id) {
  if (const auto packed = pack(id)) {
    packed_.push_back(*packed);
  } else {
    other_.emplace(id);
  }
}

void IdSet::seal() {
  std::sort(packed_.begin(), packed_.end());
  sealed_ = packed_.size();
}

bool IdSet::contains(std::string_view id) const {
  if (const auto packed = pack(id)) {
    return std::binary_search(packed_.begin(), packed_.begin() + static_cast<ptrdiff_t>(sealed_),
                              *packed);
  }
  return other_.count(std::string(id)) > 0;
}

}  // namespace airtable_lakeflow::read
