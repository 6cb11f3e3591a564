// Transport-neutral HTTP request and response: the server fills a request, the routes fill a
// response. Keeps every route testable without a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace emu {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;                                        // "GET", "POST", …
  std::string target;                                        // raw request target: path and query
  std::string path;                                          // raw (still percent-encoded) path
  QueryParams query;                                         // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string local_host;  // "127.0.0.1:8080": the listening address, when there is no Host

  [[nodiscard]] std::string header(const std::string& lower_name) const;
  [[nodiscard]] bool has_param(const std::string& name) const;
  [[nodiscard]] std::string param(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> params(const std::string& name) const;
};

// How the server should misbehave instead of answering normally (fault injection).
enum class TransportFault { kNone, kReset, kTruncate };

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  TransportFault fault = TransportFault::kNone;
  int64_t delay_ms = 0;  // latency to add before the response is written
  // HEAD: the Content-Length of the body a GET would get (the body itself stays empty).
  std::optional<uint64_t> head_content_length;
};

// `bytes` read as UTF-8 the WHATWG way: each maximal invalid subsequence becomes U+FFFD.
std::string valid_utf8(std::string_view bytes);
// Percent-decoding of one URL component; '+' becomes a space when `plus_is_space`. The bytes
// are read as UTF-8 as browsers' and Node.js's URLSearchParams read them: an invalid sequence
// becomes U+FFFD, so names and ids from a URL can always be quoted in a JSON answer.
std::string url_decode(std::string_view text, bool plus_is_space);
// Splits "a=1&b=2" into decoded pairs.
QueryParams parse_query(std::string_view query);

}  // namespace emu
