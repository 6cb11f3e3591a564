#include "iterators.hpp"

namespace emu {

void IteratorRegistry::set_ttl_ms(int64_t ttl_ms) {
  const std::lock_guard lock(mutex_);
  ttl_ms_ = ttl_ms;
}

int64_t IteratorRegistry::ttl_ms() const {
  const std::lock_guard lock(mutex_);
  return ttl_ms_;
}

void IteratorRegistry::put(ListIterator it) {
  const std::lock_guard lock(mutex_);
  sweep(it.last_used_ms);
  live_[it.id] = std::move(it);
}

IteratorRegistry::Lookup IteratorRegistry::take(const std::string& id, int64_t now_ms,
                                                ListIterator& out) {
  const std::lock_guard lock(mutex_);
  const auto it = live_.find(id);
  if (it == live_.end()) {
    return Lookup::kUnknown;
  }
  if (now_ms - it->second.last_used_ms > ttl_ms_) {
    live_.erase(it);
    return Lookup::kExpired;
  }
  out = std::move(it->second);
  live_.erase(it);
  return Lookup::kFound;
}

void IteratorRegistry::expire_all() {
  const std::lock_guard lock(mutex_);
  live_.clear();
}

size_t IteratorRegistry::size() const {
  const std::lock_guard lock(mutex_);
  return live_.size();
}

void IteratorRegistry::sweep(int64_t now_ms) {
  // Drop long-dead iterators now and then so abandoned listings do not pile up.
  if (now_ms - last_sweep_ms_ < 1000) {
    return;
  }
  last_sweep_ms_ = now_ms;
  for (auto it = live_.begin(); it != live_.end();) {
    it = now_ms - it->second.last_used_ms > ttl_ms_ ? live_.erase(it) : std::next(it);
  }
}

}  // namespace emu
