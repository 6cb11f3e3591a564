#include "airtable_lakeflow/read/table_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "arrow_json.hpp"
#include "live_emulator.hpp"

namespace airtable_lakeflow::read {
namespace {

// The real transport, with a hook that may rewrite the n-th list-records answer (counting
// from 1): pages that are malformed in ways the emulator's faults do not make.
class ManglingTransport final : public http::Transport {
 public:
  // From now on, counting list answers from 1 again.
  void spoil(std::function<void(int n, std::string& body)> mangle) {
    mangle_ = std::move(mangle);
    lists_.clear();
  }
  // How often the URL asked for most often was asked for.
  [[nodiscard]] size_t most_asks() const {
    std::map<std::string, size_t> asks;
    size_t most = 0;
    for (const std::string& url : lists_) {
      most = std::max(most, ++asks[url]);
    }
    return most;
  }

  http::Response send(const http::Request& request, const http::BeforeSend& before_send) override {
    http::Response response = inner_.send(request, before_send);
    if (response.status == 200 && request.url.find("/meta/") == std::string::npos) {
      lists_.push_back(request.url);
      if (mangle_) {
        mangle_(static_cast<int>(lists_.size()), response.body);
      }
    }
    return response;
  }

 private:
  http::CurlTransport inner_;
  std::function<void(int n, std::string& body)> mangle_;
  std::vector<std::string> lists_;
};

class ReaderTest : public testing::LiveEmulator {
 protected:
  void SetUp() override {
    LiveEmulator::SetUp();
    http::ClientConfig config{url_, emu::kDefaultToken, {}};
    config.policy.initial_backoff = std::chrono::milliseconds(1);
    config.policy.max_backoff = std::chrono::milliseconds(5);
    http_ = std::make_unique<http::HttpClient>(config, transport_, clock_, limiter_);
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
    malformed_ = reader.progress().malformed_pages.load();
    return ids;
  }

  std::shared_ptr<ManglingTransport> transport_ = std::make_shared<ManglingTransport>();
  http::SystemClock clock_;
  http::RateLimiter limiter_{http::RateLimit{1000, 1000}};
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<api::AirtableClient> client_;
  int64_t restarts_ = 0;
  int64_t malformed_ = 0;
};

void replace_first(std::string& body, const std::string& from, const std::string& to) {
  const size_t at = body.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  body.replace(at, from.size(), to);
}

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

// Regression (issue 14): a page that ends like a normal one (so the fetcher does not parse
// it) but that the converter finds malformed ended the read, though MalformedPage is
// retryable. Campaigns: 20 records, 4 pages of 5; `page` is the list answer that is spoiled.
TEST_F(ReaderTest, AsksAgainForPagesTheConverterFindsMalformed) {
  const auto expected = read_ids({base_, "Campaigns", {}, "", "", {}, {}, 100, 5});
  struct Case {
    const char* name;
    int page;
    const char* from;
    const char* to;
  };
  const Case cases[] = {
      {"a record without an id", 2, R"({"id":"rec)", R"({"xid":"rec)"},
      {"JSON broken mid-page, tail intact", 2, R"("fields":{)", R"("fields":[)"},
      {"no records list", 3, R"({"records":[)", R"({"recordz":[)"},
      {"the last page (the fetcher has finished)", 4, R"({"id":"rec)", R"({"xid":"rec)"},
      {"the first page", 1, R"({"id":"rec)", R"({"xid":"rec)"},
  };
  for (const Case& c : cases) {
    transport_->spoil([&c](int n, std::string& body) {
      if (n == c.page) {
        replace_first(body, c.from, c.to);
      }
    });
    const auto ids = read_ids({base_, "Campaigns", {}, "", "", {}, {}, 100, 5});
    EXPECT_EQ(ids, expected) << c.name;
    EXPECT_EQ(malformed_, 1) << c.name;
  }
}

TEST_F(ReaderTest, GivesUpOnAPageThatStaysMalformed) {
  transport_->spoil([](int n, std::string& body) {
    if (n >= 2) {
      replace_first(body, R"({"id":"rec)", R"({"xid":"rec)");
    }
  });
  try {
    read_ids({base_, "Campaigns", {}, "", "", {}, {}, 100, 5});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kServer);
    const std::string message = e.what();
    EXPECT_NE(message.find("6 times in a row"), std::string::npos) << message;
    EXPECT_NE(message.find("a record without an id"), std::string::npos) << message;
  }
  EXPECT_EQ(transport_->most_asks(), 6U);  // page 2, asked for six times
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
