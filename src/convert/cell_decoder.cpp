#include "airtable_lakeflow/convert/cell_decoder.hpp"

#include <charconv>
#include <cmath>

#include "airtable_lakeflow/convert/scalars.hpp"

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

std::string_view string_of(element value) {
  std::string_view text;
  return value.get_string().get(text) == simdjson::SUCCESS ? text : std::string_view();
}

void append_unchecked(const CellSpec& spec, element value, arrow::ArrayBuilder& builder);

// A struct member that is absent or null appends a null.
void append_member(const CellSpec& spec, simdjson::dom::object object, const std::string& key,
                   arrow::ArrayBuilder& builder) {
  element member;
  if (object[key].get(member) != simdjson::SUCCESS || member.is_null()) {
    builder.append_null();
  } else {
    append_unchecked(spec, member, builder);
  }
}

void append_unchecked(const CellSpec& spec, element value, arrow::ArrayBuilder& builder) {
  switch (spec.kind) {
    case CellKind::kText:
      static_cast<arrow::StringBuilder&>(builder).append(string_of(value));
      return;
    case CellKind::kJson:
      // JSON text, strings quoted, so the column always parses back to the value.
      static_cast<arrow::StringBuilder&>(builder).append(simdjson::minify(value));
      return;
    case CellKind::kBool:
    case CellKind::kCheckbox:
      static_cast<arrow::BoolBuilder&>(builder).append(bool(value.get_bool()));
      return;
    case CellKind::kInteger:
      static_cast<arrow::Int64Builder&>(builder).append(*integral(value));
      return;
    case CellKind::kDecimal:
      static_cast<arrow::Decimal128Builder&>(builder).append(*number_scaled(value, spec.scale));
      return;
    case CellKind::kDate:
      static_cast<arrow::Int32Builder&>(builder).append(*parse_date(string_of(value)));
      return;
    case CellKind::kTimestamp:
      static_cast<arrow::Int64Builder&>(builder).append(*parse_timestamp(string_of(value)));
      return;
    case CellKind::kDuration:
      static_cast<arrow::Int64Builder&>(builder).append(*micros(value));
      return;
    case CellKind::kList: {
      auto& list = static_cast<arrow::ListBuilder&>(builder);
      for (const element item : value.get_array()) {
        append_unchecked(spec.element[0], item, list.element());
      }
      list.close_list();
      return;
    }
    case CellKind::kStruct: {
      auto& out = static_cast<arrow::StructBuilder&>(builder);
      const simdjson::dom::object object = value.get_object();
      for (size_t i = 0; i < spec.members.size(); ++i) {
        append_member(spec.members[i].spec, object, spec.members[i].json_key, out.member(i));
      }
      out.close_struct();
      return;
    }
  }
}

}  // namespace

bool fits(const CellSpec& spec, element value) {
  switch (spec.kind) {
    case CellKind::kText: return value.is_string();
    case CellKind::kJson: return true;
    case CellKind::kBool:
    case CellKind::kCheckbox: return value.is_bool();
    case CellKind::kInteger: return integral(value).has_value();
    case CellKind::kDecimal: return number_scaled(value, spec.scale).has_value();
    case CellKind::kDate: return value.is_string() && parse_date(string_of(value)).has_value();
    case CellKind::kTimestamp:
      return value.is_string() && parse_timestamp(string_of(value)).has_value();
    case CellKind::kDuration: return micros(value).has_value();
    case CellKind::kList: {
      simdjson::dom::array items;
      if (value.get_array().get(items) != simdjson::SUCCESS) {
        return false;
      }
      for (const element item : items) {
        // Lists never hold nulls in Airtable; one would be a shape we do not know.
        if (item.is_null() || !fits(spec.element[0], item)) {
          return false;
        }
      }
      return true;
    }
    case CellKind::kStruct: {
      simdjson::dom::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) {
        return false;
      }
      // Airtable's error and special values are objects too ({"error": "#ERROR!"}).
      if (object.size() == 1 && (object["error"].error() == simdjson::SUCCESS ||
                                 object["specialValue"].error() == simdjson::SUCCESS)) {
        return false;
      }
      for (const schema::Member& member : spec.members) {
        element item;
        if (object[member.json_key].get(item) == simdjson::SUCCESS && !item.is_null() &&
            !fits(member.spec, item)) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

bool try_append(const CellSpec& spec, element value, arrow::ArrayBuilder& builder) {
  switch (spec.kind) {
    // The hot scalar paths convert once instead of checking and converting.
    case CellKind::kText: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        return false;
      }
      static_cast<arrow::StringBuilder&>(builder).append(text);
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
    case CellKind::kTimestamp: {
      std::string_view text;
      std::optional<int64_t> instant;
      if (value.get_string().get(text) != simdjson::SUCCESS || !(instant = parse_timestamp(text))) {
        return false;
      }
      static_cast<arrow::Int64Builder&>(builder).append(*instant);
      return true;
    }
    default:
      if (!fits(spec, value)) {
        return false;
      }
      append_unchecked(spec, value, builder);
      return true;
  }
}

void append_absent(const CellSpec& spec, arrow::ArrayBuilder& builder) {
  if (spec.kind == CellKind::kCheckbox) {
    static_cast<arrow::BoolBuilder&>(builder).append(false);
  } else {
    builder.append_null();
  }
}

}  // namespace airtable_lakeflow::convert
