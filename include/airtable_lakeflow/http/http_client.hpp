// Airtable requests with the whole policy applied: throttle every attempt before sending
// (shared limiter), retry 5xx / timeouts / resets with backoff and refused connections
// briefly, pause a base after a 429, fail at once on a quota 429, a 4xx, a host that does not
// resolve or a certificate that does not verify, with a typed error whose message says what
// to do. A quota 429 also stops every other reader of the token through the limiter: none
// sends, and each fails with the same kind of error. The token never appears in a message.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/http/clock.hpp"
#include "airtable_lakeflow/http/rate_limiter.hpp"
#include "airtable_lakeflow/http/retry_policy.hpp"
#include "airtable_lakeflow/http/transport.hpp"

namespace airtable_lakeflow::http {

// The listing's iterator is gone (422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE or a bad offset):
// the caller restarts the listing.
class ListingExpired : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// cancel() was called: the caller abandoned the work.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClientConfig {
  std::string base_url = "https://api.airtable.com";  // a trailing "/v0" is tolerated
  std::string token;
  RetryPolicy policy;
  // Off only against a local emulator with its limits off (benchmarks): Airtable itself
  // answers 429 and a 30 s penalty to clients that do not throttle.
  bool throttle = true;
  // This reader's share of each base's 5 requests/s, in (0, 5]: on a cluster whose hosts
  // cannot see each other's sends, each host's readers take 5 / hosts (RateLimiter::reserve).
  double requests_per_second = 5;
};

struct ClientStats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> rate_limited{0};  // 429 RATE_LIMIT_REACHED answers seen
  std::atomic<int64_t> throttle_wait_ms{0};
  // Sends that found their slot passed by more than RateLimit::margin once the connection was
  // up (a new connection's handshake, a loaded machine) and took a new one.
  std::atomic<int64_t> late_sends{0};
  // Sends that opened a connection and waited RateLimit::settle before going (see there).
  std::atomic<int64_t> new_connections{0};
};

class HttpClient {
 public:
  HttpClient(ClientConfig config, std::shared_ptr<Transport> transport, Clock& clock,
             RateLimiter& limiter, std::function<double()> random01 = {});

  // `path` starts with "/v0/…" and includes any query string. Returns the 2xx body.
  // `what` names the thing for messages ("table Tasks of base app…"); `scope` the scope the
  // call needs. Throws Error, or ListingExpired when an offset is no longer valid.
  std::string call(const std::string& method, const std::string& path, const std::string& base_id,
                   const std::string& body, const std::string& what, const std::string& scope);

  [[nodiscard]] const ClientStats& stats() const { return stats_; }
  // Makes every call (now or later) throw Cancelled at its next wait or request; thread-safe.
  void cancel() { cancelled_ = true; }
  void uncancel() { cancelled_ = false; }
  [[nodiscard]] const std::string& base_url() const { return base_url_; }

 private:
  // `attempts`: how many were made, for the message.
  Error to_error(ErrorKind kind, const Response& response, const std::string& type,
                 const std::string& airtable_message, const std::string& what,
                 const std::string& scope, int attempts) const;
  // A transport failure's message: names the base URL's host (never the token) and says what
  // to check.
  std::string transport_message(const Response& response, const std::string& what,
                                int attempts) const;

  ClientConfig config_;
  std::string base_url_;
  std::string token_key_;
  // The token at this API server: an emulator or proxy at another URL has quotas of its own.
  std::string quota_key_;
  std::shared_ptr<Transport> transport_;
  Clock& clock_;
  RateLimiter& limiter_;
  std::function<double()> random01_;
  ClientStats stats_;
  std::atomic<bool> cancelled_{false};

  // Reserves this attempt's slot from the limiter (per base and per token) and sleeps until
  // it, and past any pause of the base. Returns the slot.
  TimePoint wait_for_slot(const std::string& base_id, const std::string& what);
  // The transport's BeforeSend check, once the connection is up: whether the request may go now
  // for the slot it was given. Throws Cancelled or the quota error (the caller's hook catches).
  bool still_in_slot(TimePoint& slot, const std::string& base_id, const std::string& what);
  // Waits RateLimit::settle on a connection just opened, before its first request goes: gives
  // its slot back (still_in_slot then takes one for the moment it goes).
  void settle(TimePoint slot, const std::string& base_id, const std::string& what);
  // Sleeps in slices, throwing Cancelled or the quota error as soon as either appears.
  void sleep_until(TimePoint until, const std::string& what);
  // Throws kQuota when a reader of this token (this one or another, in any process of the
  // host) met its monthly quota within RateLimit::quota_stop: nothing more is sent.
  void stop_if_quota_exhausted(const std::string& what);
  // Who shares this client's limiter: "on this host" (the host table) or "in this process".
  [[nodiscard]] std::string limiter_scope() const;
};

// Airtable's error body: {"error": {"type", "message"}} or {"error": "TYPE"}; tolerant of
// bodies that are not JSON. Returns {type, message}.
std::pair<std::string, std::string> parse_error_body(const std::string& body);
// Replaces every occurrence of `secret` in `text` with a redaction marker.
std::string redact(std::string text, const std::string& secret);

}  // namespace airtable_lakeflow::http
