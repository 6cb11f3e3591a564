#include "airtable_lakeflow/http/http_client.hpp"

#include <simdjson.h>

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

std::string token_key(const std::string& token) {
  // Only a hash identifies the token inside the process; the token itself is never stored
  // anywhere but the Authorization header.
  return "tok" + std::to_string(std::hash<std::string>{}(token));
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

Error HttpClient::to_error(ErrorKind kind, const Response& response, const std::string& type,
                           const std::string& airtable_message, const std::string& what,
                           const std::string& scope) const {
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
      message = "The workspace's monthly Airtable API quota is used up (" + detail +
                "). Waiting will not help before the month resets; upgrade the plan or wait.";
      break;
    case ErrorKind::kRateLimit:
      message = "Airtable kept answering 429 RATE_LIMIT_REACHED for " + what +
                " after every pause the retry policy allows; another client is probably using "
                "the same base or token.";
      break;
    case ErrorKind::kServer:
      message = "Airtable kept failing for " + what + " (" + detail + ") after " +
                std::to_string(config_.policy.max_attempts) + " attempts; try again later.";
      break;
    case ErrorKind::kTransport:
      message = "Could not reach " + base_url_ + " for " + what + " (" + response.transport_error +
                ") after " + std::to_string(config_.policy.max_attempts) +
                " attempts; check the network, proxy settings and --base-url.";
      break;
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
    const TimePoint now = clock_.now();
    const TimePoint slot = config_.throttle ? limiter_.reserve(token_key_, base_id, now) : now;
    if (slot > now) {
      stats_.throttle_wait_ms +=
          std::chrono::duration_cast<std::chrono::milliseconds>(slot - now).count();
      sleep_until(slot);
    }
    if (cancelled_.load()) {
      throw Cancelled("cancelled");
    }
    ++stats_.requests;
    const Response response = transport_->send(request);
    Answer answer;
    answer.status = response.status;
    answer.transport_error = response.transport_error;
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
        sleep_until(clock_.now() + decision.wait);
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
        throw to_error(decision.error_kind, response, answer.error_type, airtable_message, what,
                       scope);
    }
  }
}

void HttpClient::sleep_until(TimePoint until) {
  // In slices, so cancel() stops a long rate-limit pause or backoff promptly.
  constexpr Duration kSlice = std::chrono::milliseconds(50);
  for (TimePoint now = clock_.now(); now < until; now = clock_.now()) {
    if (cancelled_.load()) {
      throw Cancelled("cancelled");
    }
    clock_.sleep_until(std::min(until, now + kSlice));
  }
}

}  // namespace airtable_lakeflow::http
