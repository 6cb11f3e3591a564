#include "airtable_lakeflow/convert/cell_decoder.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "airtable_lakeflow/convert/json_text.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"
#include "airtable_lakeflow/convert/short_equal.hpp"

namespace airtable_lakeflow::convert {

namespace {

using schema::CellKind;
using schema::CellSpec;
using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMicrosScale = 6;
// A JSON number as value × 10^scale, exactly.
std::optional<int128> number_scaled(element value, int scale) {
  switch (value.type()) {
    case element_type::INT64: return scaled_integer(value.get_int64().value_unsafe(), scale);
    case element_type::UINT64: {
      char buffer[32];
      const auto [end, error] =
          std::to_chars(buffer, buffer + sizeof(buffer), value.get_uint64().value_unsafe());
      return error == std::errc() ? scaled_decimal({buffer, end}, scale) : std::nullopt;
    }
    case element_type::DOUBLE: {
      const double number = value.get_double().value_unsafe();
      if (!std::isfinite(number)) {
        return std::nullopt;
      }
      if (const auto fast = scaled_exactly(number, scale)) {
        return fast;
      }
      char buffer[32];
      return scaled_decimal(shortest_text(number, buffer), scale);
    }
    default: return std::nullopt;
  }
}

std::optional<int64_t> integral(element value) {
  switch (value.type()) {
    case element_type::INT64: return value.get_int64().value_unsafe();
    case element_type::UINT64: {
      const uint64_t number = value.get_uint64().value_unsafe();
      return number <= uint64_t(INT64_MAX) ? std::optional<int64_t>(int64_t(number)) : std::nullopt;
    }
    case element_type::DOUBLE: {
      const auto scaled = number_scaled(value, 0);
      if (scaled && *scaled >= INT64_MIN && *scaled <= INT64_MAX) {
        return static_cast<int64_t>(*scaled);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<int64_t> micros(element value) {
  const auto scaled = number_scaled(value, kMicrosScale);
  if (scaled && *scaled >= INT64_MIN && *scaled <= INT64_MAX) {
    return static_cast<int64_t>(*scaled);
  }
  return std::nullopt;
}

// Airtable's error and special values: {"error": "#ERROR!"}, {"specialValue": "NaN"}.
bool is_error_object(simdjson::dom::object object) {
  if (object.size() != 1) {
    return false;
  }
  const std::string_view key = (*object.begin()).key;
  return key == "error" || key == "specialValue";
}

// The scalar cells: each appends `value` or returns false having appended nothing.
inline bool append_text(element value, arrow::StringBuilder& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return false;
  }
  out.append(text);
  return true;
}

inline bool append_bool(element value, arrow::BoolBuilder& out) {
  bool flag = false;
  if (value.get_bool().get(flag) != simdjson::SUCCESS) {
    return false;
  }
  out.append(flag);
  return true;
}

inline bool append_integer(element value, arrow::Int64Builder& out) {
  const auto number = integral(value);
  if (number) {
    out.append(*number);
  }
  return number.has_value();
}

inline bool append_decimal(element value, int scale, arrow::Decimal128Builder& out) {
  const auto scaled = number_scaled(value, scale);
  if (scaled) {
    out.append(*scaled);
  }
  return scaled.has_value();
}

inline bool append_date(element value, arrow::Int32Builder& out) {
  std::string_view text;
  std::optional<int32_t> days;
  if (value.get_string().get(text) != simdjson::SUCCESS || !(days = parse_date(text))) {
    return false;
  }
  out.append(*days);
  return true;
}

inline bool append_timestamp(element value, arrow::Int64Builder& out) {
  std::string_view text;
  std::optional<int64_t> instant;
  if (value.get_string().get(text) != simdjson::SUCCESS || !(instant = parse_timestamp(text))) {
    return false;
  }
  out.append(*instant);
  return true;
}

inline bool append_duration(element value, arrow::Int64Builder& out) {
  const auto us = micros(value);
  if (us) {
    out.append(*us);
  }
  return us.has_value();
}

inline void append_json(element value, arrow::StringBuilder& out, std::string& scratch) {
  // JSON text, strings quoted, so the column always parses back to the value.
  scratch.clear();
  append_json_text(value, scratch);
  out.append(scratch);
}

bool append_value(const CellPlan& plan, element value);

// A list or struct member: text inline (the common case), anything else through the switch.
inline bool append_child(const CellPlan& plan, element value) {
  if (plan.kind == CellKind::kText) {
    return append_text(value, static_cast<arrow::StringBuilder&>(*plan.builder));
  }
  return append_value(plan, value);
}

[[gnu::noinline]] bool append_list(const CellPlan& plan, element value) {
  simdjson::dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) {
    return false;
  }
  const CellPlan& item_plan = plan.children.front();
  for (const element item : items) {
    // Airtable lists never hold nulls; one would be a shape we do not know.
    if (item.is_null() || !append_child(item_plan, item)) {
      return false;
    }
  }
  static_cast<arrow::ListBuilder&>(*plan.builder).close_list();
  return true;
}

constexpr size_t kMaxMembers = 32;  // the widest struct (an attachment) has 8

[[gnu::noinline]] bool append_struct(const CellPlan& plan, element value) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS || is_error_object(object)) {
    return false;
  }
  // Members are separate columns, so each value goes straight to its member as its key comes
  // by; members left without a value get a null. Keys usually come in member order, so the
  // next member is tried first. The first of duplicated keys counts.
  const size_t n = plan.children.size();
  uint32_t found = 0;
  size_t next = 0;
  for (const auto [key, member_value] : object) {
    for (size_t tried = 0; tried < n; ++tried) {
      const size_t m = next + tried < n ? next + tried : next + tried - n;
      if (!short_equal(plan.keys[m], key)) {
        continue;
      }
      next = m + 1;
      if ((found >> m & 1U) == 0 && !member_value.is_null()) {
        if (!append_child(plan.children[m], member_value)) {
          return false;
        }
        found |= 1U << m;
      }
      break;
    }
  }
  for (size_t m = 0; m < n; ++m) {
    if ((found >> m & 1U) == 0) {
      plan.children[m].builder->append_null();
    }
  }
  static_cast<arrow::StructBuilder&>(*plan.builder).close_struct();
  return true;
}

// Appends `value`; false when it does not fit, possibly after appending part of it (the
// caller truncates).
bool append_value(const CellPlan& plan, element value) {
  arrow::ArrayBuilder& builder = *plan.builder;
  switch (plan.kind) {
    case CellKind::kText: return append_text(value, static_cast<arrow::StringBuilder&>(builder));
    case CellKind::kJson: {
      std::string scratch;
      append_json(value, static_cast<arrow::StringBuilder&>(builder), scratch);
      return true;
    }
    case CellKind::kBool:
    case CellKind::kCheckbox: return append_bool(value, static_cast<arrow::BoolBuilder&>(builder));
    case CellKind::kInteger:
      return append_integer(value, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kDecimal:
      return append_decimal(value, plan.scale, static_cast<arrow::Decimal128Builder&>(builder));
    case CellKind::kDate: return append_date(value, static_cast<arrow::Int32Builder&>(builder));
    case CellKind::kTimestamp:
      return append_timestamp(value, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kDuration:
      return append_duration(value, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kList: return append_list(plan, value);
    case CellKind::kStruct: return append_struct(plan, value);
  }
  return false;
}

// One column of a page with the kind decided once: `append(cell, builder)` for each present
// cell, a null or false for each absent one.
template <typename Builder, typename Append>
void each_cell(const ColumnCells& cells, Builder& builder, bool absent_is_false,
               std::vector<uint32_t>& failed, Append append) {
  for (uint32_t row = 0; row < cells.count; ++row) {
    if (!cells.present[row]) {
      if constexpr (std::is_same_v<Builder, arrow::BoolBuilder>) {
        if (absent_is_false) {
          builder.append(false);
          continue;
        }
      }
      builder.append_null();
    } else if (!append(cells.values[row], builder)) {
      builder.append_null();
      failed.push_back(row);
    }
  }
}

}  // namespace

CellPlan bind(const CellSpec& spec, arrow::ArrayBuilder& builder) {
  CellPlan plan{spec.kind, spec.scale, &builder, {}, {}};
  if (spec.kind == CellKind::kList) {
    plan.children.push_back(
        bind(spec.element.at(0), static_cast<arrow::ListBuilder&>(builder).element()));
  } else if (spec.kind == CellKind::kStruct) {
    auto& members = static_cast<arrow::StructBuilder&>(builder);
    if (spec.members.size() > kMaxMembers) {
      throw std::logic_error("a struct column has more members than the converter can track");
    }
    for (size_t m = 0; m < spec.members.size(); ++m) {
      plan.children.push_back(bind(spec.members[m].spec, members.member(m)));
      plan.keys.push_back(spec.members[m].json_key);
    }
  }
  return plan;
}

bool try_append(const CellPlan& plan, element value) {
  const int64_t before = plan.builder->length();
  if (append_value(plan, value)) {
    return true;
  }
  plan.builder->truncate(before);
  return false;
}

void append_column(const CellPlan& plan, const ColumnCells& cells, std::vector<uint32_t>& failed) {
  arrow::ArrayBuilder& builder = *plan.builder;
  switch (plan.kind) {
    case CellKind::kText:
      each_cell(cells, static_cast<arrow::StringBuilder&>(builder), false, failed, append_text);
      return;
    case CellKind::kJson: {
      std::string scratch;
      each_cell(cells, static_cast<arrow::StringBuilder&>(builder), false, failed,
                [&scratch](element value, arrow::StringBuilder& out) {
                  append_json(value, out, scratch);
                  return true;
                });
      return;
    }
    case CellKind::kBool:
    case CellKind::kCheckbox:
      each_cell(cells, static_cast<arrow::BoolBuilder&>(builder), plan.kind == CellKind::kCheckbox,
                failed, append_bool);
      return;
    case CellKind::kInteger:
      each_cell(cells, static_cast<arrow::Int64Builder&>(builder), false, failed, append_integer);
      return;
    case CellKind::kDecimal:
      each_cell(cells, static_cast<arrow::Decimal128Builder&>(builder), false, failed,
                [scale = plan.scale](element value, arrow::Decimal128Builder& out) {
                  return append_decimal(value, scale, out);
                });
      return;
    case CellKind::kDate:
      each_cell(cells, static_cast<arrow::Int32Builder&>(builder), false, failed, append_date);
      return;
    case CellKind::kTimestamp:
      each_cell(cells, static_cast<arrow::Int64Builder&>(builder), false, failed, append_timestamp);
      return;
    case CellKind::kDuration:
      each_cell(cells, static_cast<arrow::Int64Builder&>(builder), false, failed, append_duration);
      return;
    case CellKind::kList:
    case CellKind::kStruct:
      each_cell(cells, builder, false, failed,
                [&plan](element value, arrow::ArrayBuilder&) { return try_append(plan, value); });
      return;
  }
}

}  // namespace airtable_lakeflow::convert
