#include "rate_limiter.hpp"

#include <gtest/gtest.h>

namespace emu {
namespace {

TEST(RateLimiter, FiveRequestsPerSecondPerBaseThenPenalty) {
  RateLimiter limiter;
  RateLimitConfig config;
  config.penalty_ms = 30000;
  limiter.configure(config);
  const int64_t t0 = 1'000'000;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limiter.admit("tok", "appA", true, t0 + i * 10), RateLimiter::Verdict::kAllowed);
  }
  EXPECT_EQ(limiter.admit("tok", "appA", true, t0 + 60), RateLimiter::Verdict::kRateLimited);
  // Another base is not affected.
  EXPECT_EQ(limiter.admit("tok", "appB", true, t0 + 70), RateLimiter::Verdict::kAllowed);
  // The penalty holds for 30 s even though the window has long passed.
  EXPECT_EQ(limiter.admit("tok", "appA", true, t0 + 5000), RateLimiter::Verdict::kRateLimited);
  EXPECT_EQ(limiter.admit("tok", "appA", true, t0 + 60 + 29999),
            RateLimiter::Verdict::kRateLimited);
  EXPECT_EQ(limiter.admit("tok", "appA", true, t0 + 60 + 30000), RateLimiter::Verdict::kAllowed);
}

TEST(RateLimiter, SlidingWindowAllowsSteadyFivePerSecond) {
  RateLimiter limiter;
  limiter.configure(RateLimitConfig{});
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.admit("tok", "appA", true, i * 200), RateLimiter::Verdict::kAllowed) << i;
  }
}

TEST(RateLimiter, FiftyPerSecondPerTokenAcrossBases) {
  RateLimiter limiter;
  limiter.configure(RateLimitConfig{});
  int allowed = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string base = "app" + std::to_string(i % 20);
    if (limiter.admit("tok", base, true, 100 + i) == RateLimiter::Verdict::kAllowed) {
      ++allowed;
    }
  }
  EXPECT_EQ(allowed, 50);
  // Other tokens keep their own budget.
  EXPECT_EQ(limiter.admit("other", "appZ", true, 200), RateLimiter::Verdict::kAllowed);
}

TEST(RateLimiter, DisabledNeverLimitsButQuotaStillCounts) {
  RateLimiter limiter;
  RateLimitConfig config;
  config.enabled = false;
  config.monthly_quota = 3;
  limiter.configure(config);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.admit("tok", "appA", true, 0), RateLimiter::Verdict::kAllowed);
  }
  EXPECT_EQ(limiter.admit("tok", "appA", true, 0), RateLimiter::Verdict::kQuotaExceeded);
  // Metadata routes do not count toward the quota and still answer.
  EXPECT_EQ(limiter.admit("tok", "appA", false, 0), RateLimiter::Verdict::kAllowed);
}

}  // namespace
}  // namespace emu
