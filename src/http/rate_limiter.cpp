#include "airtable_lakeflow/http/rate_limiter.hpp"

#include <algorithm>

namespace airtable_lakeflow::http {

TimePoint RateLimiter::earliest(const Window& window, size_t limit, TimePoint at) const {
  const Duration span = limit_.window + limit_.margin;
  at = std::max(at, window.paused_until);
  // Move `at` forward until fewer than `limit` reservations fall in (at - span, at].
  for (;;) {
    const auto end = std::upper_bound(window.sent.begin(), window.sent.end(), at);
    const auto in_window =
        static_cast<size_t>(end - std::upper_bound(window.sent.begin(), end, at - span));
    if (in_window < limit) {
      return at;
    }
    at = *(end - static_cast<std::ptrdiff_t>(limit)) + span;
  }
}

TimePoint RateLimiter::reserve(const std::string& token_key, const std::string& base,
                               TimePoint now) {
  const std::lock_guard lock(mutex_);
  Window& by_base = bases_[base];
  Window& by_token = tokens_[token_key];
  // Both windows must accept the same instant; each step only moves forward.
  // Forget sends that can no longer matter to anyone asking from `now` on.
  const Duration span = limit_.window + limit_.margin;
  for (Window* window : {&by_base, &by_token}) {
    while (!window->sent.empty() && window->sent.front() + span <= now) {
      window->sent.pop_front();
    }
  }
  TimePoint at = now;
  for (;;) {
    const TimePoint next =
        std::max(earliest(by_base, limit_.per_base, at), earliest(by_token, limit_.per_token, at));
    if (next == at) {
      break;
    }
    at = next;
  }
  // Requests for different bases can reserve out of order: keep each log sorted.
  by_base.sent.insert(std::upper_bound(by_base.sent.begin(), by_base.sent.end(), at), at);
  by_token.sent.insert(std::upper_bound(by_token.sent.begin(), by_token.sent.end(), at), at);
  return at;
}

void RateLimiter::pause_base(const std::string& base, TimePoint until) {
  const std::lock_guard lock(mutex_);
  Window& window = bases_[base];
  window.paused_until = std::max(window.paused_until, until);
}

TimePoint RateLimiter::paused_until(const std::string& base) {
  const std::lock_guard lock(mutex_);
  const auto window = bases_.find(base);
  return window == bases_.end() ? TimePoint{} : window->second.paused_until;
}

RateLimiter& shared_rate_limiter() {
  static RateLimiter limiter;
  return limiter;
}

}  // namespace airtable_lakeflow::http
