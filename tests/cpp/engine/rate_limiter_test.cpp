#include "airtable_lakeflow/http/rate_limiter.hpp"
#include "rate_windows.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
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

TEST(EngineRateLimiter, ASlotGivenBackFreesItForTheBaseAndTheToken) {
  RateLimit limit;
  limit.per_token = 6;
  RateLimiter limiter(limit);
  const TimePoint t0{};
  for (int i = 0; i < 5; ++i) {
    limiter.reserve("tok", "appA", t0);
  }
  const TimePoint sixth = limiter.reserve("tok", "appB", t0);
  EXPECT_EQ(sixth, t0);
  EXPECT_EQ(limiter.reserve("tok", "appB", t0), t0 + milliseconds(1025));  // the token is full
  limiter.release("tok", "appA", t0);
  EXPECT_EQ(limiter.reserve("tok", "appA", t0), t0);  // a place in both windows again
  limiter.release("", "", t0);                        // nothing logged there: nothing happens
}

TEST(EngineRateLimiter, APacedTokenNeverLetsTwoSendsGoTogether) {
  const RateLimit limit = RateLimit::paced();
  EXPECT_EQ(limit.token_pacing, (limit.window + limit.margin) / 50);  // 20.5 ms
  RateLimiter limiter(limit);
  const TimePoint t0{};
  std::vector<TimePoint> all;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 24; ++b) {  // 24 readers of 12 bases, all at once
      all.push_back(limiter.reserve("tok", "app" + std::to_string(b % 12), t0));
    }
  }
  all.push_back(limiter.reserve("tok", "", t0));  // whoami: paced with the rest
  std::sort(all.begin(), all.end());
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GE(all[i] - all[i - 1], limit.token_pacing) << i;
  }
  EXPECT_TRUE(within_limit(all, 50, milliseconds(1000)));
  // The 51st request goes one window after the first, as without pacing: no rate is lost.
  EXPECT_EQ(all[50] - all[0], limit.window + limit.margin);
}

TEST(EngineRateLimiter, PauseHoldsOnlyThatBase) {
  RateLimiter limiter;
  const TimePoint t0{};
  limiter.pause_base("appA", t0 + std::chrono::seconds(30));
  EXPECT_EQ(limiter.reserve("tok", "appA", t0), t0 + std::chrono::seconds(30));
  EXPECT_EQ(limiter.reserve("tok", "appB", t0), t0);
}

// Regression: whoami and the base list (no base) shared one 5/s log, "base:", for every
// reader on the host; Airtable counts them against the token's 50/s only.
TEST(EngineRateLimiter, RequestsOfNoBaseCountOnlyAgainstTheToken) {
  RateLimiter limiter;
  const TimePoint t0{};
  std::vector<TimePoint> meta;
  for (int i = 0; i < 20; ++i) {
    meta.push_back(limiter.reserve("tok", "", t0));
  }
  EXPECT_EQ(std::count(meta.begin(), meta.end(), t0), 20);
  for (int i = 0; i < 30; ++i) {  // the token's other 30 of the window
    EXPECT_EQ(limiter.reserve("tok", "app" + std::to_string(i % 10), t0), t0);
  }
  EXPECT_GT(limiter.reserve("tok", "", t0), t0);  // the 51st waits
  // A 429 of such a request still holds the next one.
  limiter.pause_base("", t0 + std::chrono::seconds(30));
  EXPECT_GE(limiter.reserve("other", "", t0), t0 + std::chrono::seconds(30));
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

// One reader asking again as soon as its last request went: the slots it got.
std::vector<TimePoint> read_alone(RateLimiter& limiter, int requests, double base_rate) {
  FakeClock clock;
  std::vector<TimePoint> sent;
  for (int i = 0; i < requests; ++i) {
    const TimePoint at = limiter.reserve("tok", "appA", clock.now(), base_rate);
    clock.sleep_until(at);
    sent.push_back(at);
  }
  return sent;
}

TEST(EngineRateLimiter, AShareOfTwoAndAHalfStaysWithinItInEveryWindow) {
  RateLimiter limiter;
  const std::vector<TimePoint> sent = read_alone(limiter, 40, 2.5);
  // Every n + 1 sends span at least n / 2.5 s: no window of n / 2.5 s holds more than n.
  EXPECT_TRUE(within_rate(sent, 2.5, milliseconds(1000)));
  EXPECT_FALSE(within_rate(sent, 2.5, milliseconds(1030)));  // and not far below: 2.5 per 1.025 s
  EXPECT_TRUE(within_limit(sent, 5, milliseconds(1025)));
}

TEST(EngineRateLimiter, AShareOfFiveIsTheBasesOwnLimit) {
  RateLimiter by_default;
  RateLimiter with_five;
  RateLimiter above;
  const std::vector<TimePoint> expected = read_alone(by_default, 30, 1e300);
  EXPECT_EQ(read_alone(with_five, 30, 5), expected);
  EXPECT_EQ(read_alone(above, 30, 7), expected);
  // Bursts of five, as ever (a share below five spaces every send).
  EXPECT_EQ(std::count(expected.begin(), expected.end(), expected.front()), 5);
}

TEST(EngineRateLimiter, AShareBelowOnePerWindowOutlivesTheWindow) {
  RateLimiter limiter;
  const std::vector<TimePoint> sent = read_alone(limiter, 4, 0.25);  // one per 4.1 s
  EXPECT_TRUE(within_rate(sent, 0.25, milliseconds(1000)));
  EXPECT_EQ(sent[3] - sent[0], 3 * milliseconds(4100));
}

// Readers of one host with different shares: each is held to its own share of the base's
// whole log (everyone's sends), none loosens another's, and Airtable's 5/s holds for all.
TEST(EngineRateLimiter, EachReaderKeepsItsOwnShareOfTheSharedLog) {
  struct Reader {
    double share;
    int left;
    TimePoint asks{};
  };
  std::vector<Reader> readers = {{5, 15}, {2.5, 15}, {1, 8}};
  RateLimiter limiter;
  std::vector<std::pair<TimePoint, size_t>> booked;  // in the order they were reserved
  for (;;) {
    // The reader asking first: readers ask again as soon as their last request went.
    Reader* next = nullptr;
    for (Reader& reader : readers) {
      if (reader.left > 0 && (next == nullptr || reader.asks < next->asks)) {
        next = &reader;
      }
    }
    if (next == nullptr) {
      break;
    }
    const TimePoint at = limiter.reserve("tok", "appA", next->asks, next->share);
    booked.emplace_back(at, static_cast<size_t>(next - readers.data()));
    next->asks = at;
    --next->left;
  }
  std::vector<TimePoint> all;
  for (const auto& [at, who] : booked) {
    all.push_back(at);
  }
  EXPECT_TRUE(within_limit(all, 5, milliseconds(1025)));
  for (size_t i = 0; i < booked.size(); ++i) {
    const auto [at, who] = booked[i];
    const double share = readers[who].share;
    if (share >= 5) {
      continue;
    }
    // No send booked before it lies within its spacing, on either side.
    const auto spacing = std::chrono::duration_cast<Duration>(milliseconds(1025) / share);
    for (size_t j = 0; j < i; ++j) {
      const Duration gap = booked[j].first > at ? booked[j].first - at : at - booked[j].first;
      EXPECT_GE(gap, spacing) << "send " << i << " (share " << share << ") and send " << j;
    }
  }
}

TEST(EngineRateLimiter, ReadersWithOneShareShareIt) {
  RateLimiter limiter;
  FakeClock clock;
  std::vector<TimePoint> all;
  TimePoint first{};
  TimePoint second{};
  for (int i = 0; i < 15; ++i) {  // two readers of the base taking turns, each asking at once
    first = limiter.reserve("tok", "appA", first, 2.5);
    second = limiter.reserve("tok", "appA", second, 2.5);
    all.push_back(first);
    all.push_back(second);
  }
  EXPECT_TRUE(within_rate(all, 2.5, milliseconds(1000)));  // together, not 2.5 each
}

TEST(EngineRateLimiter, AQuotaMarkHoldsForItsTokenUntilItExpires) {
  RateLimiter limiter;
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  EXPECT_FALSE(limiter.quota_exhausted("tokA@server", t0));
  limiter.mark_quota_exhausted("tokA@server", t0);
  const auto mark = limiter.quota_exhausted("tokA@server", t0 + std::chrono::seconds(10));
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->found, t0);
  EXPECT_EQ(mark->until, t0 + limiter.limit().quota_stop);
  EXPECT_EQ(limiter.limit().quota_stop, std::chrono::minutes(2));
  EXPECT_FALSE(limiter.quota_exhausted("tokB@server", t0));
  EXPECT_FALSE(limiter.quota_exhausted("tokA@server", t0 + limiter.limit().quota_stop));
}

}  // namespace
}  // namespace airtable_lakeflow::http
