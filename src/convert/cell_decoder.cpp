#include "airtable_lakeflow/convert/cell_decoder.hpp"

#include <array>
#include <charconv>
#include <cmath>

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
    case element_type::INT64: {
      char buffer[32];
      const auto [end, error] =
          std::to_chars(buffer, buffer + sizeof(buffer), int64_t(value.get_int64()));
      return error == std::errc() ? scaled_decimal({buffer, end}, scale) : std::nullopt;
    }
    case element_type::UINT64: {
      char buffer[32];
      const auto [end, error] =
          std::to_chars(buffer, buffer + sizeof(buffer), uint64_t(value.get_uint64()));
      return error == std::errc() ? scaled_decimal({buffer, end}, scale) : std::nullopt;
    }
    case element_type::DOUBLE: {
      const double number = value.get_double();
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
    case element_type::INT64: return int64_t(value.get_int64());
    case element_type::UINT64: {
      const uint64_t number = value.get_uint64();
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

bool is_error_object(simdjson::dom::object object) {
  // Airtable's error and special values: {"error": "#ERROR!"}, {"specialValue": "NaN"}.
  return object.size() == 1 && (object["error"].error() == simdjson::SUCCESS ||
                                object["specialValue"].error() == simdjson::SUCCESS);
}

constexpr size_t kMaxMembers = 16;  // the widest struct (an attachment) has 8

// The object's value for each struct member, in one pass over its keys. Keys usually come in
// member order, so the next member is tried first.
void collect_members(const CellSpec& spec, simdjson::dom::object object,
                     std::array<element, kMaxMembers>& out, std::array<bool, kMaxMembers>& found) {
  found.fill(false);
  const size_t n = spec.members.size();
  size_t next = 0;
  for (const auto [key, value] : object) {
    for (size_t tried = 0; tried < n; ++tried) {
      const size_t m = (next + tried) % n;
      const std::string& want = spec.members[m].json_key;
      if (short_equal(want, key)) {
        if (!found[m]) {
          out[m] = value;
          found[m] = !value.is_null();
        }
        next = m + 1;
        break;
      }
    }
  }
}

// Appends `value`; false when it does not fit, possibly after appending part of it (the
// caller truncates).
bool append_value(const CellSpec& spec, element value, arrow::ArrayBuilder& builder) {
  switch (spec.kind) {
    case CellKind::kText: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        return false;
      }
      static_cast<arrow::StringBuilder&>(builder).append(text);
      return true;
    }
    case CellKind::kJson:
      // JSON text, strings quoted, so the column always parses back to the value.
      static_cast<arrow::StringBuilder&>(builder).append(simdjson::minify(value));
      return true;
    case CellKind::kBool:
    case CellKind::kCheckbox: {
      bool flag = false;
      if (value.get_bool().get(flag) != simdjson::SUCCESS) {
        return false;
      }
      static_cast<arrow::BoolBuilder&>(builder).append(flag);
      return true;
    }
    case CellKind::kInteger: {
      const auto number = integral(value);
      if (!number) {
        return false;
      }
      static_cast<arrow::Int64Builder&>(builder).append(*number);
      return true;
    }
    case CellKind::kDecimal: {
      const auto scaled = number_scaled(value, spec.scale);
      if (!scaled) {
        return false;
      }
      static_cast<arrow::Decimal128Builder&>(builder).append(*scaled);
      return true;
    }
    case CellKind::kDate: {
      std::string_view text;
      std::optional<int32_t> days;
      if (value.get_string().get(text) != simdjson::SUCCESS || !(days = parse_date(text))) {
        return false;
      }
      static_cast<arrow::Int32Builder&>(builder).append(*days);
      return true;
    }
    case CellKind::kTimestamp: {
      std::string_view text;
      std::optional<int64_t> instant;
      if (value.get_string().get(text) != simdjson::SUCCESS || !(instant = parse_timestamp(text))) {
        return false;
      }
      static_cast<arrow::Int64Builder&>(builder).append(*instant);
      return true;
    }
    case CellKind::kDuration: {
      const auto us = micros(value);
      if (!us) {
        return false;
      }
      static_cast<arrow::Int64Builder&>(builder).append(*us);
      return true;
    }
    case CellKind::kList: {
      simdjson::dom::array items;
      if (value.get_array().get(items) != simdjson::SUCCESS) {
        return false;
      }
      auto& list = static_cast<arrow::ListBuilder&>(builder);
      for (const element item : items) {
        // Airtable lists never hold nulls; one would be a shape we do not know.
        if (item.is_null() || !append_value(spec.element[0], item, list.element())) {
          return false;
        }
      }
      list.close_list();
      return true;
    }
    case CellKind::kStruct: {
      simdjson::dom::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS || is_error_object(object)) {
        return false;
      }
      std::array<element, kMaxMembers> members;
      std::array<bool, kMaxMembers> found{};
      collect_members(spec, object, members, found);
      auto& out = static_cast<arrow::StructBuilder&>(builder);
      for (size_t i = 0; i < spec.members.size(); ++i) {
        if (!found[i]) {
          out.member(i).append_null();
        } else if (!append_value(spec.members[i].spec, members[i], out.member(i))) {
          return false;
        }
      }
      out.close_struct();
      return true;
    }
  }
  return false;
}

}  // namespace

bool try_append(const CellSpec& spec, element value, arrow::ArrayBuilder& builder) {
  const int64_t before = builder.length();
  if (append_value(spec, value, builder)) {
    return true;
  }
  builder.truncate(before);
  return false;
}

void append_absent(const CellSpec& spec, arrow::ArrayBuilder& builder) {
  if (spec.kind == CellKind::kCheckbox) {
    static_cast<arrow::BoolBuilder&>(builder).append(false);
  } else {
    builder.append_null();
  }
}

}  // namespace airtable_lakeflow::convert
