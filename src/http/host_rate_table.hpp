// The rate limiter's logs shared by every process of one user on one host: a fixed-size table
// in a file each process maps (MAP_SHARED), guarded by an exclusive flock around each use. A
// process killed while it holds the lock does not wedge the others: the kernel drops the lock
// with the process (a mutex inside the mapping would stay locked).
//
// Layout (version 2): a 64-byte header, then kSlots entries of one key each (a base or a token
// key, by a 64-bit hash), found by open addressing over at most kProbe slots from the key's
// home slot. An entry holds its last kSends send instants, sorted, the base's pause and the
// token's quota mark; times are steady_clock nanoseconds (CLOCK_MONOTONIC, one clock for the
// whole host). Version 1 had no quota mark and no hold.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "airtable_lakeflow/http/clock.hpp"

namespace airtable_lakeflow::http::detail {

inline constexpr uint32_t kSends = 64;  // >= RateLimit::per_token
inline constexpr uint32_t kSlots = 1024;
inline constexpr uint32_t kProbe = 16;

struct HostEntry {
  uint64_t key;  // hash of the key; 0 for a slot never used
  int64_t paused_until;
  int64_t not_before;  // see RateLimiter::Window::not_before
  int64_t hold_until;  // see RateLimiter::Window::hold_until
  // A token's monthly quota found used up (RateLimiter::mark_quota_exhausted): the hash of the
  // token key it belongs to (an entry shared by two keys holds one key's mark), when, and until.
  uint64_t quota_key;
  int64_t quota_found;
  int64_t quota_until;
  uint32_t count;  // valid instants in sent
  uint32_t unused;
  int64_t sent[kSends];
};

// The 64-bit hash a key is stored under (never 0).
uint64_t host_key_hash(std::string_view key);

class HostRateTable {
 public:
  // Opens (creating it if missing, 0600) and maps the table; null when the file cannot be used:
  // not a regular file of ours, a symbolic link, or a size or header of another layout (left
  // untouched: the limiter stays in-process).
  static std::unique_ptr<HostRateTable> open(const std::string& path);
  ~HostRateTable();
  HostRateTable(const HostRateTable&) = delete;
  HostRateTable& operator=(const HostRateTable&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  // False in a forked child: its descriptor is its parent's, so their locks would not exclude.
  [[nodiscard]] bool opened_here() const;

  // Holds the file lock while it lives.
  class Lock {
   public:
    explicit Lock(int fd);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    int fd_;
    bool held_;
  };
  [[nodiscard]] Lock lock() const { return Lock(fd_); }

  // The entry of `key` (held under lock()). With `claim`, a key not in the table takes the
  // first slot of its probe range that is unused or stale (no send within `span` of `now`, no
  // pause, hold or quota mark running), other than `keep`; null without `claim`. A key whose whole
  // probe range is live shares its home slot's entry: stricter for both keys, never looser.
  HostEntry* entry(std::string_view key, TimePoint now, Duration span, bool claim,
                   const HostEntry* keep = nullptr);

 private:
  HostRateTable(std::string path, int fd, void* map);

  std::string path_;
  int fd_;
  pid_t pid_;  // the process that opened fd_
  void* map_;
};

}  // namespace airtable_lakeflow::http::detail
