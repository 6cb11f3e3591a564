// Every request the emulator answered, so tests can assert counts, rates and retries.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "json.hpp"

namespace emu {

struct LoggedRequest {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string method;
  std::string path;    // without the query string
  std::string target;  // path and query, truncated to 2,000 characters
  std::string base_id;
  std::string table;
  std::string route;  // list | get | write | meta | webhooks | download | other
  int status = 0;
  std::string error_type;
  std::string fault;
  std::string attachment_id;  // downloads
};

class RequestLog {
 public:
  explicit RequestLog(size_t capacity = 1'000'000) : capacity_(capacity) {}
  void append(LoggedRequest entry);
  // Entries with seq > since, at most limit of them.
  [[nodiscard]] Json to_json(int64_t since, size_t limit) const;
  void clear();
  [[nodiscard]] int64_t last_seq() const;
  // Entries with route "download" (attachment files) among those logged since the last clear.
  [[nodiscard]] int64_t downloads() const;

 private:
  mutable std::mutex mutex_;
  size_t capacity_;
  std::deque<LoggedRequest> entries_;
  int64_t next_seq_ = 1;
  int64_t downloads_ = 0;
};

}  // namespace emu
