// Proactive throttling to Airtable's published limits, shared by every read in the process:
// at most 5 requests in any one-second window per base and 50 per token. A sliding-window log
// (not a token bucket, whose burst can put 6 requests into one second) keeps the client inside
// a server that counts over sliding windows. A 429 pauses the base for the penalty.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "airtable_lakeflow/http/clock.hpp"

namespace airtable_lakeflow::http {

struct RateLimit {
  size_t per_base = 5;
  size_t per_token = 50;
  Duration window = std::chrono::milliseconds(1000);
  // Added to the window so clock skew between us and the server never costs a 429.
  Duration margin = std::chrono::milliseconds(25);
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit = {}) : limit_(limit) {}

  // Reserves the next slot for a request to `base` with `token_key` (a hash, never the token)
  // and returns when it may be sent; the caller sleeps until then.
  TimePoint reserve(const std::string& token_key, const std::string& base, TimePoint now);
  // After a 429 RATE_LIMIT_REACHED: nothing goes to `base` before `until`.
  void pause_base(const std::string& base, TimePoint until);
  // The end of `base`'s current pause (the epoch when it was never paused).
  [[nodiscard]] TimePoint paused_until(const std::string& base);
  [[nodiscard]] const RateLimit& limit() const { return limit_; }

 private:
  struct Window {
    std::deque<TimePoint> sent;
    TimePoint paused_until{};
  };
  // The first instant >= at when `window` has room for one more request.
  TimePoint earliest(const Window& window, size_t limit, TimePoint at) const;

  RateLimit limit_;
  std::mutex mutex_;
  std::map<std::string, Window> bases_;
  std::map<std::string, Window> tokens_;
};

// The limiter every engine object in this process shares (Airtable counts per base and per
// token across all our connections).
RateLimiter& shared_rate_limiter();

}  // namespace airtable_lakeflow::http
