#include "airtable_lakeflow/http/rate_limiter.hpp"
#include "rate_windows.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace airtable_lakeflow::http {
namespace {

using std::chrono::milliseconds;

TEST(EngineRateLimiter, NeverMoreThanFivePerSecondPerBase) {
  RateLimiter limiter;
  FakeClock clock;
  std::vector<TimePoint> sent;
  for (int i = 0; i < 50; ++i) {
    const TimePoint at = limiter.reserve("tok", "appA", clock.now());
    clock.sleep_until(at);
    sent.push_back(at);
  }
  EXPECT_TRUE(within_limit(sent, 5, milliseconds(1000)));
  // Throughput stays close to 5/s: 50 requests take about 9 windows.
  EXPECT_LT(sent.back() - sent.front(), milliseconds(9 * 1025 + 1));
  EXPECT_GE(sent.back() - sent.front(), milliseconds(9000));
}

TEST(EngineRateLimiter, BasesAreIndependentButShareTheTokenBudget) {
  RateLimiter limiter;
  const TimePoint t0{};
  std::vector<TimePoint> all;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 20; ++b) {
      all.push_back(limiter.reserve("tok", "app" + std::to_string(b), t0));
    }
  }
  EXPECT_TRUE(within_limit(all, 50, milliseconds(1000)));
  // The first 50 go at once; 80 requests over 20 bases need a second window for the token.
  EXPECT_EQ(std::count(all.begin(), all.end(), t0), 50);
}

TEST(EngineRateLimiter, PauseHoldsOnlyThatBase) {
  RateLimiter limiter;
  const TimePoint t0{};
  limiter.pause_base("appA", t0 + std::chrono::seconds(30));
  EXPECT_EQ(limiter.reserve("tok", "appA", t0), t0 + std::chrono::seconds(30));
  EXPECT_EQ(limiter.reserve("tok", "appB", t0), t0);
}

TEST(EngineRateLimiter, OutOfOrderReservationsStayWithinTheTokenLimit) {
  RateLimit limit;
  limit.per_token = 6;
  RateLimiter limiter(limit);
  const TimePoint t0{};
  std::vector<TimePoint> all;
  for (int i = 0; i < 30; ++i) {
    all.push_back(limiter.reserve("tok", i % 3 == 0 ? "appA" : "app" + std::to_string(i), t0));
  }
  EXPECT_TRUE(within_limit(all, 6, milliseconds(1000)));
}

// Regression: a slot was checked only against the window ending at it, so a send reserved ahead
// of others already in the log (here after two paused bases) made their window hold three.
TEST(EngineRateLimiter, ASlotBeforeLaterSendsNeverOverfillsTheirWindow) {
  RateLimit limit;
  limit.per_token = 2;
  RateLimiter limiter(limit);
  const TimePoint t0{};
  limiter.pause_base("appA", t0 + milliseconds(1000));
  limiter.pause_base("appB", t0 + milliseconds(1500));
  std::vector<TimePoint> all;
  all.push_back(limiter.reserve("tok", "appA", t0));
  all.push_back(limiter.reserve("tok", "appB", t0));
  all.push_back(limiter.reserve("tok", "appC", t0 + milliseconds(600)));
  EXPECT_EQ(all[2], t0 + milliseconds(1000 + 1025));
  EXPECT_TRUE(within_limit(all, 2, milliseconds(1025)));
}

TEST(EngineRateLimiter, AnInProcessLimiterUsesNoFile) {
  EXPECT_EQ(RateLimiter().shared_file(), "");
}

}  // namespace
}  // namespace airtable_lakeflow::http
