// What to do with each answer from Airtable, as data: retry with backoff, pause the base,
// restart a listing, or fail with a typed error. Pure functions of the response, the attempt
// and a random number, so tests cover every branch without a network or a clock.
#pragma once

#include <optional>
#include <string>

#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/http/clock.hpp"

namespace airtable_lakeflow::http {

struct RetryPolicy {
  int max_attempts = 8;  // per request, for 5xx, timeouts and resets
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
