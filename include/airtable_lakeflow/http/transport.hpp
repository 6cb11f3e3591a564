// One HTTP exchange, behind an interface so the client can be tested with a scripted fake.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace airtable_lakeflow::http {

// Why no HTTP answer came back. It decides whether a retry can help: a name that does not
// resolve or a certificate that does not verify will not change in the next few seconds.
enum class TransportFailure {
  kNone,        // an HTTP answer came back
  kTransient,   // reset, timeout, body cut short: retried like a 5xx
  kDropped,     // a reused connection closed before any answer (often a stale keep-alive one)
  kConnect,     // connection refused or the TLS handshake failed: retried briefly
  kResolve,     // the host name does not resolve: not retried
  kTls,         // the server's certificate did not verify, or the CA file is unusable
  kInvalidUrl,  // not an http(s) URL libcurl can use
  kNotSent,     // the BeforeSend hook refused the send: nothing went on the wire
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  int status = 0;  // 0: no HTTP answer (see transport_error)
  std::string body;
  std::optional<double> retry_after_s;
  std::string transport_error;  // connection, TLS, timeout, truncated body…
  // With status 0: what kind of failure (kNone there counts as kTransient).
  TransportFailure failure = TransportFailure::kNone;
};

// Called once the request's connection is up (a new one may take a TLS handshake and more),
// right before the request goes on the wire: the moment the server starts counting it, with
// whether the connection was opened for this request. Returns whether to send; false leaves
// the request unsent (TransportFailure::kNotSent). It may sleep; it must not throw (libcurl
// calls it from C). Empty: always send.
using BeforeSend = std::function<bool(bool new_connection)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Puts the request on the wire at most once: a transport never re-sends on its own, so
  // every attempt the client makes has taken its slot from the rate limiter first. Calls
  // `before_send` once, just before the send (a fake calls it before it "sends"). Never
  // throws for network trouble: reports it in Response::transport_error and ::failure.
  virtual Response send(const Request& request, const BeforeSend& before_send) = 0;
};

}  // namespace airtable_lakeflow::http
