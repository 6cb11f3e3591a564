#include "airtable_lakeflow/http/http_client.hpp"

#include <gtest/gtest.h>

#include "rate_windows.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <utility>

namespace airtable_lakeflow::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kToken =
    "patTestToken00001.0000000000000000000000000000000000000000000000000000000000000abc";

class ScriptedTransport : public Transport {
 public:
  std::deque<Response> script;
  std::vector<Request> sent;
  std::vector<TimePoint> sent_at;
  Clock* clock = nullptr;
  // How long each send's connection takes to come up (none left: no time), before the hook.
  std::deque<Duration> connect_times;
  // Whether each send's connection is opened for it (none left: a reused one).
  std::deque<bool> new_connections;
  int refused = 0;

  Response send(const Request& request, const BeforeSend& before_send) override {
    if (!connect_times.empty()) {
      clock->sleep_until(clock->now() + connect_times.front());
      connect_times.pop_front();
    }
    bool fresh = false;
    if (!new_connections.empty()) {
      fresh = new_connections.front();
      new_connections.pop_front();
    }
    if (before_send && !before_send(fresh)) {
      ++refused;
      Response r{0, "", std::nullopt, "not sent"};
      r.failure = TransportFailure::kNotSent;
      return r;
    }
    sent.push_back(request);
    sent_at.push_back(clock->now());
    if (script.empty()) {
      return Response{200, "{}", std::nullopt, ""};
    }
    Response r = script.front();
    script.pop_front();
    return r;
  }
};

Response reply(int status, const std::string& body = "{}", std::optional<double> retry = {}) {
  return Response{status, body, retry, ""};
}

// A fake clock that runs `on_sleep` (once) when something first sleeps on it: what another
// thread might do while a request waits for its slot.
class HookedClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return clock_.now(); }
  void sleep_until(TimePoint until) override {
    if (on_sleep) {
      std::exchange(on_sleep, {})();
    }
    clock_.sleep_until(until);
  }
  std::function<void()> on_sleep;

 private:
  FakeClock clock_;
};

struct Harness {
  HookedClock clock;
  RateLimiter limiter;
  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
  HttpClient client;
  explicit Harness(RetryPolicy policy = {},
                   const std::string& base_url = "http://airtable.test/v0/",
                   double requests_per_second = 5)
      : client(ClientConfig{base_url, kToken, policy, true, requests_per_second}, transport, clock,
               limiter, [] { return 0.5; }) {
    transport->clock = &clock;
  }
  std::string get(const std::string& path = "/v0/appA/tblT") {
    return client.call("GET", path, "appA", "", "table tblT of base appA", "data.records:read");
  }
};

TEST(HttpClient, SendsTokenAndToleratesV0InBaseUrl) {
  Harness h;
  h.transport->script = {reply(200, R"({"records":[]})")};
  EXPECT_EQ(h.get(), R"({"records":[]})");
  ASSERT_EQ(h.transport->sent.size(), 1U);
  EXPECT_EQ(h.transport->sent[0].url, "http://airtable.test/v0/appA/tblT");
  EXPECT_EQ(h.transport->sent[0].headers[0].second, "Bearer " + kToken);
}

TEST(HttpClient, RetriesServerErrorsAndResetsWithBackoff) {
  Harness h;
  h.transport->script = {reply(503, R"({"error":{"type":"RETRIABLE_ERROR"}})", 3.0),
                         Response{0, "", std::nullopt, "Connection reset by peer"}, reply(502),
                         reply(200, "ok")};
  EXPECT_EQ(h.get(), "ok");
  EXPECT_EQ(h.transport->sent.size(), 4U);
  EXPECT_EQ(h.client.stats().retries.load(), 3);
  // Retry-After: 3 was honoured before the second attempt.
  EXPECT_GE(h.transport->sent_at[1] - h.transport->sent_at[0], seconds(3));
}

TEST(HttpClient, RateLimitPausesTheBaseForThirtySecondsThenContinues) {
  Harness h;
  h.transport->script = {reply(429, R"({"error":{"type":"RATE_LIMIT_REACHED","message":"x"}})"),
                         reply(200, "after")};
  EXPECT_EQ(h.get(), "after");
  EXPECT_GE(h.transport->sent_at[1] - h.transport->sent_at[0], seconds(30));
  EXPECT_EQ(h.client.stats().rate_limited.load(), 1);
}

TEST(HttpClient, NeverMoreThanFiveRequestsPerSecondPerBase) {
  Harness h;
  for (int i = 0; i < 20; ++i) {
    h.get();
  }
  const auto& at = h.transport->sent_at;
  for (size_t i = 5; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 5], seconds(1));
  }
}

// A reused connection reset before any answer, as the transport reports it.
Response dropped() {
  Response r{0, "", std::nullopt, "the reused connection closed before any answer"};
  r.failure = TransportFailure::kDropped;
  return r;
}

Response failed(TransportFailure failure, const std::string& message) {
  Response r{0, "", std::nullopt, message};
  r.failure = failure;
  return r;
}

// The most requests sent to one base in any one-second window.
size_t busiest_second(const std::vector<TimePoint>& sent) {
  size_t best = 0;
  for (size_t end = 0, start = 0; end < sent.size(); ++end) {
    while (sent[end] - sent[start] >= seconds(1)) {
      ++start;
    }
    best = std::max(best, end - start + 1);
  }
  return best;
}

// Regression (issue 14): the retry after a dropped connection went out at once, as the 6th
// request in that second, and cost a 429 and a 30 s penalty.
TEST(HttpClient, ARetriedRequestWaitsForItsSlot) {
  Harness h;  // a dropped connection is retried without backoff: only the limiter holds it
  ASSERT_EQ(RetryPolicy{}.dropped_connection_wait, Duration{0});
  for (int i = 0; i < 4; ++i) {  // four requests of other readers of the base, just sent
    h.limiter.reserve("another reader", "appA", h.clock.now());
  }
  h.transport->script = {dropped(), reply(200, "ok")};
  EXPECT_EQ(h.get(), "ok");
  ASSERT_EQ(h.transport->sent.size(), 2U);
  EXPECT_EQ(h.transport->sent_at[0], TimePoint{});  // the 5th request of the second
  const RateLimit& limit = h.limiter.limit();
  EXPECT_GE(h.transport->sent_at[1], TimePoint{} + limit.window + limit.margin);
  EXPECT_EQ(h.client.stats().retries.load(), 1);
}

TEST(HttpClient, EveryAttemptTakesASlot) {
  RetryPolicy policy;
  policy.initial_backoff = Duration{0};
  Harness h(policy);
  for (int i = 0; i < 30; ++i) {
    h.transport->script.push_back(i % 3 == 0 ? dropped() : reply(i % 3 == 1 ? 503 : 200));
  }
  while (!h.transport->script.empty()) {
    h.get();
  }
  EXPECT_EQ(h.transport->sent.size(), 30U);
  EXPECT_EQ(h.client.stats().retries.load(), 20);
  EXPECT_LE(busiest_second(h.transport->sent_at), 5U);
}

TEST(HttpClient, WaitsOutAPauseThatBeganWhileItWaitedForItsSlot) {
  Harness h;
  for (int i = 0; i < 5; ++i) {
    h.limiter.reserve("another reader", "appA", h.clock.now());
  }
  // While this request sleeps until its slot (~1 s), another reader's 429 pauses the base.
  h.clock.on_sleep = [&h] { h.limiter.pause_base("appA", TimePoint{} + seconds(30)); };
  h.transport->script = {reply(200, "ok")};
  EXPECT_EQ(h.get(), "ok");
  EXPECT_GE(h.transport->sent_at[0], TimePoint{} + seconds(30));
}

TEST(HttpClient, AHostThatDoesNotResolveFailsAtOnceNamingTheHost) {
  Harness h(RetryPolicy{}, "https://someone:hunter2@api.airtable.invalid/v0");
  h.transport->script = {
      failed(TransportFailure::kResolve, "Could not resolve host: api.airtable.invalid")};
  try {
    h.get();
    FAIL() << "expected a transport error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kTransport);
    EXPECT_NE(message.find("The host api.airtable.invalid does not resolve"), std::string::npos)
        << message;
    for (const char* setting : {"--base-url", "AIRTABLE_BASE_URL", "connection.base_url"}) {
      EXPECT_NE(message.find(setting), std::string::npos) << message;
    }
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  }
  EXPECT_EQ(h.transport->sent.size(), 1U);
  EXPECT_EQ(h.clock.now(), TimePoint{});  // no backoff either
}

TEST(HttpClient, ACertificateThatDoesNotVerifyIsNotRetried) {
  Harness h;
  h.transport->script = {failed(TransportFailure::kTls, "SSL certificate problem")};
  try {
    h.get();
    FAIL() << "expected a transport error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTransport);
    EXPECT_NE(std::string(e.what()).find("ca_bundle"), std::string::npos) << e.what();
  }
  EXPECT_EQ(h.transport->sent.size(), 1U);
}

TEST(HttpClient, ARefusedConnectionIsRetriedBrieflyThenNamesTheBaseUrl) {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    h.transport->script.push_back(
        failed(TransportFailure::kConnect, "Failed to connect to airtable.test port 443"));
  }
  try {
    h.get();
    FAIL() << "expected a transport error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kTransport);
    EXPECT_NE(message.find("Could not connect to airtable.test"), std::string::npos) << message;
    EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
    EXPECT_NE(message.find("--base-url"), std::string::npos) << message;
  }
  EXPECT_EQ(h.transport->sent.size(), 3U);
  EXPECT_LE(h.clock.now() - TimePoint{}, milliseconds(1500));
}

Error expect_error(Harness& h, Response r) {
  h.transport->script = {std::move(r)};
  try {
    h.get();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::kInternal, "");
}

TEST(HttpClient, TypedErrorsSayWhatToDoAndNeverShowTheToken) {
  Harness h;
  const Error auth = expect_error(
      h,
      reply(401,
            R"({"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}})"));
  EXPECT_EQ(auth.kind(), ErrorKind::kAuthentication);
  EXPECT_EQ(auth.http_status(), 401);
  EXPECT_NE(std::string(auth.what()).find("AIRTABLE_TOKEN"), std::string::npos);
  const Error denied = expect_error(
      h,
      reply(403, R"({"error":{"type":"INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND","message":"no"}})"));
  EXPECT_EQ(denied.kind(), ErrorKind::kPermission);
  EXPECT_NE(std::string(denied.what()).find("data.records:read"), std::string::npos);
  const Error missing = expect_error(h, reply(404, R"({"error":"NOT_FOUND"})"));
  EXPECT_EQ(missing.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.airtable_type(), "NOT_FOUND");
  const Error echo = expect_error(
      h,
      reply(422, R"({"error":{"type":"INVALID_FILTER_BY_FORMULA","message":")" + kToken + "\"}}"));
  EXPECT_EQ(echo.kind(), ErrorKind::kInvalidRequest);
  EXPECT_EQ(std::string(echo.what()).find(kToken), std::string::npos);
  const Error html = expect_error(h, reply(400, "<html>Bad gateway</html>"));
  EXPECT_EQ(html.kind(), ErrorKind::kInvalidRequest);
}

TEST(HttpClient, GivesUpAfterBoundedRetries) {
  Harness h;
  for (int i = 0; i < 20; ++i) {
    h.transport->script.push_back(Response{0, "", std::nullopt, "Could not connect"});
  }
  try {
    h.get();
    FAIL() << "expected a transport error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTransport);
    EXPECT_NE(std::string(e.what()).find("Could not connect"), std::string::npos);
  }
  EXPECT_EQ(h.transport->sent.size(), static_cast<size_t>(RetryPolicy{}.max_attempts));
}

TEST(HttpClient, IteratorExpiryAsksTheCallerToRestart) {
  Harness h;
  h.transport->script = {reply(422, R"({"error":{"type":"LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}})")};
  EXPECT_THROW(h.get(), ListingExpired);
}

TEST(HttpClient, ParsesErrorBodies) {
  EXPECT_EQ(parse_error_body(R"({"error":"NOT_FOUND"})").first, "NOT_FOUND");
  EXPECT_EQ(parse_error_body(R"({"error":{"type":"X","message":"m"}})"),
            (std::pair<std::string, std::string>{"X", "m"}));
  EXPECT_EQ(parse_error_body("not json").first, "");
  EXPECT_EQ(redact("a SECRET b SECRET", "SECRET"), "a [REDACTED] b [REDACTED]");
}

const char* const kQuotaBody =
    R"({"error":{"type":"PUBLIC_API_BILLING_LIMIT_EXCEEDED","message":"over"}})";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Another reader of the harness's limiter (another thread, or through the host table another
// process) with a transport of its own.
struct OtherReader {
  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
  HttpClient client;
  OtherReader(Harness& h, const std::string& token,
              const std::string& base_url = "http://airtable.test")
      : client(ClientConfig{base_url, token, {}}, transport, h.clock, h.limiter,
               [] { return 0.5; }) {
    transport->clock = &h.clock;
  }
  std::string get(const std::string& base = "appA") {
    return client.call("GET", "/v0/" + base + "/tblU", base, "", "table tblU of base " + base,
                       "data.records:read");
  }
};

TEST(HttpClient, AQuotaAnswerFailsAtOnceAndSaysEveryOtherReaderStops) {
  Harness h;
  const Error quota = expect_error(h, reply(429, kQuotaBody));
  EXPECT_EQ(quota.kind(), ErrorKind::kQuota);
  EXPECT_EQ(quota.http_status(), 429);
  EXPECT_EQ(h.transport->sent.size(), 1U);  // no retry
  const std::string message = quota.what();
  EXPECT_TRUE(contains(message, "monthly API quota")) << message;
  EXPECT_TRUE(contains(message, "raise the plan's quota")) << message;
  // The harness's limiter is this process's own (a host table's says "on this host").
  EXPECT_TRUE(contains(message, "Every other reader of this token in this process stops"))
      << message;
  EXPECT_TRUE(contains(message, "for the next 120 s")) << message;
}

TEST(HttpClient, AQuotaAnswerStopsEveryOtherReaderOfTheTokenBeforeItsNextSend) {
  Harness h;
  OtherReader same_token(h, kToken);
  EXPECT_EQ(same_token.get(), "{}");  // before: it sends
  expect_error(h, reply(429, kQuotaBody));
  h.clock.sleep_until(h.clock.now() + seconds(7));
  try {
    same_token.get("appB");  // another base, the same token: stopped too
    FAIL() << "expected the quota error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kQuota);
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.airtable_type(), "PUBLIC_API_BILLING_LIMIT_EXCEEDED");
    EXPECT_TRUE(contains(message, "Stopped before sending a request for table tblU of base appB"))
        << message;
    EXPECT_TRUE(contains(message, "7 s ago")) << message;
    EXPECT_TRUE(contains(message, "monthly API quota")) << message;
    EXPECT_TRUE(contains(message, "Wait for the month to reset, or raise the plan's quota"))
        << message;
    EXPECT_TRUE(contains(message, "for another 113 s")) << message;
    EXPECT_FALSE(contains(message, kToken)) << message;
  }
  EXPECT_EQ(same_token.transport->sent.size(), 1U);  // nothing after the mark
  // The harness's own reader stops too; other tokens, and this token at another server, don't.
  EXPECT_THROW(h.get(), Error);
  EXPECT_EQ(h.transport->sent.size(), 1U);
  OtherReader other_token(h, kToken + "x");
  EXPECT_EQ(other_token.get(), "{}");
  OtherReader other_server(h, kToken, "http://127.0.0.1:8080");
  EXPECT_EQ(other_server.get(), "{}");
}

TEST(HttpClient, AReaderWaitingForItsSlotWakesAndFailsWhenTheQuotaIsFound) {
  Harness h;
  for (int i = 0; i < 5; ++i) {
    h.limiter.reserve("another reader", "appA", h.clock.now());  // the base's second is full
  }
  // While this request sleeps until its slot (~1 s), a reader of its token meets the quota.
  OtherReader finder(h, kToken);
  finder.transport->script = {reply(429, kQuotaBody)};
  h.clock.on_sleep = [&finder] { EXPECT_THROW(finder.get("appB"), Error); };
  EXPECT_THROW(
      {
        try {
          h.get();
        } catch (const Error& e) {
          EXPECT_EQ(e.kind(), ErrorKind::kQuota);
          throw;
        }
      },
      Error);
  EXPECT_TRUE(h.transport->sent.empty());
  // It woke within one slice (50 ms) of the mark instead of sleeping to its slot.
  EXPECT_LE(h.clock.now() - TimePoint{}, milliseconds(50));
}

TEST(HttpClient, AReaderInARateLimitPauseWakesAndFailsWhenTheQuotaIsFound) {
  Harness h;
  OtherReader finder(h, kToken);
  finder.transport->script = {reply(429, kQuotaBody)};
  h.transport->script = {reply(429, R"({"error":{"type":"RATE_LIMIT_REACHED"}})")};
  h.clock.on_sleep = [&finder] { EXPECT_THROW(finder.get("appB"), Error); };
  try {
    h.get();
    FAIL() << "expected the quota error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuota);
  }
  EXPECT_EQ(h.transport->sent.size(), 1U);  // the 429 only; nothing after the 30 s pause
  EXPECT_LE(h.clock.now() - TimePoint{}, milliseconds(50));
}

TEST(HttpClient, TheQuotaMarkExpiresSoARaisedQuotaIsUsedAgain) {
  Harness h;
  expect_error(h, reply(429, kQuotaBody));
  const Duration stop = h.limiter.limit().quota_stop;
  h.clock.sleep_until(TimePoint{} + stop - milliseconds(1));
  EXPECT_THROW(h.get(), Error);
  EXPECT_EQ(h.transport->sent.size(), 1U);
  h.clock.sleep_until(TimePoint{} + stop);
  h.transport->script = {reply(200, "raised")};
  EXPECT_EQ(h.get(), "raised");
  EXPECT_EQ(h.transport->sent.size(), 2U);
}

TEST(HttpClient, AReaderWithAShareOfTwoSendsAtMostTwoPerSecond) {
  Harness h(RetryPolicy{}, "http://airtable.test", 2);
  for (int i = 0; i < 30; ++i) {
    h.get();
  }
  const auto& at = h.transport->sent_at;
  EXPECT_TRUE(within_rate(at, 2, seconds(1)));
  // And close to it: 2 per (1 s + the 25 ms margin).
  EXPECT_LE(at.back() - at.front(), 29 * milliseconds(1025) / 2 + milliseconds(1));
}

// Regression (8 Spark readers starting at once): the slot was taken before a new connection
// came up, and the request reached the server that much later, out of the window its slot had
// been checked in: six sends of one base within a second, a 429 and a 30 s pause.
TEST(HttpClient, ASendWhoseConnectionCameUpLateTakesASlotForTheActualInstant) {
  Harness h;
  for (int i = 0; i < 4; ++i) {  // four requests of other readers of the base, just sent
    h.limiter.reserve("another reader", "appA", h.clock.now());
  }
  std::vector<TimePoint> others;
  h.transport->connect_times = {milliseconds(300)};  // a new connection: a handshake and more
  // While it connects, other readers take the next five slots of the base (from 1.025 s on).
  h.clock.on_sleep = [&] {
    for (int i = 0; i < 5; ++i) {
      others.push_back(h.limiter.reserve("another reader", "appA", TimePoint{}));
    }
  };
  h.transport->script = {reply(200, "ok")};
  EXPECT_EQ(h.get(), "ok");
  ASSERT_EQ(h.transport->sent_at.size(), 1U);
  EXPECT_EQ(h.client.stats().late_sends.load(), 1);
  // Sent at 0.3 s it would have been the 6th within a second with those five.
  std::vector<TimePoint> actual(4, TimePoint{});
  actual.insert(actual.end(), others.begin(), others.end());
  actual.push_back(h.transport->sent_at[0]);
  EXPECT_TRUE(within_limit(actual, 5, seconds(1)));
  EXPECT_GE(h.transport->sent_at[0], others.back() + h.limiter.limit().window);
  // The limiter logged the actual instant: the next slot counts it.
  EXPECT_GE(h.limiter.reserve("another reader", "appA", h.transport->sent_at[0]),
            h.transport->sent_at[0]);
  EXPECT_EQ(h.transport->refused, 0);
}

TEST(HttpClient, ARequestOnANewConnectionWaitsForTheServerToAcceptItFirst) {
  Harness h;
  for (int i = 0; i < 4; ++i) {  // four of the base's five, just sent by other readers
    h.limiter.reserve("another reader", "appA", h.clock.now());
  }
  h.transport->new_connections = {true, false};
  h.transport->script = {reply(200, "a"), reply(200, "b")};
  EXPECT_EQ(h.get(), "a");
  const Duration settle = h.limiter.limit().settle;
  ASSERT_GT(settle, h.limiter.limit().margin);
  // It waited, then went at once: its old slot (0) had passed, the new one (the 5th) was free.
  EXPECT_EQ(h.transport->sent_at.at(0), TimePoint{} + settle);
  EXPECT_EQ(h.client.stats().new_connections.load(), 1);
  EXPECT_EQ(h.client.stats().late_sends.load(), 1);
  // The connection is reused: no wait; the base's window is full until 1.025 s after the four.
  EXPECT_EQ(h.get(), "b");
  EXPECT_EQ(h.transport->sent_at.at(1),
            TimePoint{} + h.limiter.limit().window + h.limiter.limit().margin);
  EXPECT_EQ(h.client.stats().new_connections.load(), 1);
}

TEST(HttpClient, ASendLateByLessThanTheMarginGoesAsItIs) {
  Harness h;
  h.transport->connect_times = {h.limiter.limit().margin};
  EXPECT_EQ(h.get(), "{}");
  EXPECT_EQ(h.transport->sent_at[0], TimePoint{} + h.limiter.limit().margin);
  EXPECT_EQ(h.client.stats().late_sends.load(), 0);
}

TEST(HttpClient, ALateSendWhoseNewSlotIsFarIsHeldBackAndRetriedThroughTheLimiter) {
  RetryPolicy policy;
  policy.max_attempts = 1;  // holding a send back costs no attempt
  Harness h(policy);
  h.transport->connect_times = {milliseconds(300)};
  // While it connects, another reader's 429 pauses the base for 30 s.
  h.clock.on_sleep = [&h] { h.limiter.pause_base("appA", TimePoint{} + seconds(30)); };
  h.transport->script = {reply(200, "ok")};
  EXPECT_EQ(h.get(), "ok");
  EXPECT_EQ(h.transport->refused, 1);
  ASSERT_EQ(h.transport->sent_at.size(), 1U);
  EXPECT_GE(h.transport->sent_at[0], TimePoint{} + seconds(30));
  EXPECT_EQ(h.client.stats().requests.load(), 1);
  EXPECT_EQ(h.client.stats().retries.load(), 0);
}

// Another reader's five sends of the base taken while this one's connection comes up (its slot
// was 0, theirs are from 1.025 s on), then `next` on the clock's next sleep: the wait in the
// hook for the late send's new slot.
void while_connecting(Harness& h, std::function<void()> next) {
  h.transport->connect_times = {milliseconds(300)};
  h.clock.on_sleep = [&h, next = std::move(next)] {
    for (int i = 0; i < 5; ++i) {
      h.limiter.reserve("another reader", "appA", TimePoint{});
    }
    h.clock.on_sleep = next;
  };
}

TEST(HttpClient, ACancelWhileALateSendWaitsEndsTheRequestWithCancelled) {
  Harness h;
  while_connecting(h, [&h] { h.client.cancel(); });
  EXPECT_THROW(h.get(), Cancelled);
  EXPECT_EQ(h.client.stats().late_sends.load(), 1);
  EXPECT_EQ(h.transport->refused, 1);
  EXPECT_TRUE(h.transport->sent.empty());
  EXPECT_EQ(h.client.stats().requests.load(), 0);
  EXPECT_LT(h.clock.now() - TimePoint{}, seconds(1));  // not slept to its new slot
  h.client.uncancel();  // the client and its transport are usable again
  EXPECT_EQ(h.get(), "{}");
}

TEST(HttpClient, AQuotaFoundWhileALateSendWaitsStopsIt) {
  Harness h;
  OtherReader finder(h, kToken);
  finder.transport->script = {reply(429, kQuotaBody)};
  while_connecting(h, [&finder] { EXPECT_THROW(finder.get("appB"), Error); });
  try {
    h.get();
    FAIL() << "expected the quota error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuota);
  }
  EXPECT_EQ(h.transport->refused, 1);
  EXPECT_TRUE(h.transport->sent.empty());
}

}  // namespace
}  // namespace airtable_lakeflow::http
