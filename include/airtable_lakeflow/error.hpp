// Operation-ending failures of the engine: a kind (what to do next), the HTTP status and
// Airtable's error type when there was a response, and a message that says what to do.
// Per-cell data problems are not errors: the converter rescues them.
#pragma once

#include <stdexcept>
#include <string>

namespace airtable_lakeflow {

enum class ErrorKind {
  kConfig,          // bad options: fix the configuration
  kAuthentication,  // 401: token missing, malformed, revoked
  kPermission,      // 403: scope or base access missing (or the model does not exist)
  kNotFound,        // 404: base, table or record does not exist
  kInvalidRequest,  // 422 and other 4xx: the request itself is wrong
  kRateLimit,       // 429 RATE_LIMIT_REACHED after the pauses the policy allows
  kQuota,           // 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED: waiting will not help
  kServer,          // 5xx after retries
  kTransport,       // connection, TLS, timeout after retries
  kInternal,        // a bug in the engine
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, int http_status = 0, std::string airtable_type = {})
      : std::runtime_error(message),
        kind_(kind),
        http_status_(http_status),
        airtable_type_(std::move(airtable_type)) {}
  [[nodiscard]] ErrorKind kind() const { return kind_; }
  [[nodiscard]] int http_status() const { return http_status_; }
  [[nodiscard]] const std::string& airtable_type() const { return airtable_type_; }

 private:
  ErrorKind kind_;
  int http_status_;
  std::string airtable_type_;
};

}  // namespace airtable_lakeflow
