#include "request_log.hpp"

#include "time_format.hpp"

namespace emu {

void RequestLog::append(LoggedRequest entry) {
  const std::lock_guard lock(mutex_);
  entry.seq = next_seq_++;
  if (entry.target.size() > 2000) {
    entry.target.resize(2000);
  }
  if (entry.route == "download") {
    ++downloads_;
  }
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) {
    entries_.pop_front();
  }
}

Json RequestLog::to_json(int64_t since, size_t limit) const {
  const std::lock_guard lock(mutex_);
  Json out = Json::array();
  for (const LoggedRequest& e : entries_) {
    if (e.seq <= since) {
      continue;
    }
    if (out.size() >= limit) {
      break;
    }
    Json item{{"seq", e.seq},         {"time", format_iso_ms(e.time_ms)},
              {"time_ms", e.time_ms}, {"method", e.method},
              {"path", e.path},       {"target", e.target},
              {"base", e.base_id},    {"table", e.table},
              {"route", e.route},     {"status", e.status}};
    if (!e.error_type.empty()) {
      item["error_type"] = e.error_type;
    }
    if (!e.fault.empty()) {
      item["fault"] = e.fault;
    }
    if (!e.attachment_id.empty()) {
      item["attachment"] = e.attachment_id;
    }
    out.push_back(std::move(item));
  }
  return out;
}

void RequestLog::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
  downloads_ = 0;
}

int64_t RequestLog::downloads() const {
  const std::lock_guard lock(mutex_);
  return downloads_;
}

int64_t RequestLog::last_seq() const {
  const std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

}  // namespace emu
