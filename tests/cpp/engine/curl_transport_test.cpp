// The real libcurl transport against the real emulator, served in-process on a free port.
#include "airtable_lakeflow/http/curl_transport.hpp"

#include <gtest/gtest.h>

#include <thread>

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
  // Two 502s are retried by the policy; libcurl itself may retry a request once when a reused
  // connection is reset before any answer, so the reset counts as at most one more retry.
  EXPECT_GE(client.stats().retries.load(), 2);
  EXPECT_LE(client.stats().retries.load(), 3);
}

TEST(CurlTransport, UnreachableHostIsATransportError) {
  TransportOptions options;
  options.connect_timeout_ms = 2000;
  CurlTransport transport(options);
  Request request;
  request.url = "http://127.0.0.1:1/v0/meta/bases";
  const Response r = transport.send(request);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.transport_error.empty());
  EXPECT_NE(default_user_agent().find("airtable-lakeflow/"), std::string::npos);
}

}  // namespace
}  // namespace airtable_lakeflow::http
