#include "airtable_lakeflow/convert/page_converter.hpp"

#include <algorithm>

#include "airtable_lakeflow/convert/cell_decoder.hpp"
#include "airtable_lakeflow/convert/json_text.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"
#include "airtable_lakeflow/convert/short_equal.hpp"
#include "airtable_lakeflow/error.hpp"

namespace airtable_lakeflow::convert {

namespace {

using simdjson::dom::element;

constexpr size_t kIdIndex = 0;
constexpr size_t kCreatedTimeIndex = 1;
constexpr size_t kNotFound = SIZE_MAX;
constexpr size_t kForwardLook = 8;  // columns tried after the expected one before a search

void add_rescued(std::string& rescued, std::string_view key, element value) {
  rescued += rescued.empty() ? '{' : ',';
  append_json_string(key, rescued);
  rescued += ':';
  append_json_text(value, rescued);
}

}  // namespace

PageConverter::PageConverter(schema::TableLayout layout) : layout_(std::move(layout)) {
  for (size_t i = 0; i < layout_.columns.size(); ++i) {
    const schema::Column& column = layout_.columns[i];
    builders_.push_back(arrow::make_builder(schema::arrow_type(column.cell)));
    plans_.push_back(bind(column.cell, *builders_.back()));
    FieldKey& key = keys_.emplace_back();
    if (column.field_id.size() <= key.bytes.size()) {
      std::copy(column.field_id.begin(), column.field_id.end(), key.bytes.begin());
      key.size = column.field_id.size();
    }
    if (!column.field_id.empty()) {
      by_field_id_.emplace_back(column.field_id, i);
    }
  }
  std::sort(by_field_id_.begin(), by_field_id_.end());
}

PageResult PageConverter::append_page(const std::string& body,
                                      const std::function<bool(std::string_view)>& keep) {
  element doc;
  simdjson::dom::array records;
  if (parser_.parse(body).get(doc) != simdjson::SUCCESS ||
      doc["records"].get_array().get(records) != simdjson::SUCCESS) {
    throw MalformedPage("Airtable sent a list-records page that is not JSON with a records list");
  }
  // Pass 1 finds every cell's column and checks the page; nothing is appended yet, so a bad
  // page leaves the batch untouched.
  start_page(records.size());
  for (const element record : records) {
    index_record(record);
  }
  PageResult result;
  if (keep) {
    result.skipped = drop_unwanted(keep);
  }
  result.records = page_rows_;
  // Pass 2 appends column by column, each column's kind decided once.
  auto& ids = static_cast<arrow::StringBuilder&>(*builders_[kIdIndex]);
  for (uint32_t row = 0; row < page_rows_; ++row) {
    ids.append(ids_[row]);
  }
  const size_t rescued_index = layout_.columns.size() - 1;
  for (size_t column = kCreatedTimeIndex; column < rescued_index; ++column) {
    const size_t at = column * page_capacity_;
    failed_.clear();
    append_column(plans_[column], {values_.data() + at, present_.data() + at, page_rows_}, failed_);
    for (const uint32_t row : failed_) {
      rescues_.push_back({row, order_[at + row], layout_.columns[column].name, values_[at + row]});
    }
    if (column != kCreatedTimeIndex) {
      rescued_cells_ += static_cast<int64_t>(failed_.size());
    }
  }
  append_rescued(static_cast<arrow::StringBuilder&>(*builders_[rescued_index]));
  rows_ += page_rows_;

  std::string_view offset;
  if (doc["offset"].get_string().get(offset) == simdjson::SUCCESS) {
    result.offset = std::string(offset);
  }
  return result;
}

void PageConverter::start_page(size_t records) {
  page_rows_ = 0;
  page_capacity_ = records;
  const size_t cells = layout_.columns.size() * records;
  values_.resize(cells);
  present_.assign(cells, 0);
  order_.resize(cells);
  ids_.clear();
  rescues_.clear();
}

inline size_t PageConverter::find_forward(size_t from, std::string_view field_id) const {
  // Cells come in schema order with absent ones left out, so the column is usually a few
  // places on.
  if (field_id.empty()) {
    return kNotFound;  // the system columns' keys are empty
  }
  const size_t end = std::min(from + kForwardLook, layout_.columns.size() - 1);  // not rescued
  for (size_t i = from; i < end; ++i) {
    if (short_equal(keys_[i].view(), field_id)) {
      return i;
    }
  }
  return kNotFound;
}

inline void PageConverter::place(size_t column, uint32_t row, uint32_t order, element value) {
  const size_t at = column * page_capacity_ + row;
  if (present_[at] == 0) {  // the first of duplicated keys counts
    present_[at] = 1;
    values_[at] = value;
    order_[at] = order;
  }
}

void PageConverter::index_record(element record) {
  simdjson::dom::object object;
  if (record.get_object().get(object) != simdjson::SUCCESS) {
    throw MalformedPage("Airtable sent a record that is not an object");
  }
  const uint32_t row = page_rows_;
  bool has_id = false;
  bool has_fields = false;
  simdjson::dom::object fields;
  for (const auto [key, value] : object) {
    if (short_equal(key, "id")) {
      std::string_view id;
      if (!has_id && value.get_string().get(id) == simdjson::SUCCESS) {
        ids_.push_back(id);
        has_id = true;
      }
    } else if (short_equal(key, "createdTime")) {
      place(kCreatedTimeIndex, row, 0, value);
    } else if (short_equal(key, "fields") && !has_fields) {  // the first of duplicates counts
      has_fields = value.get_object().get(fields) == simdjson::SUCCESS;
    }
  }
  if (!has_id) {
    throw MalformedPage("Airtable sent a record without an id");
  }
  if (has_fields) {
    uint32_t order = 1;  // the cell's place in the record, for the rescued object's key order
    size_t hint = kCreatedTimeIndex + 1;  // cells usually come in schema order
    for (const auto [key, value] : fields) {
      ++order;
      size_t index = find_forward(hint, key);
      if (index == kNotFound) {
        const auto match =
            std::lower_bound(by_field_id_.begin(), by_field_id_.end(), key,
                             [](const std::pair<std::string, size_t>& entry, std::string_view k) {
                               return std::string_view(entry.first) < k;
                             });
        if (match == by_field_id_.end() || match->first != key) {
          // A field the layout does not know (added after the schema was read): keep it.
          rescues_.push_back({row, order, key, value});
          ++rescued_cells_;
          continue;
        }
        index = match->second;
      }
      hint = index + 1;
      if (!value.is_null()) {  // null is what an absent key means
        place(index, row, order, value);
      }
    }
  }
  ++page_rows_;
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
      present_[at + i] = present_[at + kept[i]];
      order_[at + i] = order_[at + kept[i]];
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

void PageConverter::append_rescued(arrow::StringBuilder& out) {
  std::sort(rescues_.begin(), rescues_.end(), [](const Rescue& a, const Rescue& b) {
    return a.row != b.row ? a.row < b.row : a.order < b.order;
  });
  auto next = rescues_.begin();
  for (uint32_t row = 0; row < page_rows_; ++row) {
    if (next == rescues_.end() || next->row != row) {
      out.append_null();
      continue;
    }
    rescued_.clear();
    for (; next != rescues_.end() && next->row == row; ++next) {
      add_rescued(rescued_, next->key, next->value);
    }
    rescued_ += '}';
    out.append(rescued_);
  }
}

void PageConverter::finish(ArrowArray* out) {
  std::vector<ArrowArray> columns(builders_.size());
  for (size_t i = 0; i < builders_.size(); ++i) {
    builders_[i]->finish(&columns[i]);
  }
  arrow::export_batch(std::move(columns), rows_, out);
  rows_ = 0;
}

void PageConverter::export_schema(ArrowSchema* out) const {
  arrow::export_schema(layout_.arrow_fields(), out);
}

}  // namespace airtable_lakeflow::convert
