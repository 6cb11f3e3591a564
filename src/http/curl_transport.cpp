#include "airtable_lakeflow/http/curl_transport.hpp"

#include <curl/curl.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "airtable_lakeflow/version.hpp"

namespace airtable_lakeflow::http {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Spare bytes kept after a body so simdjson can parse it in place instead of copying it
// (SIMDJSON_PADDING; the transport does not depend on simdjson).
constexpr size_t kParsePadding = 64;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& body = *static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body.capacity() < body.size() + n + kParsePadding) {
    body.reserve(2 * (body.size() + n) + kParsePadding);
  }
  body.append(data, n);
  return n;
}

struct Headers {
  std::optional<double> retry_after_s;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower == kName) {
      const std::string value(line.substr(kName.size()));
      char* end = nullptr;
      const double seconds = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && seconds >= 0) {
        static_cast<Headers*>(user)->retry_after_s = seconds;
      }
    }
  }
  return size * count;
}

// libcurl sends a request again on its own when a reused connection dies before any answer
// ("Connection died, retrying a fresh connect"). That second send skips the rate limiter: it
// went out as the 6th request in a second and cost a 429 and a 30 s penalty. So only the
// first send of each send() goes out; the client retries the rest through the limiter.
// The first one asks the caller's hook: a new connection can come up well after the slot the
// request was given, and the server counts the request when it arrives.
struct Sends {
  const BeforeSend* before_send = nullptr;
  int* local_port = nullptr;  // of the handle's previous send: another one is a new connection
  int count = 0;
  bool refused = false;  // by the hook: nothing was sent
};

int on_prereq(void* user, char* /*primary_ip*/, char* /*local_ip*/, int /*primary_port*/,
              int local_port) {
  auto& sends = *static_cast<Sends*>(user);
  if (++sends.count > 1) {
    return CURL_PREREQFUNC_ABORT;
  }
  const bool new_connection = local_port != *sends.local_port;
  *sends.local_port = local_port;
  bool send = true;
  if (*sends.before_send) {
    try {
      send = (*sends.before_send)(new_connection);
    } catch (...) {  // never through libcurl's C frames (the hook should not throw)
      send = false;
    }
  }
  sends.refused = !send;
  return send ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

TransportFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST: return TransportFailure::kResolve;
    // A handshake can fail once in a while (a reset mid-handshake), so it is retried briefly
    // with refused connections; a certificate that does not verify is not. A proxy that does
    // not resolve is told as a connection that could not be made (curl's message names it).
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR: return TransportFailure::kConnect;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: return TransportFailure::kTls;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return TransportFailure::kInvalidUrl;
    default: return TransportFailure::kTransient;
  }
}

}  // namespace

std::string default_user_agent() {
  return std::string("airtable-lakeflow/") + kVersion + " (libcurl/" +
         curl_version_info(CURLVERSION_NOW)->version + ")";
}

struct CurlTransport::Impl {
  CURL* handle = nullptr;
  TransportOptions options;
  int local_port = -1;  // the connection of the last send
};

std::string find_ca_bundle(const std::string& configured, const char* ssl_cert_file,
                           FileExists exists) {
  if (!configured.empty()) {
    return configured;
  }
  if (ssl_cert_file != nullptr && *ssl_cert_file != '\0') {
    return ssl_cert_file;
  }
  static const std::array<const char*, 5> kKnown = {
      "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Alpine, Arch
      "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL, Amazon Linux
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL, CentOS
      "/etc/ssl/ca-bundle.pem",                             // openSUSE
      "/etc/ssl/cert.pem",                                  // Alpine, macOS
  };
  for (const char* path : kKnown) {
    if (exists(path)) {
      return path;
    }
  }
  return "";
}

CurlTransport::CurlTransport(TransportOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->handle = curl_easy_init();
  impl_->options = std::move(options);
  impl_->options.ca_bundle = find_ca_bundle(impl_->options.ca_bundle, std::getenv("SSL_CERT_FILE"),
                                            [](const std::string& path) {
                                              std::error_code error;
                                              return std::filesystem::is_regular_file(path, error);
                                            });
  if (impl_->options.user_agent.empty()) {
    impl_->options.user_agent = default_user_agent();
  }
}

CurlTransport::~CurlTransport() {
  if (impl_->handle != nullptr) {
    curl_easy_cleanup(impl_->handle);
  }
}

Response CurlTransport::send(const Request& request, const BeforeSend& before_send) {
  CURL* curl = impl_->handle;
  // Reset options but keep the connection cache, so keep-alive connections are reused.
  curl_easy_reset(curl);
  Response response;
  Headers headers;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST" || request.method == "PATCH" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line.append(": ").append(value);
    list = curl_slist_append(list, line.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, impl_->options.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip, deflate, br, zstd as built
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!impl_->options.ca_bundle.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, impl_->options.ca_bundle.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, impl_->options.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, impl_->options.read_timeout_s);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // No CURLOPT_PROXY: libcurl then honours https_proxy / http_proxy / no_proxy from the
  // environment.
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  Sends sends;
  sends.before_send = &before_send;
  sends.local_port = &impl_->local_port;
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, &sends);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (code != CURLE_OK) {
    response.status = 0;
    response.body.clear();
    if (sends.refused) {
      response.transport_error = "not sent: held back by the caller once the connection was up";
      response.failure = TransportFailure::kNotSent;
    } else if (sends.count > 1) {
      response.transport_error = "the reused connection closed before any answer";
      response.failure = TransportFailure::kDropped;
    } else {
      response.transport_error = error[0] != '\0' ? error : curl_easy_strerror(code);
      response.failure = classify(code);
    }
    return response;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  response.retry_after_s = headers.retry_after_s;
  return response;
}

}  // namespace airtable_lakeflow::http
