#include "airtable_lakeflow/http/http_client.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace airtable_lakeflow::http {
namespace {

using std::chrono::seconds;

const std::string kToken =
    "patTestToken00001.0000000000000000000000000000000000000000000000000000000000000abc";

class ScriptedTransport : public Transport {
 public:
  std::deque<Response> script;
  std::vector<Request> sent;
  std::vector<TimePoint> sent_at;
  Clock* clock = nullptr;

  Response send(const Request& request) override {
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

struct Harness {
  FakeClock clock;
  RateLimiter limiter;
  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
  HttpClient client;
  Harness()
      : client(ClientConfig{"http://airtable.test/v0/", kToken, RetryPolicy{}}, transport, clock,
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
  const Error quota = expect_error(
      h, reply(429, R"({"error":{"type":"PUBLIC_API_BILLING_LIMIT_EXCEEDED","message":"over"}})"));
  EXPECT_EQ(quota.kind(), ErrorKind::kQuota);
  EXPECT_EQ(h.transport->sent.size(), 1U);  // no retry
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

}  // namespace
}  // namespace airtable_lakeflow::http
