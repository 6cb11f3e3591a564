// Requests that once made Emulator::handle throw (the server's 500, which Airtable never sends)
// instead of answering as Airtable does. Each was found by fuzz/emulator_requests_fuzz.cpp.
#include <gtest/gtest.h>

#include "emulator.hpp"

namespace emu {
namespace {

class HostileRequests : public ::testing::Test {
 protected:
  HostileRequests() : emulator_(options()) {}

  static Options options() {
    Options out;
    out.data_dir = std::string(TEST_DATA_DIR) + "/emulator";
    out.rate_limit = false;
    out.quiet = true;
    out.token = kDefaultToken;
    return out;
  }

  // The answer to METHOD TARGET with BODY, as the server would pass the request on.
  HttpResponse send(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) {
      request.query = parse_query(std::string_view(target).substr(q + 1));
    }
    request.headers = {{"authorization", std::string("Bearer ") + kDefaultToken}};
    request.body = body;
    return emulator_.handle(request);
  }

  // The answer's error type, checking the answer is JSON.
  static std::string error_type(const HttpResponse& response) {
    const Json body = Json::parse(response.body);
    const Json& error = body.at("error");
    return error.is_string() ? error.get<std::string>() : error.at("type").get<std::string>();
  }

  Emulator emulator_;
};

constexpr const char* kTasks = "/v0/appSampleBase0001/tblSampleTasks001";

TEST_F(HostileRequests, ANameInTheUrlThatIsNotUtf8IsQuotedNotAServerError) {
  const HttpResponse unknown_field = send("GET", std::string(kTasks) + "?fields%5B%5D=%FF%C3");
  EXPECT_EQ(unknown_field.status, 422);
  EXPECT_EQ(error_type(unknown_field), "UNKNOWN_FIELD_NAME");
  EXPECT_NE(unknown_field.body.find("\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos)
      << unknown_field.body;

  const HttpResponse unknown_table = send("GET", "/v0/appSampleBase0001/Tasks%FE");
  EXPECT_EQ(unknown_table.status, 404);
  EXPECT_EQ(error_type(unknown_table), "TABLE_NOT_FOUND");
  EXPECT_EQ(send("GET", "/_emulator/requests").status, 200);  // the log quotes the table
}

// A raw byte in the target (not percent-encoded) went into the request log as it came, and
// from then on every read of the log was a server error.
TEST_F(HostileRequests, ARawByteInTheTargetKeepsTheRequestLogReadable) {
  EXPECT_EQ(send("GET", "/v0/meta/bases?x=\xFF").status, 422);
  const HttpResponse log = send("GET", "/_emulator/requests");
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(Json::parse(log.body)["requests"][0]["target"], "/v0/meta/bases?x=\xEF\xBF\xBD");
}

}  // namespace
}  // namespace emu
