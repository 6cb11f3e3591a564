// The real transport: libcurl with one reused connection per transport, gzip, HTTP/2 when
// the server offers it, TLS verification on, proxies from the environment, timeouts.
#pragma once

#include <memory>
#include <string>

#include "airtable_lakeflow/http/transport.hpp"

namespace airtable_lakeflow::http {

struct TransportOptions {
  long connect_timeout_ms = 10'000;
  long read_timeout_s = 60;  // abort when no byte arrives for this long
  std::string ca_bundle;     // empty: the system's (find_ca_bundle)
  std::string user_agent;    // empty: "airtable-lakeflow/<version>"
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Response send(const Request& request, const BeforeSend& before_send) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string default_user_agent();

// The CA certificates TLS verifies against: `configured` when given, else $SSL_CERT_FILE, else
// the first bundle of the known distribution paths that `exists` (Debian and Ubuntu, Fedora,
// RHEL and Amazon Linux, openSUSE, Alpine). Empty: libcurl's built-in default. A portable
// wheel's libcurl cannot know at build time where the machine it runs on keeps them.
using FileExists = bool (*)(const std::string& path);
std::string find_ca_bundle(const std::string& configured, const char* ssl_cert_file,
                           FileExists exists);

}  // namespace airtable_lakeflow::http
