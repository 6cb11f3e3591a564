#include "airtable_lakeflow/convert/page_converter.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "airtable_lakeflow/convert/cell_decoder.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"
#include "airtable_lakeflow/convert/short_equal.hpp"
#include "airtable_lakeflow/error.hpp"

namespace airtable_lakeflow::convert {

namespace {

using simdjson::dom::element;

constexpr size_t kIdIndex = 0;
constexpr size_t kCreatedTimeIndex = 1;

void add_rescued(std::string& rescued, std::string_view key, element value) {
  rescued += rescued.empty() ? "{" : ",";
  rescued += nlohmann::json(std::string(key)).dump();
  rescued += ':';
  rescued += simdjson::minify(value);
}

}  // namespace

PageConverter::PageConverter(schema::TableLayout layout) : layout_(std::move(layout)) {
  for (size_t i = 0; i < layout_.columns.size(); ++i) {
    const schema::Column& column = layout_.columns[i];
    builders_.push_back(arrow::make_builder(schema::arrow_type(column.cell)));
    if (!column.field_id.empty()) {
      by_field_id_.emplace_back(column.field_id, i);
    }
  }
  std::sort(by_field_id_.begin(), by_field_id_.end());
  seen_.assign(layout_.columns.size(), -1);
}

PageResult PageConverter::append_page(const std::string& body,
                                      const std::function<bool(std::string_view)>& keep) {
  element doc;
  simdjson::dom::array records;
  if (parser_.parse(body).get(doc) != simdjson::SUCCESS ||
      doc["records"].get_array().get(records) != simdjson::SUCCESS) {
    throw MalformedPage("Airtable sent a list-records page that is not JSON with a records list");
  }
  // Check every record before appending any, so a bad page leaves the batch untouched.
  for (const element record : records) {
    simdjson::dom::object object;
    std::string_view id;
    if (record.get_object().get(object) != simdjson::SUCCESS ||
        object["id"].get_string().get(id) != simdjson::SUCCESS) {
      throw MalformedPage("Airtable sent a record without an id");
    }
  }
  PageResult result;
  for (const element record : records) {
    const simdjson::dom::object object = record.get_object();
    const std::string_view id = object["id"].get_string();
    if (keep && !keep(id)) {
      ++result.skipped;
      continue;
    }
    append_record(object, id);
    ++result.records;
  }
  std::string_view offset;
  if (doc["offset"].get_string().get(offset) == simdjson::SUCCESS) {
    result.offset = std::string(offset);
  }
  return result;
}

void PageConverter::append_record(simdjson::dom::object record, std::string_view id) {
  static_cast<arrow::StringBuilder&>(*builders_[kIdIndex]).append(id);
  rescued_.clear();

  std::string_view created;
  std::optional<int64_t> created_at;
  if (record["createdTime"].get_string().get(created) == simdjson::SUCCESS &&
      (created_at = parse_timestamp(created))) {
    static_cast<arrow::Int64Builder&>(*builders_[kCreatedTimeIndex]).append(*created_at);
  } else {
    builders_[kCreatedTimeIndex]->append_null();
    element raw;
    if (record["createdTime"].get(raw) == simdjson::SUCCESS) {
      add_rescued(rescued_, schema::kCreatedTimeColumn, raw);
    }
  }

  simdjson::dom::object fields;
  if (record["fields"].get_object().get(fields) == simdjson::SUCCESS) {
    size_t hint = kCreatedTimeIndex + 1;  // cells usually come in schema order
    for (const auto [key, value] : fields) {
      size_t index = 0;
      if (hint < layout_.columns.size() && short_equal(layout_.columns[hint].field_id, key)) {
        index = hint;
      } else {
        const auto match =
            std::lower_bound(by_field_id_.begin(), by_field_id_.end(), key,
                             [](const std::pair<std::string, size_t>& entry, std::string_view k) {
                               return std::string_view(entry.first) < k;
                             });
        if (match == by_field_id_.end() || match->first != key) {
          // A field the layout does not know (added after the schema was read): keep it.
          add_rescued(rescued_, key, value);
          ++rescued_cells_;
          continue;
        }
        index = match->second;
      }
      hint = index + 1;
      if (seen_[index] == rows_) {
        continue;  // a duplicated key: the first one counts
      }
      seen_[index] = rows_;
      if (value.is_null()) {
        append_absent(layout_.columns[index].cell, *builders_[index]);
      } else if (!try_append(layout_.columns[index].cell, value, *builders_[index])) {
        builders_[index]->append_null();
        add_rescued(rescued_, layout_.columns[index].name, value);
        ++rescued_cells_;
      }
    }
  }
  const size_t rescued_index = layout_.columns.size() - 1;
  for (size_t i = kCreatedTimeIndex + 1; i < rescued_index; ++i) {
    if (seen_[i] != rows_) {
      append_absent(layout_.columns[i].cell, *builders_[i]);
    }
  }
  auto& rescued = static_cast<arrow::StringBuilder&>(*builders_[rescued_index]);
  if (rescued_.empty()) {
    rescued.append_null();
  } else {
    rescued_ += '}';
    rescued.append(rescued_);
  }
  ++rows_;
}

void PageConverter::finish(ArrowArray* out) {
  std::vector<ArrowArray> columns(builders_.size());
  for (size_t i = 0; i < builders_.size(); ++i) {
    builders_[i]->finish(&columns[i]);
  }
  arrow::export_batch(std::move(columns), rows_, out);
  rows_ = 0;
  seen_.assign(layout_.columns.size(), -1);
}

void PageConverter::export_schema(ArrowSchema* out) const {
  arrow::export_schema(layout_.arrow_fields(), out);
}

}  // namespace airtable_lakeflow::convert
