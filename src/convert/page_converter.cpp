#include "airtable_lakeflow/convert/page_converter.hpp"

#include <algorithm>

#include "airtable_lakeflow/convert/cell_decoder.hpp"
#include "airtable_lakeflow/convert/json_text.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"
#include "airtable_lakeflow/error.hpp"

namespace airtable_lakeflow::convert {

namespace {

constexpr size_t kIdIndex = 0;
constexpr size_t kCreatedTimeIndex = 1;
constexpr size_t kNotFound = SIZE_MAX;
constexpr size_t kForwardLook = 8;  // columns tried after the expected one before a search
const ShortKey kIdKey("id");
const ShortKey kCreatedTimeKey("createdTime");
const ShortKey kFieldsKey("fields");

void add_rescued(arrow::Buffer& rescued, std::string_view key, const Tape& tape, uint32_t value) {
  rescued.push_back(rescued.empty() ? '{' : ',');
  append_json_string(key, rescued);
  rescued.push_back(':');
  append_json_text(tape, value, rescued);
}

}  // namespace

PageConverter::PageConverter(schema::TableLayout layout) : layout_(std::move(layout)) {
  for (size_t i = 0; i < layout_.columns.size(); ++i) {
    const schema::Column& column = layout_.columns[i];
    builders_.push_back(arrow::make_builder(schema::arrow_type(column.cell)));
    plans_.push_back(bind(column.cell, *builders_.back()));
    keys_.emplace_back(column.field_id.empty() ? ShortKey() : ShortKey(column.field_id));
    if (!column.field_id.empty()) {
      by_field_id_.emplace_back(column.field_id, i);
    }
  }
  std::sort(by_field_id_.begin(), by_field_id_.end());
}

PageResult PageConverter::append_page(const std::string& body,
                                      const std::function<bool(std::string_view)>& keep) {
  // Parsed in place into the reused document (bodies keep simdjson's padding spare).
  if (parser_.parse_into_document(document_, body).error() != simdjson::SUCCESS) {
    throw MalformedPage("Airtable sent a list-records page that is not JSON");
  }
  const Tape tape(document_);
  const uint32_t records =
      tape.type(Tape::kRoot) == '{' ? tape.member(Tape::kRoot, "records") : Tape::kNone;
  if (records == Tape::kNone || tape.type(records) != '[') {
    throw MalformedPage("Airtable sent a list-records page without a records list");
  }
  // Pass 1 finds every cell's column and checks the page; nothing is appended yet, so a bad
  // page leaves the batch untouched.
  start_page(tape.count(records));
  const uint32_t end = tape.close(records);
  for (uint32_t record = records + 1; record < end; record = tape.after(record)) {
    index_record(tape, record);
  }
  PageResult result;
  if (keep) {
    result.skipped = drop_unwanted(keep);
  }
  result.records = page_rows_;
  // Pass 2 appends column by column, each column's kind decided once.
  // The ids lie in simdjson's padded string buffer.
  static_cast<arrow::StringBuilder&>(*builders_[kIdIndex])
      .append_column<true>(
          page_rows_, [this](uint32_t row) { return std::optional<std::string_view>(ids_[row]); });
  const size_t rescued_index = layout_.columns.size() - 1;
  for (size_t column = kCreatedTimeIndex; column < rescued_index; ++column) {
    const size_t at = column * page_capacity_;
    failed_.clear();
    append_column(plans_[column], tape, {values_.data() + at, page_rows_}, failed_);
    for (const uint32_t row : failed_) {
      rescues_.push_back({row, layout_.columns[column].name, values_[at + row]});
    }
    if (column != kCreatedTimeIndex) {
      rescued_cells_ += static_cast<int64_t>(failed_.size());
    }
  }
  append_rescued(tape, static_cast<arrow::StringBuilder&>(*builders_[rescued_index]));
  rows_ += page_rows_;

  const uint32_t offset = tape.member(Tape::kRoot, "offset");
  if (offset != Tape::kNone && tape.type(offset) == '"') {
    result.offset = std::string(tape.string(offset));
  }
  return result;
}

void PageConverter::start_page(size_t records) {
  page_rows_ = 0;
  page_capacity_ = records;
  const size_t cells = layout_.columns.size() * records;
  values_.assign(cells, Tape::kNone);
  ids_.clear();
  rescues_.clear();
}

size_t PageConverter::find_field(std::string_view field_id) const {
  const auto match =
      std::lower_bound(by_field_id_.begin(), by_field_id_.end(), field_id,
                       [](const std::pair<std::string, size_t>& entry, std::string_view k) {
                         return std::string_view(entry.first) < k;
                       });
  return match != by_field_id_.end() && match->first == field_id ? match->second : kNotFound;
}

void PageConverter::index_record(const Tape& tape, uint32_t record) {
  if (tape.type(record) != '{') {
    throw MalformedPage("Airtable sent a record that is not an object");
  }
  const uint32_t row = page_rows_;
  bool has_id = false;
  uint32_t fields = Tape::kNone;
  const uint32_t end = tape.close(record);
  for (uint32_t key = record + 1; key < end; key = tape.after(key + 1)) {
    const uint32_t value = key + 1;
    const KeyText text = tape.key(key);
    if (text.is(kIdKey)) {
      if (!has_id && tape.type(value) == '"') {
        ids_.push_back(tape.string(value));
        has_id = true;
      }
    } else if (text.is(kCreatedTimeKey)) {
      uint32_t& cell = values_[kCreatedTimeIndex * page_capacity_ + row];
      if (cell == Tape::kNone) {  // the first of duplicated keys counts
        cell = value;
      }
    } else if (text.is(kFieldsKey) && fields == Tape::kNone) {
      // the first of duplicated keys counts
      if (tape.type(value) == '{') {
        fields = value;
      }
    }
  }
  if (!has_id) {
    throw MalformedPage("Airtable sent a record without an id");
  }
  if (fields != Tape::kNone) {
    index_fields(tape, fields, row);
  }
  ++page_rows_;
}

void PageConverter::index_fields(const Tape& tape, uint32_t fields, uint32_t row) {
  // Held in locals: the cell stores below are to uint32_t, which members could be.
  const ShortKey* const keys = keys_.data();
  const size_t columns = keys_.size() - 1;       // not `_rescued_data`
  uint32_t* const cells = values_.data() + row;  // column c's cell at cells[c × capacity]
  const size_t capacity = page_capacity_;
  // Cells come in schema order with absent ones left out, so each key is tried with the next
  // few columns before a search.
  size_t hint = kCreatedTimeIndex + 1;
  const uint32_t end = tape.close(fields);
  for (uint32_t key = fields + 1; key < end; key = tape.after(key + 1)) {
    const KeyText text = tape.key(key);
    const size_t last = std::min(hint + kForwardLook, columns);
    size_t index = hint;
    while (index < last && !text.is(keys[index])) {
      ++index;
    }
    if (index >= last) {
      index = find_field(tape.string(key));
      if (index == kNotFound) {
        // A field the layout does not know (added after the schema was read): keep it.
        rescues_.push_back({row, tape.string(key), key + 1});
        ++rescued_cells_;
        continue;
      }
    }
    hint = index + 1;
    if (!tape.is_null(key + 1)) {  // null is what an absent key means
      uint32_t& cell = cells[index * capacity];
      if (cell == Tape::kNone) {  // the first of duplicated keys counts
        cell = key + 1;
      }
    }
  }
}

int64_t PageConverter::drop_unwanted(const std::function<bool(std::string_view)>& keep) {
  // Asked only once the whole page checked out: keep() may remember the ids it let through.
  std::vector<uint32_t> kept;
  for (uint32_t row = 0; row < page_rows_; ++row) {
    if (keep(ids_[row])) {
      kept.push_back(row);
    }
  }
  const auto dropped = static_cast<int64_t>(page_rows_ - kept.size());
  if (dropped == 0) {
    return 0;
  }
  std::vector<uint32_t> new_row(page_rows_, UINT32_MAX);
  for (uint32_t i = 0; i < kept.size(); ++i) {
    new_row[kept[i]] = i;
    ids_[i] = ids_[kept[i]];
  }
  ids_.resize(kept.size());
  for (size_t column = 0; column < layout_.columns.size(); ++column) {
    const size_t at = column * page_capacity_;
    for (uint32_t i = 0; i < kept.size(); ++i) {
      values_[at + i] = values_[at + kept[i]];
    }
  }
  std::vector<Rescue> rescues;
  for (Rescue& rescue : rescues_) {
    if (new_row[rescue.row] != UINT32_MAX) {
      rescue.row = new_row[rescue.row];
      rescues.push_back(rescue);
    } else {
      --rescued_cells_;
    }
  }
  rescues_ = std::move(rescues);
  page_rows_ = static_cast<uint32_t>(kept.size());
  return dropped;
}

void PageConverter::append_rescued(const Tape& tape, arrow::StringBuilder& out) {
  std::sort(rescues_.begin(), rescues_.end(), [](const Rescue& a, const Rescue& b) {
    return a.row != b.row ? a.row < b.row : a.value < b.value;  // the record's key order
  });
  auto next = rescues_.begin();
  for (uint32_t row = 0; row < page_rows_; ++row) {
    if (next == rescues_.end() || next->row != row) {
      out.append_null();
      continue;
    }
    rescued_.clear();
    for (; next != rescues_.end() && next->row == row; ++next) {
      add_rescued(rescued_, next->key, tape, next->value);
    }
    rescued_.push_back('}');
    out.append(rescued_.text());
  }
}

void PageConverter::finish(ArrowArray* out) {
  std::vector<arrow::UniqueArray> columns(builders_.size());
  for (size_t i = 0; i < builders_.size(); ++i) {
    builders_[i]->finish(columns[i].get());
  }
  arrow::export_batch(std::move(columns), rows_, out);
  rows_ = 0;
}

void PageConverter::export_schema(ArrowSchema* out) const {
  arrow::export_schema(layout_.arrow_fields(), out);
}

}  // namespace airtable_lakeflow::convert
