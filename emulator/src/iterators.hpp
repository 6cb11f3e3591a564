// Server-side list-records iterators. A listing's order is fixed when it starts (the ids in a
// snapshot, or creation order when there is no sort, view or filter); values stay live. An
// iterator idle longer than its time-to-live is gone: LIST_RECORDS_ITERATOR_NOT_AVAILABLE.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ids.hpp"

namespace emu {

struct ListIterator {
  std::string id;  // itr…
  std::string base_id;
  std::string table_id;
  bool snapshot = false;
  std::vector<int64_t> seqs;  // the order, when snapshot
  size_t next_index = 0;      // position in seqs
  int64_t after_seq = 0;      // creation-order position, when !snapshot
  int64_t returned = 0;       // for maxRecords
  int64_t last_used_ms = 0;
  // Where each offset handed out (keyed by its record id) continues, so asking again for the
  // same offset (a client retrying a failed page) returns the same page.
  struct Position {
    size_t next_index = 0;
    int64_t after_seq = 0;
    int64_t returned = 0;
  };
  std::map<std::string, Position> positions;
};

class IteratorRegistry {
 public:
  enum class Lookup { kFound, kExpired, kUnknown };

  explicit IteratorRegistry(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}
  void set_ttl_ms(int64_t ttl_ms);
  [[nodiscard]] int64_t ttl_ms() const;
  void put(ListIterator it);
  // Takes the iterator out (the caller puts it back while more pages remain).
  Lookup take(const std::string& id, int64_t now_ms, ListIterator& out);
  void expire_all();
  [[nodiscard]] size_t size() const;

 private:
  void sweep(int64_t now_ms);
  mutable std::mutex mutex_;
  int64_t ttl_ms_;
  std::map<std::string, ListIterator> live_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace emu
