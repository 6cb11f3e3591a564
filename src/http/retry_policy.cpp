#include "airtable_lakeflow/http/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace airtable_lakeflow::http {

namespace {

Decision fail(ErrorKind kind) {
  Decision d;
  d.action = Decision::Action::kFail;
  d.error_kind = kind;
  return d;
}

// Exponential backoff with "equal jitter": half fixed, half random, capped.
Duration backoff(const RetryPolicy& policy, int attempt, double random01) {
  const double base = std::chrono::duration<double>(policy.initial_backoff).count() *
                      std::pow(2.0, std::max(0, attempt - 1));
  const double capped = std::min(base, std::chrono::duration<double>(policy.max_backoff).count());
  const double seconds = capped / 2 + capped / 2 * random01;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

Decision decide(const RetryPolicy& policy, const Answer& answer, int attempt, int rate_limit_pauses,
                double random01) {
  const int status = answer.status;
  if (status >= 200 && status < 300) {
    return {};
  }
  int max_attempts = policy.max_attempts;
  if (status == 0) {
    switch (answer.transport_failure) {
      case TransportFailure::kResolve:
      case TransportFailure::kTls:
      case TransportFailure::kInvalidUrl: return fail(ErrorKind::kTransport);
      case TransportFailure::kConnect:
        max_attempts = std::min(max_attempts, policy.max_connect_attempts);
        break;
      case TransportFailure::kNone:
      case TransportFailure::kTransient:
      case TransportFailure::kDropped:
      case TransportFailure::kNotSent: break;
    }
  }
  const bool retriable =
      status == 0 || status == 500 || status == 502 || status == 503 || status == 504;
  if (retriable) {
    if (attempt >= max_attempts) {
      return fail(status == 0 ? ErrorKind::kTransport : ErrorKind::kServer);
    }
    Decision d;
    d.action = Decision::Action::kRetry;
    const bool dropped = answer.transport_failure == TransportFailure::kDropped && attempt == 1;
    d.wait = dropped ? policy.dropped_connection_wait : backoff(policy, attempt, random01);
    if (answer.retry_after_s) {
      d.wait = std::max(d.wait, std::chrono::duration_cast<Duration>(
                                    std::chrono::duration<double>(*answer.retry_after_s)));
    }
    return d;
  }
  if (status == 429) {
    if (answer.error_type == "PUBLIC_API_BILLING_LIMIT_EXCEEDED") {
      return fail(ErrorKind::kQuota);
    }
    if (rate_limit_pauses >= policy.max_rate_limit_pauses) {
      return fail(ErrorKind::kRateLimit);
    }
    Decision d;
    d.action = Decision::Action::kPauseBase;
    // A little jitter so concurrent readers of one base do not all return at once.
    d.wait = policy.rate_limit_pause +
             std::chrono::duration_cast<Duration>(std::chrono::duration<double>(random01));
    return d;
  }
  if (status == 422 && (answer.error_type == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" ||
                        answer.error_type == "INVALID_OFFSET_VALUE")) {
    Decision d;
    d.action = Decision::Action::kRestartListing;
    return d;
  }
  switch (status) {
    case 401: return fail(ErrorKind::kAuthentication);
    case 403: return fail(ErrorKind::kPermission);
    case 404: return fail(ErrorKind::kNotFound);
    default: return fail(ErrorKind::kInvalidRequest);
  }
}

}  // namespace airtable_lakeflow::http
