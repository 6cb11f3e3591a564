#include "airtable_lakeflow/http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace airtable_lakeflow::http {
namespace {

using std::chrono::milliseconds;

// True when no window of `span` holds more than `limit` of the times.
bool within_limit(std::vector<TimePoint> times, size_t limit, Duration span) {
  std::sort(times.begin(), times.end());
  for (size_t i = limit; i < times.size(); ++i) {
    if (times[i] - times[i - limit] < span) {
      return false;
    }
  }
  return true;
}

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

}  // namespace
}  // namespace airtable_lakeflow::http
