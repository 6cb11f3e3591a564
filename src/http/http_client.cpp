#include "airtable_lakeflow/http/http_client.hpp"

#include <simdjson.h>

#include <algorithm>
#include <exception>
#include <random>

namespace airtable_lakeflow::http {

namespace {

std::string normalise_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v0") == 0) {
    url.resize(url.size() - 3);
  }
  return url;
}

// "host[:port]" of a URL, without scheme, user info or path: what an error may show.
std::string url_host(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.rfind('@', end == 0 ? 0 : end - 1);
  if (at != std::string::npos && at >= start && at < end) {
    start = at + 1;
  }
  return url.substr(start, end - start);
}

std::string token_key(const std::string& token) {
  // Only a hash identifies the token inside the process; the token itself is never stored
  // anywhere but the Authorization header.
  return "tok" + std::to_string(std::hash<std::string>{}(token));
}

// "12 s": whole seconds, rounded up (a time left) or down (a time past).
std::string seconds_text(Duration duration, bool round_up = true) {
  const auto seconds = round_up ? std::chrono::ceil<std::chrono::seconds>(duration).count()
                                : std::chrono::floor<std::chrono::seconds>(duration).count();
  return std::to_string(std::max<int64_t>(seconds, 0)) + " s";
}

}  // namespace

std::pair<std::string, std::string> parse_error_body(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    return {"", ""};
  }
  simdjson::dom::element error;
  if (doc["error"].get(error) != simdjson::SUCCESS) {
    return {"", ""};
  }
  std::string_view text;
  if (error.get_string().get(text) == simdjson::SUCCESS) {
    return {std::string(text), ""};
  }
  std::string type;
  std::string message;
  if (error["type"].get_string().get(text) == simdjson::SUCCESS) {
    type = text;
  }
  if (error["message"].get_string().get(text) == simdjson::SUCCESS) {
    message = text;
  }
  return {type, message};
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) {
    return text;
  }
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[REDACTED]");
  }
  return text;
}

HttpClient::HttpClient(ClientConfig config, std::shared_ptr<Transport> transport, Clock& clock,
                       RateLimiter& limiter, std::function<double()> random01)
    : config_(std::move(config)),
      base_url_(normalise_base_url(config_.base_url)),
      token_key_(token_key(config_.token)),
      quota_key_(token_key(base_url_ + "\n" + config_.token)),
      transport_(std::move(transport)),
      clock_(clock),
      limiter_(limiter),
      random01_(std::move(random01)) {
  if (!random01_) {
    random01_ = [rng = std::make_shared<std::mt19937_64>(std::random_device{}())]() {
      return std::uniform_real_distribution<double>(0, 1)(*rng);
    };
  }
}

std::string HttpClient::transport_message(const Response& response, const std::string& what,
                                          int attempts) const {
  const std::string host = url_host(base_url_);
  const std::string cause = " (" + response.transport_error + ")";
  const std::string check =
      "Check the base URL: --base-url, AIRTABLE_BASE_URL or connection.base_url (Airtable's is "
      "https://api.airtable.com)";
  switch (response.failure) {
    case TransportFailure::kResolve:
      return "The host " + host + " does not resolve" + cause + ", so " + what +
             " could not be reached; nothing was retried. " + check +
             ", and the network's DNS and proxy settings.";
    case TransportFailure::kConnect:
      return "Could not connect to " + host + " for " + what + cause + " after " +
             std::to_string(attempts) + " attempts. " + check +
             ": is the server running at that address and port, and does a firewall or proxy "
             "let the connection through?";
    case TransportFailure::kTls:
      return "The TLS connection to " + host + " failed for " + what + cause +
             "; nothing was retried. " + check +
             ". Behind a proxy that re-signs TLS, pass its CA certificate as ca_bundle.";
    case TransportFailure::kInvalidUrl:
      return "The base URL is not an http(s) URL that can be used" + cause + ". " + check + ".";
    case TransportFailure::kNone:
    case TransportFailure::kTransient:
    case TransportFailure::kDropped:
    case TransportFailure::kNotSent: break;
  }
  return "Could not reach " + host + " for " + what + cause + " after " + std::to_string(attempts) +
         " attempts; check the network, the proxy settings and the base URL (--base-url, "
         "AIRTABLE_BASE_URL or connection.base_url).";
}

Error HttpClient::to_error(ErrorKind kind, const Response& response, const std::string& type,
                           const std::string& airtable_message, const std::string& what,
                           const std::string& scope, int attempts) const {
  std::string message;
  const std::string status =
      response.status == 0 ? std::string("no response") : "HTTP " + std::to_string(response.status);
  const std::string detail = status + (type.empty() ? "" : " " + type) +
                             (airtable_message.empty() ? "" : ": " + airtable_message);
  switch (kind) {
    case ErrorKind::kAuthentication:
      message = "Airtable rejected the token (" + detail +
                "). Check that AIRTABLE_TOKEN (or --token-file) holds a valid personal access "
                "token that has not been revoked.";
      break;
    case ErrorKind::kPermission:
      message = "Airtable denied access to " + what + " (" + detail +
                "). Give the token the scope '" + scope +
                "' and access to this base, and check the base and table ids.";
      break;
    case ErrorKind::kNotFound:
      message = "Airtable has no " + what + " (" + detail +
                "). Check the id or name; `airtable-lakeflow discover` lists what the token sees.";
      break;
    case ErrorKind::kQuota:
      message = "The monthly API quota of this token's workspace is used up (" + detail +
                "). Wait for the month to reset, or raise the plan's quota; retrying sooner "
                "will not help. Every other reader of this token " +
                limiter_scope() + " stops too, and none sends with it for the next " +
                seconds_text(limiter_.limit().quota_stop) + ".";
      break;
    case ErrorKind::kRateLimit:
      message = "Airtable kept answering 429 RATE_LIMIT_REACHED for " + what +
                " after every pause the retry policy allows; another client is probably using "
                "the same base or token.";
      break;
    case ErrorKind::kServer:
      message = "Airtable kept failing for " + what + " (" + detail + ") after " +
                std::to_string(attempts) + " attempts; try again later.";
      break;
    case ErrorKind::kTransport: message = transport_message(response, what, attempts); break;
    default: message = "Airtable refused the request for " + what + " (" + detail + ")."; break;
  }
  return Error(kind, redact(message, config_.token), response.status, type);
}

std::string HttpClient::call(const std::string& method, const std::string& path,
                             const std::string& base_id, const std::string& body,
                             const std::string& what, const std::string& scope) {
  Request request;
  request.method = method;
  request.url = base_url_ + path;
  request.body = body;
  request.headers = {{"Authorization", "Bearer " + config_.token}};
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  int attempt = 0;
  int pauses = 0;
  for (;;) {
    ++attempt;
    // Every attempt, retries included, waits for its own slot (the transport never re-sends).
    TimePoint slot = wait_for_slot(base_id, what);
    if (cancelled_.load()) {
      throw Cancelled("cancelled");
    }
    stop_if_quota_exhausted(what);
    // Checked again once the connection is up: the server counts the request when it arrives.
    // An exception must not cross the transport (libcurl's C frames): kept, thrown after it.
    std::exception_ptr stopped;
    bool refused = false;
    const BeforeSend before_send = [&](bool new_connection) {
      try {
        if (new_connection) {
          settle(slot, base_id, what);
        }
        refused = !still_in_slot(slot, base_id, what);
      } catch (...) {
        stopped = std::current_exception();
        refused = true;
      }
      return !refused;
    };
    const Response response = transport_->send(request, before_send);
    if (stopped) {
      std::rethrow_exception(stopped);
    }
    if (refused) {  // nothing was sent: not an attempt; it waits for a slot again
      --attempt;
      continue;
    }
    ++stats_.requests;
    Answer answer;
    answer.status = response.status;
    answer.transport_error = response.transport_error;
    answer.transport_failure = response.failure;
    answer.retry_after_s = response.retry_after_s;
    std::string airtable_message;
    if (response.status >= 300) {
      std::tie(answer.error_type, airtable_message) = parse_error_body(response.body);
    }
    const Decision decision = decide(config_.policy, answer, attempt, pauses, random01_());
    switch (decision.action) {
      case Decision::Action::kSuccess: return response.body;
      case Decision::Action::kRetry:
        ++stats_.retries;
        sleep_until(clock_.now() + decision.wait, what);
        break;
      case Decision::Action::kPauseBase:
        ++stats_.rate_limited;
        ++pauses;
        --attempt;  // a rate-limit pause is not a failed attempt
        limiter_.pause_base(base_id, clock_.now() + decision.wait);
        break;
      case Decision::Action::kRestartListing:
        throw ListingExpired("the listing of " + what + " expired (" + answer.error_type + ")");
      case Decision::Action::kFail:
        if (decision.error_kind == ErrorKind::kQuota) {
          limiter_.mark_quota_exhausted(quota_key_, clock_.now());
        }
        throw to_error(decision.error_kind, response, answer.error_type, airtable_message, what,
                       scope, attempt);
    }
  }
}

TimePoint HttpClient::wait_for_slot(const std::string& base_id, const std::string& what) {
  if (!config_.throttle) {
    return clock_.now();
  }
  for (;;) {
    stop_if_quota_exhausted(what);  // no slot taken for a request that will not be sent
    const TimePoint now = clock_.now();
    const TimePoint slot = limiter_.reserve(token_key_, base_id, now, config_.requests_per_second);
    if (slot > now) {
      stats_.throttle_wait_ms +=
          std::chrono::duration_cast<std::chrono::milliseconds>(slot - now).count();
      sleep_until(slot, what);
    }
    // Another request's 429 may have paused the base while this one slept: wait it out too
    // (the slot taken meanwhile lies inside the pause and costs nothing).
    if (limiter_.paused_until(base_id) <= clock_.now()) {
      return slot;
    }
  }
}

void HttpClient::settle(TimePoint slot, const std::string& base_id, const std::string& what) {
  if (!config_.throttle) {
    return;
  }
  ++stats_.new_connections;
  // Nothing was sent in the slot: given back, and still_in_slot takes one for after the wait.
  limiter_.release(token_key_, base_id, slot);
  sleep_until(clock_.now() + limiter_.limit().settle, what);
}

bool HttpClient::still_in_slot(TimePoint& slot, const std::string& base_id,
                               const std::string& what) {
  if (!config_.throttle) {
    return true;
  }
  // How long the connection may hold a request that came up late before it lets it go and
  // takes its turn again: a new slot this near is slept for here, a later one (a pause of the
  // base began meanwhile) is not worth an idle connection.
  constexpr Duration kLateWait = std::chrono::seconds(2);
  for (;;) {
    const TimePoint now = clock_.now();
    if (now - slot <= limiter_.limit().margin) {
      return true;
    }
    // Late: the server counts this send now, out of the window its slot was checked in. It
    // takes a slot for now too (the old one stays logged: one send counted twice, stricter).
    ++stats_.late_sends;
    slot = limiter_.reserve(token_key_, base_id, now, config_.requests_per_second);
    if (slot - now > kLateWait) {
      return false;
    }
    if (slot > now) {
      stats_.throttle_wait_ms +=
          std::chrono::duration_cast<std::chrono::milliseconds>(slot - now).count();
      sleep_until(slot, what);
    }
    if (limiter_.paused_until(base_id) > clock_.now()) {
      return false;
    }
    if (cancelled_.load()) {
      throw Cancelled("cancelled");
    }
  }
}

void HttpClient::sleep_until(TimePoint until, const std::string& what) {
  // In slices, so cancel() or another reader's quota answer stops a long rate-limit pause or
  // backoff promptly.
  constexpr Duration kSlice = std::chrono::milliseconds(50);
  for (TimePoint now = clock_.now(); now < until; now = clock_.now()) {
    if (cancelled_.load()) {
      throw Cancelled("cancelled");
    }
    stop_if_quota_exhausted(what);
    clock_.sleep_until(std::min(until, now + kSlice));
  }
}

std::string HttpClient::limiter_scope() const {
  return limiter_.shared_file().empty() ? "in this process" : "on this host";
}

void HttpClient::stop_if_quota_exhausted(const std::string& what) {
  const TimePoint now = clock_.now();
  const std::optional<QuotaMark> mark = limiter_.quota_exhausted(quota_key_, now);
  if (!mark) {
    return;
  }
  const std::string where = limiter_scope();
  const std::string message =
      "Stopped before sending a request for " + what + ": a request with this token " + where +
      " was answered 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED " +
      seconds_text(now - mark->found, false) +
      " ago, so the monthly API quota of the token's workspace is used up. Wait for the month to "
      "reset, or raise the plan's quota. No reader " +
      where + " sends with this token for another " + seconds_text(mark->until - now) +
      "; after that the next request asks Airtable again.";
  throw Error(ErrorKind::kQuota, redact(message, config_.token), 429,
              "PUBLIC_API_BILLING_LIMIT_EXCEEDED");
}

}  // namespace airtable_lakeflow::http
