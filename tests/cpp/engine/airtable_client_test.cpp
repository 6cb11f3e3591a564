#include "airtable_lakeflow/api/airtable_client.hpp"

#include <gtest/gtest.h>

#include <set>

#include <simdjson.h>

#include "live_emulator.hpp"

namespace airtable_lakeflow::api {
namespace {

class ClientTest : public testing::LiveEmulator {
 protected:
  void SetUp() override {
    LiveEmulator::SetUp();
    http_ = std::make_unique<http::HttpClient>(http::ClientConfig{url_, emu::kDefaultToken, {}},
                                               std::make_shared<http::CurlTransport>(), clock_,
                                               limiter_);
    client_ = std::make_unique<AirtableClient>(*http_);
  }
  std::vector<std::string> all_ids(const std::string& table, const ListQuery& query,
                                   bool* used_post = nullptr) {
    std::vector<std::string> ids;
    std::string offset;
    simdjson::dom::parser parser;
    do {
      Page page = client_->list_records_page(base_, table, query, offset);
      if (used_post != nullptr) {
        *used_post = page.used_post;
      }
      simdjson::dom::element doc = parser.parse(page.body);
      for (auto record : doc["records"].get_array()) {
        ids.emplace_back(std::string_view(record["id"]));
      }
      offset = page_offset(page.body);
    } while (!offset.empty());
    return ids;
  }

  http::SystemClock clock_;
  http::RateLimiter limiter_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<AirtableClient> client_;
};

TEST_F(ClientTest, MetadataCalls) {
  EXPECT_EQ(client_->whoami().id.substr(0, 3), "usr");
  const auto bases = client_->list_bases();
  ASSERT_EQ(bases.size(), 1U);
  EXPECT_EQ(bases[0].id, base_);
  const auto tables = client_->base_schema(base_);
  ASSERT_EQ(tables.size(), 3U);
  EXPECT_EQ(tables[0].name, "Packaging Tasks");
  EXPECT_EQ(tables[0].primary_field_id, tables[0].fields[0].id);
  bool currency = false;
  for (const auto& f : tables[1].fields) {
    currency =
        currency || (f.type == "currency" && f.options_json.find("precision") != std::string::npos);
  }
  EXPECT_TRUE(currency);
}

TEST_F(ClientTest, PagesThroughATableAndSwitchesToPostForLongUrls) {
  ListQuery query;
  query.page_size = 7;
  const auto ids = all_ids("Packaging Tasks", query);
  EXPECT_EQ(ids.size(), 40U);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 40U);
  ListQuery long_query;
  std::string formula = "OR(";
  for (size_t i = 0; i < 5; ++i) {
    formula += "RECORD_ID()='" + ids[i] + "',";
  }
  formula += std::string(16000, ' ') + "0)";
  long_query.formula = formula;
  bool used_post = false;
  const auto found = all_ids("Packaging Tasks", long_query, &used_post);
  EXPECT_TRUE(used_post);
  EXPECT_EQ(std::set<std::string>(found.begin(), found.end()),
            std::set<std::string>(ids.begin(), ids.begin() + 5));
}

TEST_F(ClientTest, TypedErrorsAndExpiredListings) {
  try {
    client_->list_records_page(base_, "No such table", ListQuery{}, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_EQ(e.airtable_type(), "TABLE_NOT_FOUND");
  }
  ListQuery query;
  query.page_size = 5;
  const Page first = client_->list_records_page(base_, "Packaging Tasks", query, "");
  emulator_->iterators().expire_all();
  EXPECT_THROW(client_->list_records_page(base_, "Packaging Tasks", query, page_offset(first.body)),
               http::ListingExpired);
  query.formula = "AND(";
  try {
    client_->list_records_page(base_, "Packaging Tasks", query, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidRequest);
    EXPECT_EQ(e.airtable_type(), "INVALID_FILTER_BY_FORMULA");
  }
}

}  // namespace
}  // namespace airtable_lakeflow::api
