#include "airtable_lakeflow/convert/cell_decoder.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "airtable_lakeflow/convert/json_text.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"

namespace airtable_lakeflow::convert {

namespace {

using schema::CellKind;
using schema::CellSpec;

constexpr int kMicrosScale = 6;

// A JSON number as value × 10^scale, exactly.
std::optional<int128> number_scaled(const Tape& tape, uint32_t at, int scale) {
  switch (tape.type(at)) {
    case 'l': return scaled_integer(tape.int64(at), scale);
    case 'u': {
      char buffer[32];
      const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), tape.uint64(at));
      return error == std::errc() ? scaled_decimal({buffer, end}, scale) : std::nullopt;
    }
    case 'd': {
      const double number = tape.float64(at);
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

std::optional<int64_t> integral(const Tape& tape, uint32_t at) {
  switch (tape.type(at)) {
    case 'l': return tape.int64(at);
    case 'u': {
      const uint64_t number = tape.uint64(at);
      return number <= uint64_t(INT64_MAX) ? std::optional<int64_t>(int64_t(number)) : std::nullopt;
    }
    case 'd': {
      const auto scaled = number_scaled(tape, at, 0);
      if (scaled && *scaled >= INT64_MIN && *scaled <= INT64_MAX) {
        return static_cast<int64_t>(*scaled);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<int64_t> micros(const Tape& tape, uint32_t at) {
  const auto scaled = number_scaled(tape, at, kMicrosScale);
  if (scaled && *scaled >= INT64_MIN && *scaled <= INT64_MAX) {
    return static_cast<int64_t>(*scaled);
  }
  return std::nullopt;
}

// Airtable's error and special values: {"error": "#ERROR!"}, {"specialValue": "NaN"}.
const ShortKey kErrorKey("error");
const ShortKey kSpecialValueKey("specialValue");

bool is_error_object(const Tape& tape, uint32_t object) {
  return tape.count(object) == 1 &&
         (tape.string_is(object + 1, kErrorKey) || tape.string_is(object + 1, kSpecialValueKey));
}

// The scalar cells: each appends the value at `at` or returns false having appended nothing.
[[gnu::always_inline]] inline bool append_text(const Tape& tape, uint32_t at,
                                               arrow::StringBuilder& out) {
  if (tape.type(at) != '"') {
    return false;
  }
  out.append_padded(tape.string(at));  // the tape's string buffer is padded
  return true;
}

[[gnu::always_inline]] inline bool append_bool(const Tape& tape, uint32_t at,
                                               arrow::BoolBuilder& out) {
  const char type = tape.type(at);
  if (type != 't' && type != 'f') {
    return false;
  }
  out.append(type == 't');
  return true;
}

[[gnu::always_inline]] inline bool append_integer(const Tape& tape, uint32_t at,
                                                  arrow::Int64Builder& out) {
  const auto number = integral(tape, at);
  if (number) {
    out.append(*number);
  }
  return number.has_value();
}

[[gnu::always_inline]] inline bool append_decimal(const Tape& tape, uint32_t at, int scale,
                                                  arrow::Decimal128Builder& out) {
  const auto scaled = number_scaled(tape, at, scale);
  if (scaled) {
    out.append(*scaled);
  }
  return scaled.has_value();
}

[[gnu::always_inline]] inline bool append_date(const Tape& tape, uint32_t at,
                                               arrow::Int32Builder& out) {
  std::optional<int32_t> days;
  if (tape.type(at) != '"' || !(days = parse_date(tape.string(at)))) {
    return false;
  }
  out.append(*days);
  return true;
}

[[gnu::always_inline]] inline bool append_timestamp(const Tape& tape, uint32_t at,
                                                    arrow::Int64Builder& out) {
  std::optional<int64_t> instant;
  if (tape.type(at) != '"' || !(instant = parse_timestamp(tape.string(at)))) {
    return false;
  }
  out.append(*instant);
  return true;
}

[[gnu::always_inline]] inline bool append_duration(const Tape& tape, uint32_t at,
                                                   arrow::Int64Builder& out) {
  const auto us = micros(tape, at);
  if (us) {
    out.append(*us);
  }
  return us.has_value();
}

inline void append_json(const Tape& tape, uint32_t at, arrow::StringBuilder& out,
                        std::string& scratch) {
  // JSON text, strings quoted, so the column always parses back to the value.
  scratch.clear();
  append_json_text(tape, at, scratch);
  out.append(scratch);
}

bool append_value(const CellPlan& plan, const Tape& tape, uint32_t at);

// A list or struct member: text inline (the common case), anything else through the switch.
inline bool append_child(const CellPlan& plan, const Tape& tape, uint32_t at) {
  if (plan.kind == CellKind::kText) {
    return append_text(tape, at, static_cast<arrow::StringBuilder&>(*plan.builder));
  }
  return append_value(plan, tape, at);
}

[[gnu::noinline]] bool append_list(const CellPlan& plan, const Tape& tape, uint32_t at) {
  if (tape.type(at) != '[') {
    return false;
  }
  const CellPlan& item_plan = plan.children.front();
  const uint32_t close = tape.close(at);
  for (uint32_t item = at + 1; item < close; item = tape.after(item)) {
    // Airtable lists never hold nulls; one would be a shape we do not know.
    if (tape.is_null(item) || !append_child(item_plan, tape, item)) {
      return false;
    }
  }
  static_cast<arrow::ListBuilder&>(*plan.builder).close_list();
  return true;
}

constexpr size_t kMaxMembers = 32;  // the widest struct (an attachment) has 8

[[gnu::noinline]] bool append_struct(const CellPlan& plan, const Tape& tape, uint32_t at) {
  if (tape.type(at) != '{' || is_error_object(tape, at)) {
    return false;
  }
  // Members are separate columns, so each value goes straight to its member as its key comes
  // by; members left without a value get a null. Keys usually come in member order, so the
  // next member is tried first. The first of duplicated keys counts.
  const size_t n = plan.children.size();
  uint32_t found = 0;
  size_t next = 0;
  const uint32_t close = tape.close(at);
  for (uint32_t key = at + 1; key < close; key = tape.after(key + 1)) {
    for (size_t tried = 0; tried < n; ++tried) {
      const size_t m = next + tried < n ? next + tried : next + tried - n;
      if (!tape.string_is(key, plan.keys[m])) {
        continue;
      }
      next = m + 1;
      if ((found >> m & 1U) == 0 && !tape.is_null(key + 1)) {
        if (!append_child(plan.children[m], tape, key + 1)) {
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

// Appends the value at `at`; false when it does not fit, possibly after appending part of it
// (the caller truncates).
bool append_value(const CellPlan& plan, const Tape& tape, uint32_t at) {
  arrow::ArrayBuilder& builder = *plan.builder;
  switch (plan.kind) {
    case CellKind::kText: return append_text(tape, at, static_cast<arrow::StringBuilder&>(builder));
    case CellKind::kJson: {
      std::string scratch;
      append_json(tape, at, static_cast<arrow::StringBuilder&>(builder), scratch);
      return true;
    }
    case CellKind::kBool:
    case CellKind::kCheckbox:
      return append_bool(tape, at, static_cast<arrow::BoolBuilder&>(builder));
    case CellKind::kInteger:
      return append_integer(tape, at, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kDecimal:
      return append_decimal(tape, at, plan.scale, static_cast<arrow::Decimal128Builder&>(builder));
    case CellKind::kDate: return append_date(tape, at, static_cast<arrow::Int32Builder&>(builder));
    case CellKind::kTimestamp:
      return append_timestamp(tape, at, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kDuration:
      return append_duration(tape, at, static_cast<arrow::Int64Builder&>(builder));
    case CellKind::kList: return append_list(plan, tape, at);
    case CellKind::kStruct: return append_struct(plan, tape, at);
  }
  return false;
}

// One column of a page with the kind decided once: `append(tape, cell, builder)` for each
// present cell, a null or false for each absent one.
template <typename Builder, typename Append>
void each_cell(const Tape& tape, const ColumnCells& cells, Builder& builder, bool absent_is_false,
               std::vector<uint32_t>& failed, Append append) {
  for (uint32_t row = 0; row < cells.count; ++row) {
    const uint32_t at = cells.values[row];
    if (at == Tape::kNone) {
      if constexpr (std::is_same_v<Builder, arrow::BoolBuilder>) {
        if (absent_is_false) {
          builder.append(false);
          continue;
        }
      }
      builder.append_null();
    } else if (!append(tape, at, builder)) {
      builder.append_null();
      failed.push_back(row);
    }
  }
}

// A list or struct column's cell appended by `append` directly (not through append_value's
// switch) or, when it does not fit, truncated away.
template <typename Builder, typename Append>
auto nested(const CellPlan& plan, Append append) {
  return [&plan, append](const Tape& tape, uint32_t at, Builder& out) {
    const int64_t before = out.length();
    if (append(plan, tape, at)) {
      return true;
    }
    out.truncate(before);
    return false;
  };
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
      if (spec.members[m].json_key.size() > ShortKey::kMaxSize) {
        throw std::logic_error("a struct member's JSON key is longer than the converter matches");
      }
      plan.children.push_back(bind(spec.members[m].spec, members.member(m)));
      plan.keys.emplace_back(spec.members[m].json_key);
    }
  }
  return plan;
}

bool try_append(const CellPlan& plan, const Tape& tape, uint32_t at) {
  const int64_t before = plan.builder->length();
  if (append_value(plan, tape, at)) {
    return true;
  }
  plan.builder->truncate(before);
  return false;
}

void append_column(const CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                   std::vector<uint32_t>& failed) {
  arrow::ArrayBuilder& builder = *plan.builder;
  switch (plan.kind) {
    case CellKind::kText:
      each_cell(tape, cells, static_cast<arrow::StringBuilder&>(builder), false, failed,
                [](const Tape& t, uint32_t at, arrow::StringBuilder& out) {
                  return append_text(t, at, out);
                });
      return;
    case CellKind::kJson: {
      std::string scratch;
      each_cell(tape, cells, static_cast<arrow::StringBuilder&>(builder), false, failed,
                [&scratch](const Tape& t, uint32_t at, arrow::StringBuilder& out) {
                  append_json(t, at, out, scratch);
                  return true;
                });
      return;
    }
    case CellKind::kBool:
    case CellKind::kCheckbox:
      each_cell(tape, cells, static_cast<arrow::BoolBuilder&>(builder),
                plan.kind == CellKind::kCheckbox, failed,
                [](const Tape& t, uint32_t at, arrow::BoolBuilder& out) {
                  return append_bool(t, at, out);
                });
      return;
    case CellKind::kInteger:
      each_cell(tape, cells, static_cast<arrow::Int64Builder&>(builder), false, failed,
                [](const Tape& t, uint32_t at, arrow::Int64Builder& out) {
                  return append_integer(t, at, out);
                });
      return;
    case CellKind::kDecimal:
      each_cell(tape, cells, static_cast<arrow::Decimal128Builder&>(builder), false, failed,
                [scale = plan.scale](const Tape& t, uint32_t at, arrow::Decimal128Builder& out) {
                  return append_decimal(t, at, scale, out);
                });
      return;
    case CellKind::kDate:
      each_cell(tape, cells, static_cast<arrow::Int32Builder&>(builder), false, failed,
                [](const Tape& t, uint32_t at, arrow::Int32Builder& out) {
                  return append_date(t, at, out);
                });
      return;
    case CellKind::kTimestamp:
      each_cell(tape, cells, static_cast<arrow::Int64Builder&>(builder), false, failed,
                [](const Tape& t, uint32_t at, arrow::Int64Builder& out) {
                  return append_timestamp(t, at, out);
                });
      return;
    case CellKind::kDuration:
      each_cell(tape, cells, static_cast<arrow::Int64Builder&>(builder), false, failed,
                [](const Tape& t, uint32_t at, arrow::Int64Builder& out) {
                  return append_duration(t, at, out);
                });
      return;
    case CellKind::kList:
      each_cell(tape, cells, static_cast<arrow::ListBuilder&>(builder), false, failed,
                nested<arrow::ListBuilder>(plan, append_list));
      return;
    case CellKind::kStruct:
      each_cell(tape, cells, static_cast<arrow::StructBuilder&>(builder), false, failed,
                nested<arrow::StructBuilder>(plan, append_struct));
      return;
  }
}

}  // namespace airtable_lakeflow::convert
