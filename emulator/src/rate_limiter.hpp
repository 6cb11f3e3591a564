// Airtable's limits: 5 requests/s per base and 50 requests/s per token, counted over a sliding
// one-second window of accepted requests. A request over either limit gets 429
// RATE_LIMIT_REACHED and starts a penalty (30 s by default) during which every request to that
// base (or from that token) is refused. Optional monthly quota per token.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace emu {

struct RateLimitConfig {
  bool enabled = true;
  int per_base_per_second = 5;
  int per_token_per_second = 50;
  int64_t penalty_ms = 30000;
  // Calls a token may make to data routes before PUBLIC_API_BILLING_LIMIT_EXCEEDED; 0 = none.
  int64_t monthly_quota = 0;
};

class RateLimiter {
 public:
  enum class Verdict { kAllowed, kRateLimited, kQuotaExceeded };

  void configure(const RateLimitConfig& config);
  [[nodiscard]] RateLimitConfig config() const;
  // base_id may be empty (whoami, list bases); counts_toward_quota for data routes.
  Verdict admit(const std::string& token, const std::string& base_id, bool counts_toward_quota,
                int64_t now_ms);
  void reset();

 private:
  struct Window {
    std::deque<int64_t> accepted_ms;
    int64_t penalty_until_ms = 0;
  };
  static bool over(Window& window, int limit, int64_t now_ms);

  mutable std::mutex mutex_;
  RateLimitConfig config_;
  std::map<std::string, Window> bases_;
  std::map<std::string, Window> tokens_;
  std::map<std::string, int64_t> quota_used_;
};

}  // namespace emu
