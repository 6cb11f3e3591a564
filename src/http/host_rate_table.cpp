#include "host_rate_table.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

namespace airtable_lakeflow::http::detail {

namespace {

struct HostHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t slots;
  uint32_t sends;
  uint32_t probe;
  uint32_t header_size;
  uint32_t entry_size;
  uint64_t file_size;
  uint64_t unused[3];
};

constexpr uint64_t kMagic = 0x3145544152464c41;  // "ALFRATE1" read as a little-endian number
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderSize = 64;
constexpr size_t kFileSize = kHeaderSize + size_t{kSlots} * sizeof(HostEntry);
static_assert(sizeof(HostHeader) == kHeaderSize);
static_assert(sizeof(HostEntry) == 64 + 8 * kSends);
static_assert(std::is_trivially_copyable_v<HostEntry> && std::is_standard_layout_v<HostEntry>);

HostHeader expected_header() {
  HostHeader header{};
  header.magic = kMagic;
  header.version = kVersion;
  header.slots = kSlots;
  header.sends = kSends;
  header.probe = kProbe;
  header.header_size = kHeaderSize;
  header.entry_size = sizeof(HostEntry);
  header.file_size = kFileSize;
  return header;
}

int64_t ns(TimePoint at) { return at.time_since_epoch().count(); }

bool stale(const HostEntry& entry, TimePoint now, Duration span) {
  const uint32_t count = std::min(entry.count, kSends);  // a damaged count is never trusted
  return entry.key == 0 || ((count == 0 || entry.sent[count - 1] + span.count() <= ns(now)) &&
                            entry.paused_until <= ns(now) && entry.not_before <= ns(now) &&
                            entry.hold_until <= ns(now) && entry.quota_until <= ns(now));
}

HostEntry* entries(void* map) {
  return reinterpret_cast<HostEntry*>(static_cast<char*>(map) + kHeaderSize);
}

}  // namespace

// FNV-1a, then a finaliser that spreads it over the slots; 0 is kept for unused slots.
uint64_t host_key_hash(std::string_view key) {
  uint64_t hash = 0xcbf29ce484222325;
  for (const char c : key) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccd;
  hash ^= hash >> 33;
  return hash == 0 ? 1 : hash;
}

HostRateTable::Lock::Lock(int fd) : fd_(fd), held_(false) {
  // Waits for the other processes (each holds it for microseconds). If flock fails for any
  // other reason, the table is still used under the process mutex alone.
  int rc = 0;
  do {
    rc = ::flock(fd_, LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  held_ = rc == 0;
}

HostRateTable::Lock::~Lock() {
  if (held_) {
    ::flock(fd_, LOCK_UN);
  }
}

HostRateTable::HostRateTable(std::string path, int fd, void* map)
    : path_(std::move(path)), fd_(fd), pid_(::getpid()), map_(map) {}

HostRateTable::~HostRateTable() {
  ::munmap(map_, kFileSize);
  ::close(fd_);
}

bool HostRateTable::opened_here() const { return pid_ == ::getpid(); }

std::unique_ptr<HostRateTable> HostRateTable::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return nullptr;
  }
  // Checked, and a new file laid out, by one process at a time.
  void* map = [fd]() -> void* {
    const Lock lock(fd);
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_uid != ::getuid()) {
      return nullptr;
    }
    const auto size = static_cast<size_t>(info.st_size);
    if (size != 0 && size != kFileSize) {
      return nullptr;  // another layout, or not ours at all
    }
    if (size == 0 && ::ftruncate(fd, static_cast<off_t>(kFileSize)) != 0) {
      return nullptr;
    }
    void* mapped = ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) {
      return nullptr;
    }
    const HostHeader want = expected_header();
    HostHeader have{};
    std::memcpy(&have, mapped, sizeof(have));
    if (have.magic == 0) {
      // New, or its creator died before writing the header (which goes last): start empty.
      std::memset(entries(mapped), 0, kFileSize - kHeaderSize);
      std::memcpy(mapped, &want, sizeof(want));
    } else if (std::memcmp(&have, &want, sizeof(want)) != 0) {
      ::munmap(mapped, kFileSize);  // another version's table: never written to
      return nullptr;
    }
    return mapped;
  }();
  if (map == nullptr) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<HostRateTable>(new HostRateTable(path, fd, map));
}

HostEntry* HostRateTable::entry(std::string_view key, TimePoint now, Duration span, bool claim,
                                const HostEntry* keep) {
  const uint64_t hash = host_key_hash(key);
  HostEntry* slots = entries(map_);
  const uint64_t home = hash % kSlots;
  HostEntry* reusable = nullptr;
  for (uint64_t i = 0; i < kProbe; ++i) {
    HostEntry& slot = slots[(home + i) % kSlots];
    if (slot.key == hash) {
      if (slot.count > kSends) {
        slot.count = kSends;  // a damaged entry is never read past its end
      }
      return &slot;
    }
    if (reusable == nullptr && &slot != keep && stale(slot, now, span)) {
      reusable = &slot;
    }
  }
  if (reusable == nullptr) {
    HostEntry& shared = slots[home];
    shared.count = std::min(shared.count, kSends);
    return &shared;
  }
  if (!claim) {
    return nullptr;
  }
  std::memset(reusable, 0, sizeof(HostEntry));
  reusable->key = hash;
  return reusable;
}

}  // namespace airtable_lakeflow::http::detail
