// Turns list-records pages into Arrow record batches for one TableLayout: each page is parsed
// once (simdjson, into a reused parser), its cells indexed by column, then appended to the
// column builders one column at a time. Cells that do not fit their column, and cells of fields the
// layout does not know, go to `_rescued_data` as {"column or field id": raw JSON}. Blank records
// ("fields": {}) are rows like any other.
#pragma once

#include <simdjson.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "airtable_lakeflow/arrow/array_builder.hpp"
#include "airtable_lakeflow/convert/cell_decoder.hpp"
#include "airtable_lakeflow/convert/tape.hpp"
#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/schema/table_layout.hpp"

namespace airtable_lakeflow::convert {

// A page that is not a list-records answer (cut short, not JSON, a record without an id).
// Nothing of it was appended; the reader asks for the page again.
class MalformedPage : public Error {
 public:
  explicit MalformedPage(const std::string& what) : Error(ErrorKind::kServer, what) {}
};

struct PageResult {
  int64_t records = 0;  // appended
  int64_t skipped = 0;  // left out by the keep() filter
  std::string offset;   // the next page's offset; empty on the last page
};

class PageConverter {
 public:
  explicit PageConverter(schema::TableLayout layout);

  // Appends the records of one page body. `keep` (optional) sees each record id first and
  // returns false to leave that record out. Throws MalformedPage, appending nothing, when the
  // body is not a list-records page.
  PageResult append_page(const std::string& body,
                         const std::function<bool(std::string_view)>& keep = {});

  [[nodiscard]] int64_t rows() const { return rows_; }
  [[nodiscard]] const schema::TableLayout& layout() const { return layout_; }
  [[nodiscard]] int64_t rescued_cells() const { return rescued_cells_; }
  // Moves the rows appended so far into one record batch (a struct array) and starts anew.
  void finish(ArrowArray* out);
  void export_schema(ArrowSchema* out) const;

 private:
  // A cell kept verbatim in `_rescued_data`, under `key`. Tape positions follow the page's
  // text, so ordering a record's rescues by `value` keeps the record's key order.
  struct Rescue {
    uint32_t row;
    std::string_view key;
    uint32_t value;  // on the page's tape
  };

  void start_page(size_t records);
  void index_record(const Tape& tape, uint32_t record);
  // The cells of one record's `fields` object.
  void index_fields(const Tape& tape, uint32_t fields, uint32_t row);
  // The column of `field_id`, or SIZE_MAX.
  [[nodiscard]] size_t find_field(std::string_view field_id) const;
  int64_t drop_unwanted(const std::function<bool(std::string_view)>& keep);
  void append_rescued(const Tape& tape, arrow::StringBuilder& out);

  schema::TableLayout layout_;
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders_;
  std::vector<CellPlan> plans_;  // per column, bound to builders_
  // Each column's field id, for the match of every cell's key to the next columns (never
  // matching for the system columns, whose ids are empty, and for ids too long for it, which
  // the search finds).
  std::vector<ShortKey> keys_;
  std::vector<std::pair<std::string, size_t>> by_field_id_;  // sorted, for binary search
  simdjson::dom::parser parser_;
  simdjson::dom::document document_;  // the page being appended, reused
  // Its cells, column-major: cell (column, row) is at column × capacity + row, as the index of
  // its value on the tape (Tape::kNone where absent).
  uint32_t page_rows_ = 0;
  size_t page_capacity_ = 0;
  std::vector<uint32_t> values_;
  std::vector<std::string_view> ids_;
  std::vector<Rescue> rescues_;
  std::vector<uint32_t> failed_;
  arrow::Buffer rescued_;  // one row's `_rescued_data` text
  int64_t rows_ = 0;
  int64_t rescued_cells_ = 0;
};

}  // namespace airtable_lakeflow::convert
