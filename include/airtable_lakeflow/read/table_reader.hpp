// Reads one table as a sequence of Arrow record batches: plans the columns from the base
// schema, lists pages (throttled and retried by the HTTP layer) on a fetcher thread that stays
// up to two pages ahead, converts each page straight into the column builders and cuts a batch
// every `batch_rows` rows, so memory stays flat in the table's size. When Airtable's iterator
// expires mid-table the listing restarts and the records already emitted are skipped: no
// duplicates and none missing. A page that turns out malformed (not JSON, a record without an
// id) is asked for again, whether the fetcher or the converter finds it.
#pragma once

#include <simdjson.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "airtable_lakeflow/api/airtable_client.hpp"
#include "airtable_lakeflow/convert/page_converter.hpp"
#include "airtable_lakeflow/read/id_set.hpp"
#include "airtable_lakeflow/schema/table_layout.hpp"

namespace airtable_lakeflow::read {

struct ReadRequest {
  std::string base_id;
  std::string table;                // id or name
  std::vector<std::string> fields;  // ids or names; empty = every field
  std::string view;
  std::string formula;
  std::vector<api::SortKey> sort;
  std::optional<int64_t> max_records;
  int64_t batch_rows = 10'000;
  int page_size = 100;
};

struct ReadProgress {
  std::atomic<int64_t> pages{0};
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> restarts{0};         // listings restarted after an expired iterator
  std::atomic<int64_t> malformed_pages{0};  // pages asked for again
  std::atomic<int64_t> rescued_cells{0};
};

inline constexpr int kMaxMalformedPageRetries = 5;

// Where the base schema comes from (e.g. a short-lived cache shared by concurrent reads of one
// base); empty: ask Airtable.
using SchemaSource = std::function<std::vector<api::TableInfo>(const std::string& base_id)>;

class TableReader {
 public:
  // Reads the base schema (one request, unless `schema_source` has it) to plan the columns.
  TableReader(api::AirtableClient& client, ReadRequest request, int max_listing_restarts,
              const SchemaSource& schema_source = {});
  ~TableReader();
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  [[nodiscard]] const schema::TableLayout& layout() const { return converter_.layout(); }
  void export_schema(ArrowSchema* out) const { converter_.export_schema(out); }
  // The next batch into `out`; false (and `out` untouched) when the table is done.
  bool next(ArrowArray* out);
  [[nodiscard]] const ReadProgress& progress() const { return progress_; }

 private:
  // What the fetcher hands over, in listing order.
  struct Fetched {
    enum class Kind { kPage, kRestart, kEnd, kError };
    Kind kind = Kind::kPage;
    std::string body;
    std::exception_ptr error;
    std::string offset;       // a page: the offset it was asked for with ("": the first page)
    uint64_t generation = 0;  // items of an older generation were dropped by a rewind
  };
  static constexpr size_t kPagesAhead = 2;

  void fetch_loop();
  // Lists one page and hands it over; true when the listing has ended.
  bool fetch_page(simdjson::dom::parser& parser, std::string& offset, uint64_t generation,
                  int& malformed_in_a_row);
  void push(Fetched item);
  Fetched pop();
  // The converter found the page listed at `offset` malformed, after the fetcher had moved
  // past it: drop what was fetched since and have the fetcher list that page again.
  void rewind(const std::string& offset);
  [[nodiscard]] Error malformed_error(const std::string& cause) const;

  api::AirtableClient& client_;
  ReadRequest request_;
  int max_listing_restarts_;
  api::ListQuery query_;
  convert::PageConverter converter_;
  IdSet emitted_;
  bool skipping_ = false;
  bool done_ = false;
  ReadProgress progress_;
  std::string malformed_offset_;  // the page the converter last found malformed
  int malformed_in_a_row_ = 0;

  std::thread fetcher_;
  // Not in a request: the listing was handed over to its end (or its error), or the fetcher
  // has returned. Only a fetcher inside a request needs cancelling.
  std::atomic<bool> fetcher_idle_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Fetched> ready_;
  bool stop_ = false;
  uint64_t generation_ = 0;               // bumped by each rewind
  std::optional<std::string> rewind_to_;  // the offset the fetcher lists next, once
};

}  // namespace airtable_lakeflow::read
