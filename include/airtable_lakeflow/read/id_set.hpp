// The record ids a read has already emitted, compactly (16 bytes per Airtable id), so a
// listing restarted after its iterator expired can skip them: no duplicates, none missing.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "airtable_lakeflow/int128.hpp"

namespace airtable_lakeflow::read {

class IdSet {
 public:
  void add(std::string_view id);
  // Ids added before the last seal() are searchable with contains().
  void seal();
  [[nodiscard]] bool contains(std::string_view id) const;
  [[nodiscard]] size_t size() const { return packed_.size() + other_.size(); }

 private:
  std::vector<uint128> packed_;            // "rec" + 14 base-62 characters
  size_t sealed_ = 0;                      // packed_[0, sealed_) is sorted
  std::unordered_set<std::string> other_;  // ids of any other shape
};

}  // namespace airtable_lakeflow::read
