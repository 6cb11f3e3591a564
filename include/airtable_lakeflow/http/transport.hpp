// One HTTP exchange, behind an interface so the client can be tested with a scripted fake.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace airtable_lakeflow::http {

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
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Never throws for network trouble: reports it in Response::transport_error.
  virtual Response send(const Request& request) = 0;
};

}  // namespace airtable_lakeflow::http
