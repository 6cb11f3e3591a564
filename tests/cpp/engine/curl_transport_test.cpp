// The real libcurl transport against the real emulator, served in-process on a free port.
#include "airtable_lakeflow/http/curl_transport.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "airtable_lakeflow/http/http_client.hpp"
#include "live_emulator.hpp"

namespace airtable_lakeflow::http {
namespace {

using testing::LiveEmulator;

TEST_F(LiveEmulator, RealRequestsStatusesAndHeaders) {
  CurlTransport transport;
  const Response ok = get(transport, "/v0/meta/bases");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find(base_), std::string::npos);
  faults("kind=503,times=1,retry_after=4");
  const Response busy = get(transport, "/v0/meta/bases");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.retry_after_s, 4.0);
  const Response denied = get(transport, "/v0/appAAAAAAAAAAAAAA/Tasks");
  EXPECT_EQ(denied.status, 403);
}

TEST_F(LiveEmulator, ResetsAndTruncatedBodiesAreTransportErrors) {
  CurlTransport transport;
  faults("kind=reset,times=1");
  const Response reset = get(transport, "/v0/meta/bases");
  EXPECT_EQ(reset.status, 0);
  EXPECT_FALSE(reset.transport_error.empty());
  EXPECT_EQ(reset.failure, TransportFailure::kTransient);  // a fresh connection
  faults("kind=truncate,times=1");
  const Response cut = get(transport, "/v0/meta/bases");
  EXPECT_EQ(cut.status, 0);
  EXPECT_FALSE(cut.transport_error.empty());
  EXPECT_EQ(get(transport, "/v0/meta/bases").status, 200);
}

TEST_F(LiveEmulator, ClientRetriesThroughFaultsOverTheNetwork) {
  faults("kind=502,times=2;kind=reset,times=1");
  SystemClock clock;
  RateLimiter limiter;
  RetryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(10);
  HttpClient client(ClientConfig{url_ + "/v0", emu::kDefaultToken, policy},
                    std::make_shared<CurlTransport>(), clock, limiter);
  const std::string body =
      client.call("GET", "/v0/meta/bases", "", "", "the base list", "schema.bases:read");
  EXPECT_NE(body.find(base_), std::string::npos);
  // Two 502s and the reset, each retried by the policy (libcurl does not re-send on its own).
  EXPECT_EQ(client.stats().retries.load(), 3);
  EXPECT_EQ(emulator_->log().last_seq(), 4);
}

// Regression (issue 14): when a reused connection was reset before any answer, libcurl sent
// the request again at once on a new connection, behind the rate limiter's back: the 6th
// request in that second, a 429 and a 30 s penalty.
TEST_F(LiveEmulator, ADroppedReusedConnectionIsNotSentAgainBehindTheClientsBack) {
  CurlTransport transport;
  ASSERT_EQ(get(transport, "/v0/meta/bases").status, 200);  // the connection is now reused
  faults("kind=reset,times=1");
  const int64_t before = emulator_->log().last_seq();
  const Response reset = get(transport, "/v0/meta/bases");
  EXPECT_EQ(reset.status, 0);
  EXPECT_EQ(reset.failure, TransportFailure::kDropped);
  EXPECT_EQ(emulator_->log().last_seq(), before + 1);  // one request on the wire, not two
  EXPECT_EQ(get(transport, "/v0/meta/bases").status, 200);
  EXPECT_EQ(emulator_->log().last_seq(), before + 2);
}

// The hook runs once per send, once the connection is up: a refusal puts nothing on the wire,
// and the transport sends the next request as usual.
TEST_F(LiveEmulator, TheHookIsAskedOnceTheConnectionIsUpAndCanHoldTheRequestBack) {
  CurlTransport transport;
  std::vector<bool> asked;  // whether each send's connection was opened for it
  const int64_t before = emulator_->log().last_seq();
  const Response refused = get(transport, "/v0/meta/bases", [&asked](bool fresh) {
    asked.push_back(fresh);
    return false;
  });
  EXPECT_EQ(asked, std::vector<bool>{true});
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.failure, TransportFailure::kNotSent) << refused.transport_error;
  EXPECT_EQ(emulator_->log().last_seq(), before);  // nothing reached the server
  const Response thrown = get(transport, "/v0/meta/bases", [](bool) -> bool {
    throw std::runtime_error("a hook that throws holds the request back too");
  });
  EXPECT_EQ(thrown.failure, TransportFailure::kNotSent);
  EXPECT_EQ(emulator_->log().last_seq(), before);
  const auto send = [&asked](bool fresh) {
    asked.push_back(fresh);
    return true;
  };
  const Response sent = get(transport, "/v0/meta/bases", send);
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(emulator_->log().last_seq(), before + 1);
  EXPECT_EQ(get(transport, "/v0/meta/bases", send).status, 200);
  ASSERT_EQ(asked.size(), 3U);
  EXPECT_FALSE(asked[2]);  // the connection of the send before, kept alive
  CurlTransport other;     // a transport of its own: a connection of its own
  EXPECT_EQ(get(other, "/v0/meta/bases", send).status, 200);
  EXPECT_EQ(asked.size(), 4U);
  EXPECT_TRUE(asked[3]);
}

TEST_F(LiveEmulator, TlsFailuresAreTold) {
  // https to the emulator's plain-HTTP port: the handshake fails (retried briefly).
  CurlTransport transport;
  Request request;
  request.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/v0/meta/bases";
  EXPECT_EQ(transport.send(request, {}).failure, TransportFailure::kConnect);
  // A CA bundle that cannot be read: no retry can help.
  TransportOptions options;
  options.ca_bundle = "/nonexistent/ca.pem";
  CurlTransport unverifiable(options);
  const Response r = unverifiable.send(request, {});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.failure, TransportFailure::kTls) << r.transport_error;
}

TEST(CurlTransport, UnreachableHostIsATransportError) {
  TransportOptions options;
  options.connect_timeout_ms = 2000;
  CurlTransport transport(options);
  Request request;
  request.url = "http://127.0.0.1:1/v0/meta/bases";
  const Response r = transport.send(request, {});
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.transport_error.empty());
  EXPECT_EQ(r.failure, TransportFailure::kConnect);
  EXPECT_NE(default_user_agent().find("airtable-lakeflow/"), std::string::npos);
}

TEST(CurlTransport, EachCauseOfNoAnswerIsTold) {
  struct Case {
    const char* url;
    TransportFailure failure;
  };
  const Case cases[] = {
      {"http://api.airtable.invalid/v0/meta/bases", TransportFailure::kResolve},  // RFC 6761
      {"http://127.0.0.1:1/v0/meta/bases", TransportFailure::kConnect},
      {"gopherx://127.0.0.1/v0/meta/bases", TransportFailure::kInvalidUrl},
  };
  for (const Case& c : cases) {
    CurlTransport transport;
    Request request;
    request.url = c.url;
    const Response r = transport.send(request, {});
    EXPECT_EQ(r.status, 0) << c.url;
    EXPECT_EQ(r.failure, c.failure) << c.url << ": " << r.transport_error;
  }
}

// The whole path: a base URL whose host does not resolve fails after one attempt, with a
// message that names the host and the settings to check.
TEST(CurlTransport, AnUnresolvableBaseUrlFailsFastWithOneClearMessage) {
  SystemClock clock;
  RateLimiter limiter;
  HttpClient client(ClientConfig{"http://api.airtable.invalid", "patSecret", {}},
                    std::make_shared<CurlTransport>(), clock, limiter);
  try {
    client.call("GET", "/v0/meta/whoami", "", "", "the token's user", "");
    FAIL() << "expected a transport error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTransport);
    const std::string message = e.what();
    EXPECT_NE(message.find("api.airtable.invalid does not resolve"), std::string::npos) << message;
    EXPECT_NE(message.find("--base-url"), std::string::npos) << message;
    EXPECT_EQ(message.find("patSecret"), std::string::npos) << message;
  }
  EXPECT_EQ(client.stats().requests.load(), 1);
}

const std::set<std::string>* g_present = nullptr;
bool present(const std::string& path) { return g_present->contains(path); }

TEST(CurlTransport, TheCaBundleIsTheConfiguredOneThenSslCertFileThenTheDistributions) {
  const std::set<std::string> rhel = {"/etc/pki/tls/certs/ca-bundle.crt"};
  const std::set<std::string> both = {"/etc/ssl/certs/ca-certificates.crt",
                                      "/etc/pki/tls/certs/ca-bundle.crt"};
  const std::set<std::string> none;
  g_present = &rhel;
  EXPECT_EQ(find_ca_bundle("/my/proxy-ca.pem", "/env.pem", present), "/my/proxy-ca.pem");
  EXPECT_EQ(find_ca_bundle("", "/env.pem", present), "/env.pem");
  EXPECT_EQ(find_ca_bundle("", "", present), "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_EQ(find_ca_bundle("", nullptr, present), "/etc/pki/tls/certs/ca-bundle.crt");
  g_present = &both;  // Debian's path first
  EXPECT_EQ(find_ca_bundle("", nullptr, present), "/etc/ssl/certs/ca-certificates.crt");
  g_present = &none;  // libcurl's own default
  EXPECT_EQ(find_ca_bundle("", nullptr, present), "");
}

}  // namespace
}  // namespace airtable_lakeflow::http
