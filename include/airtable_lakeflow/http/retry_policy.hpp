// What to do with each answer from Airtable, as data: retry with backoff, pause the base,
// restart a listing, or fail with a typed error. Pure functions of the response, the attempt
// and a random number, so tests cover every branch without a network or a clock.
#pragma once

#include <optional>
#include <string>

#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/http/clock.hpp"
#include "airtable_lakeflow/http/transport.hpp"

namespace airtable_lakeflow::http {

struct RetryPolicy {
  int max_attempts = 8;  // per request, for 5xx, timeouts and resets
  // A refused connection or failed TLS handshake: enough attempts to ride out a proxy or load
  // balancer restarting (backoff 0.25-0.5 s, then 0.5-1 s: at most 1.5 s of waiting), few
  // enough that a wrong base URL fails within ~2 s. A host that does not resolve, a
  // certificate that does not verify and a URL that is not http(s) are not retried at all.
  int max_connect_attempts = 3;
  // A reused connection that closed before any answer is most often a keep-alive connection
  // the server had closed: the first retry waits only for its slot from the limiter.
  Duration dropped_connection_wait{0};
  Duration initial_backoff = std::chrono::milliseconds(500);
  Duration max_backoff = std::chrono::seconds(60);
  Duration rate_limit_pause = std::chrono::seconds(30);  // Airtable's penalty after a 429
  int max_rate_limit_pauses = 10;
  int max_listing_restarts = 5;  // LIST_RECORDS_ITERATOR_NOT_AVAILABLE mid-table
};

// What came back: a status and Airtable's error type, or a transport failure.
struct Answer {
  int status = 0;               // 0 when the transport failed
  std::string error_type;       // Airtable's error.type (or bare error string)
  std::string transport_error;  // curl's message when status == 0
  TransportFailure transport_failure = TransportFailure::kNone;  // when status == 0
  std::optional<double> retry_after_s;
};

struct Decision {
  enum class Action { kSuccess, kRetry, kPauseBase, kRestartListing, kFail };
  Action action = Action::kSuccess;
  Duration wait{0};
  ErrorKind error_kind = ErrorKind::kInternal;
};

// `attempt` counts from 1; `random01` in [0, 1) drives the jitter.
Decision decide(const RetryPolicy& policy, const Answer& answer, int attempt, int rate_limit_pauses,
                double random01);

}  // namespace airtable_lakeflow::http
