// Turns list-records pages into Arrow record batches for one TableLayout: each page is parsed
// once (simdjson, into a reused parser) and its records appended straight into the column
// builders. Cells that do not fit their column, and cells of fields the layout does not know,
// go to `_rescued_data` as {"column or field id": raw JSON}. Blank records ("fields": {}) are
// rows like any other.
#pragma once

#include <simdjson.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "airtable_lakeflow/arrow/array_builder.hpp"
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
  void append_record(simdjson::dom::object record, std::string_view id);

  schema::TableLayout layout_;
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders_;
  std::vector<std::pair<std::string, size_t>> by_field_id_;  // sorted, for binary search
  std::vector<int64_t> seen_;  // per column: the last row that had a value
  simdjson::dom::parser parser_;
  std::string rescued_;
  int64_t rows_ = 0;
  int64_t rescued_cells_ = 0;
};

}  // namespace airtable_lakeflow::convert
