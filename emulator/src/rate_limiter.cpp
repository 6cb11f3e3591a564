#include "rate_limiter.hpp"

namespace emu {

void RateLimiter::configure(const RateLimitConfig& config) {
  const std::lock_guard lock(mutex_);
  config_ = config;
}

RateLimitConfig RateLimiter::config() const {
  const std::lock_guard lock(mutex_);
  return config_;
}

void RateLimiter::reset() {
  const std::lock_guard lock(mutex_);
  bases_.clear();
  tokens_.clear();
  quota_used_.clear();
}

bool RateLimiter::over(Window& window, int limit, int64_t now_ms) {
  while (!window.accepted_ms.empty() && window.accepted_ms.front() <= now_ms - 1000) {
    window.accepted_ms.pop_front();
  }
  return static_cast<int>(window.accepted_ms.size()) >= limit;
}

RateLimiter::Verdict RateLimiter::admit(const std::string& token, const std::string& base_id,
                                        bool counts_toward_quota, int64_t now_ms) {
  const std::lock_guard lock(mutex_);
  if (config_.monthly_quota > 0 && counts_toward_quota) {
    if (quota_used_[token] >= config_.monthly_quota) {
      return Verdict::kQuotaExceeded;
    }
  }
  if (!config_.enabled) {
    if (counts_toward_quota) {
      ++quota_used_[token];
    }
    return Verdict::kAllowed;
  }
  Window& by_token = tokens_[token];
  Window* by_base = base_id.empty() ? nullptr : &bases_[base_id];
  if (now_ms < by_token.penalty_until_ms ||
      (by_base != nullptr && now_ms < by_base->penalty_until_ms)) {
    return Verdict::kRateLimited;
  }
  if (over(by_token, config_.per_token_per_second, now_ms)) {
    by_token.penalty_until_ms = now_ms + config_.penalty_ms;
    return Verdict::kRateLimited;
  }
  if (by_base != nullptr && over(*by_base, config_.per_base_per_second, now_ms)) {
    by_base->penalty_until_ms = now_ms + config_.penalty_ms;
    return Verdict::kRateLimited;
  }
  by_token.accepted_ms.push_back(now_ms);
  if (by_base != nullptr) {
    by_base->accepted_ms.push_back(now_ms);
  }
  if (counts_toward_quota) {
    ++quota_used_[token];
  }
  return Verdict::kAllowed;
}

}  // namespace emu
