#include "airtable_lakeflow/http/retry_policy.hpp"

#include <gtest/gtest.h>

namespace airtable_lakeflow::http {
namespace {

using Action = Decision::Action;
using std::chrono::milliseconds;
using std::chrono::seconds;

Answer answer(int status, std::string type = {}) {
  Answer a;
  a.status = status;
  a.error_type = std::move(type);
  return a;
}

struct Case {
  int status;
  const char* type;
  Action action;
  ErrorKind kind;
};

TEST(RetryPolicy, EachAnswerHasOneAction) {
  const RetryPolicy policy;
  const Case cases[] = {
      {200, "", Action::kSuccess, ErrorKind::kInternal},
      {500, "", Action::kRetry, ErrorKind::kInternal},
      {502, "", Action::kRetry, ErrorKind::kInternal},
      {503, "RETRIABLE_ERROR", Action::kRetry, ErrorKind::kInternal},
      {0, "", Action::kRetry, ErrorKind::kInternal},
      {429, "RATE_LIMIT_REACHED", Action::kPauseBase, ErrorKind::kInternal},
      {429, "PUBLIC_API_BILLING_LIMIT_EXCEEDED", Action::kFail, ErrorKind::kQuota},
      {422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", Action::kRestartListing, ErrorKind::kInternal},
      {422, "INVALID_OFFSET_VALUE", Action::kRestartListing, ErrorKind::kInternal},
      {422, "INVALID_FILTER_BY_FORMULA", Action::kFail, ErrorKind::kInvalidRequest},
      {401, "AUTHENTICATION_REQUIRED", Action::kFail, ErrorKind::kAuthentication},
      {403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", Action::kFail, ErrorKind::kPermission},
      {404, "TABLE_NOT_FOUND", Action::kFail, ErrorKind::kNotFound},
      {414, "", Action::kFail, ErrorKind::kInvalidRequest},
  };
  for (const Case& c : cases) {
    const Decision d = decide(policy, answer(c.status, c.type), 1, 0, 0.5);
    EXPECT_EQ(d.action, c.action) << c.status << " " << c.type;
    if (c.action == Action::kFail) {
      EXPECT_EQ(d.error_kind, c.kind) << c.status << " " << c.type;
    }
  }
}

TEST(RetryPolicy, BackoffGrowsIsCappedAndJittered) {
  RetryPolicy policy;
  policy.max_attempts = 20;
  Duration previous{0};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const Duration low = decide(policy, answer(503), attempt, 0, 0.0).wait;
    const Duration high = decide(policy, answer(503), attempt, 0, 0.999).wait;
    EXPECT_LT(low, high);
    EXPECT_GE(low, previous);
    previous = low;
  }
  EXPECT_LE(decide(policy, answer(500), 19, 0, 0.999).wait, policy.max_backoff);
  EXPECT_EQ(decide(policy, answer(500), 1, 0, 0.0).wait, milliseconds(250));
}

TEST(RetryPolicy, RetryAfterIsHonoured) {
  Answer a = answer(503, "RETRIABLE_ERROR");
  a.retry_after_s = 7;
  EXPECT_GE(decide(RetryPolicy{}, a, 1, 0, 0.0).wait, seconds(7));
}

TEST(RetryPolicy, RateLimitPausesAtLeastThePenaltyThenGivesUp) {
  const RetryPolicy policy;
  const Decision pause = decide(policy, answer(429, "RATE_LIMIT_REACHED"), 1, 0, 0.3);
  EXPECT_GE(pause.wait, seconds(30));
  EXPECT_LT(pause.wait, seconds(31));
  const Decision done =
      decide(policy, answer(429, "RATE_LIMIT_REACHED"), 1, policy.max_rate_limit_pauses, 0.3);
  EXPECT_EQ(done.action, Action::kFail);
  EXPECT_EQ(done.error_kind, ErrorKind::kRateLimit);
}

TEST(RetryPolicy, RetriesAreBounded) {
  const RetryPolicy policy;
  EXPECT_EQ(decide(policy, answer(502), policy.max_attempts, 0, 0).action, Action::kFail);
  EXPECT_EQ(decide(policy, answer(502), policy.max_attempts, 0, 0).error_kind, ErrorKind::kServer);
  EXPECT_EQ(decide(policy, answer(0), policy.max_attempts, 0, 0).error_kind, ErrorKind::kTransport);
}

TEST(RetryPolicy, TransportFailuresAreRetriedOnlyWhenARetryCanHelp) {
  const RetryPolicy policy;
  struct FailureCase {
    TransportFailure failure;
    int attempt;
    Action action;
  };
  const FailureCase cases[] = {
      {TransportFailure::kTransient, 1, Action::kRetry},
      {TransportFailure::kTransient, policy.max_attempts - 1, Action::kRetry},
      {TransportFailure::kTransient, policy.max_attempts, Action::kFail},
      {TransportFailure::kNone, 1, Action::kRetry},  // a status 0 without a cause: transient
      {TransportFailure::kDropped, 1, Action::kRetry},
      {TransportFailure::kDropped, policy.max_attempts, Action::kFail},
      {TransportFailure::kConnect, 1, Action::kRetry},
      {TransportFailure::kConnect, policy.max_connect_attempts - 1, Action::kRetry},
      {TransportFailure::kConnect, policy.max_connect_attempts, Action::kFail},
      {TransportFailure::kResolve, 1, Action::kFail},
      {TransportFailure::kTls, 1, Action::kFail},
      {TransportFailure::kInvalidUrl, 1, Action::kFail},
  };
  for (const FailureCase& c : cases) {
    Answer a = answer(0);
    a.transport_failure = c.failure;
    const Decision d = decide(policy, a, c.attempt, 0, 0.5);
    EXPECT_EQ(d.action, c.action) << static_cast<int>(c.failure) << " attempt " << c.attempt;
    if (d.action == Action::kFail) {
      EXPECT_EQ(d.error_kind, ErrorKind::kTransport);
    }
  }
}

TEST(RetryPolicy, ADroppedReusedConnectionIsResentOnceWithoutBackoff) {
  const RetryPolicy policy;
  Answer dropped = answer(0);
  dropped.transport_failure = TransportFailure::kDropped;
  EXPECT_EQ(decide(policy, dropped, 1, 0, 0.5).wait, policy.dropped_connection_wait);
  // Dropped again: the server may be in trouble, so back off as for a 5xx.
  EXPECT_EQ(decide(policy, dropped, 2, 0, 0.5).wait, decide(policy, answer(503), 2, 0, 0.5).wait);
}

TEST(RetryPolicy, ARefusedConnectionGivesUpWithinTwoSeconds) {
  const RetryPolicy policy;
  Answer refused = answer(0);
  refused.transport_failure = TransportFailure::kConnect;
  Duration waited{0};
  int attempt = 1;
  for (Decision d = decide(policy, refused, attempt, 0, 0.999); d.action == Action::kRetry;
       d = decide(policy, refused, ++attempt, 0, 0.999)) {
    waited += d.wait;
  }
  EXPECT_EQ(attempt, policy.max_connect_attempts);
  EXPECT_LT(waited, seconds(2));
}

}  // namespace
}  // namespace airtable_lakeflow::http
