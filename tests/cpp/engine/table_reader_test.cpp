#include "airtable_lakeflow/read/table_reader.hpp"

#include <gtest/gtest.h>

#include <set>

#include "arrow_json.hpp"
#include "live_emulator.hpp"

namespace airtable_lakeflow::read {
namespace {

class ReaderTest : public testing::LiveEmulator {
 protected:
  void SetUp() override {
    LiveEmulator::SetUp();
    http::ClientConfig config{url_, emu::kDefaultToken, {}};
    config.policy.initial_backoff = std::chrono::milliseconds(1);
    config.policy.max_backoff = std::chrono::milliseconds(5);
    http_ = std::make_unique<http::HttpClient>(config, std::make_shared<http::CurlTransport>(),
                                               clock_, limiter_);
    client_ = std::make_unique<api::AirtableClient>(*http_);
  }

  // Every id the reader emits, in order.
  std::vector<std::string> read_ids(ReadRequest request, int* batches = nullptr) {
    TableReader reader(*client_, std::move(request), 5);
    std::vector<std::string> ids;
    ArrowArray batch{};
    while (reader.next(&batch)) {
      const std::string rows = testing::render_rows(reader.layout().arrow_fields(), batch);
      std::istringstream in(rows);
      for (std::string line; std::getline(in, line);) {
        ids.push_back(nlohmann::json::parse(line)["id"].get<std::string>());
      }
      batch.release(&batch);
      if (batches != nullptr) {
        ++*batches;
      }
    }
    restarts_ = reader.progress().restarts.load();
    return ids;
  }

  http::SystemClock clock_;
  http::RateLimiter limiter_{http::RateLimit{1000, 1000}};
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<api::AirtableClient> client_;
  int64_t restarts_ = 0;
};

TEST_F(ReaderTest, ReadsAWholeTableInBatches) {
  int batches = 0;
  const auto ids = read_ids({base_, "Packaging Tasks", {}, "", "", {}, {}, 15, 10}, &batches);
  EXPECT_EQ(ids.size(), 40U);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 40U);
  EXPECT_EQ(batches, 2);  // cut at the first page boundary at or past 15 rows: 20 + 20
}

TEST_F(ReaderTest, RestartsAnExpiredListingWithoutDuplicatesOrGaps) {
  const auto expected = read_ids({base_, "Packaging Tasks", {}, "", "", {}, {}, 100, 7});
  faults("kind=iterator_expiry,route=list,at=2|4");
  const auto ids = read_ids({base_, "Packaging Tasks", {}, "", "", {}, {}, 100, 7});
  EXPECT_EQ(restarts_, 2);
  EXPECT_EQ(ids.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            std::set<std::string>(expected.begin(), expected.end()));
}

TEST_F(ReaderTest, AsksAgainForMalformedOrCutPages) {
  const auto expected = read_ids({base_, "Campaigns", {}, "", "", {}, {}, 100, 5});
  faults("kind=malformed,route=list,at=2;kind=truncate,route=list,at=4");
  const auto ids = read_ids({base_, "Campaigns", {}, "", "", {}, {}, 100, 5});
  EXPECT_EQ(ids, expected);
}

TEST_F(ReaderTest, GivesUpAfterRepeatedExpiry) {
  faults("kind=iterator_expiry,route=list,every=1");
  try {
    read_ids({base_, "Packaging Tasks", {}, "", "", {}, {}, 100, 5});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kServer);
    EXPECT_NE(std::string(e.what()).find("expired 6 times"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace airtable_lakeflow::read
