#include "airtable_lakeflow/convert/cell_decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "airtable_lakeflow/convert/json_text.hpp"
#include "airtable_lakeflow/convert/scalars.hpp"

namespace airtable_lakeflow::convert {

namespace {

using schema::CellKind;
using schema::CellSpec;

constexpr int kMicrosScale = 6;

// The rare numbers of number_scaled: beyond int64, or doubles the fast check cannot decide.
[[gnu::noinline]] std::optional<int128> number_scaled_by_text(const Tape& tape, uint32_t at,
                                                              int scale) {
  char buffer[32];
  switch (tape.type(at)) {
    case 'u': {
      const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), tape.uint64(at));
      return error == std::errc() ? scaled_decimal({buffer, end}, scale) : std::nullopt;
    }
    case 'd': {
      const double number = tape.float64(at);
      if (!std::isfinite(number)) {
        return std::nullopt;
      }
      return scaled_decimal(shortest_text(number, buffer), scale);
    }
    default: return std::nullopt;
  }
}

// A JSON number as value × 10^scale, exactly.
std::optional<int128> number_scaled(const Tape& tape, uint32_t at, int scale) {
  int128 out = 0;
  switch (tape.type(at)) {
    case 'l':
      if (!scaled_integer(tape.int64(at), scale, out)) {
        return std::nullopt;
      }
      return out;
    case 'd':
      if (!scaled_exactly(tape.float64(at), scale, out)) {  // never for NaN and infinities
        return number_scaled_by_text(tape, at, scale);
      }
      return out;
    default: return number_scaled_by_text(tape, at, scale);
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

// The scalar cells: each reads the value at `at`, or nothing when it does not fit. Function
// objects, so that each column's loop has its reader inlined.
constexpr auto kReadText = [](const Tape& tape, uint32_t at) -> std::optional<std::string_view> {
  if (tape.type(at) != '"') {
    return std::nullopt;
  }
  return tape.string(at);
};

constexpr auto kReadBool = [](const Tape& tape, uint32_t at) -> std::optional<bool> {
  const char type = tape.type(at);
  if (type != 't' && type != 'f') {
    return std::nullopt;
  }
  return type == 't';
};

constexpr auto kReadInteger = [](const Tape& tape, uint32_t at) { return integral(tape, at); };

constexpr auto kReadDate = [](const Tape& tape, uint32_t at) -> std::optional<int32_t> {
  int32_t days = 0;
  if (tape.type(at) != '"' || !parse_date(tape.string(at), days)) {
    return std::nullopt;
  }
  return days;
};

constexpr auto kReadTimestamp = [](const Tape& tape, uint32_t at) -> std::optional<int64_t> {
  int64_t micros = 0;
  if (tape.type(at) != '"' || !parse_timestamp(tape.string(at), micros)) {
    return std::nullopt;
  }
  return micros;
};

constexpr auto kReadDuration = [](const Tape& tape, uint32_t at) { return micros(tape, at); };

// One column of cells into `builder`: row by row, the value read by `read(tape, at)`, a null
// for an absent cell (false for an absent checkbox), and a null for a cell that does not fit,
// whose row goes to `failed`. One function per column kind, kept out of line so that each
// column loop has the registers to itself. kPadded: strings read lie in a padded buffer.
template <bool kPadded = false, typename Builder, typename Read>
[[gnu::noinline]] void append_cells(Builder& builder, const Tape& tape, const ColumnCells& cells,
                                    std::vector<uint32_t>& failed, Read read,
                                    bool absent_is_false = false) {
  // The tape and the cells by value: the builder's byte stores may alias anything reached
  // through a reference, which would then be reloaded for every cell.
  const auto cell_at = [tape, values = cells.values, &failed, read, absent_is_false](uint32_t row) {
    const uint32_t at = values[row];
    using Value = decltype(read(tape, at));
    if (at == Tape::kNone) {
      if constexpr (std::is_same_v<Value, std::optional<bool>>) {
        if (absent_is_false) {
          return Value(false);
        }
      }
      return Value{};
    }
    Value value = read(tape, at);
    if (!value) {
      failed.push_back(row);
    }
    return value;
  };
  if constexpr (std::is_same_v<Builder, arrow::StringBuilder>) {
    builder.template append_column<kPadded>(cells.count, cell_at);
  } else {
    builder.append_column(cells.count, cell_at);
  }
}

// What a list or struct column's cell turned out to be.
enum RowState : uint8_t { kValid, kNull, kFailed };

// A list column, column by column too: every row's items are gathered into one column of cells
// and appended with the element's kind decided once; then each row's list ends where its items
// do. A row with an item that does not fit fails whole: its items are taken out and the rest
// appended again (rare: only pages with such a cell pay twice).
void append_list_column(CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                        std::vector<uint32_t>& failed) {
  auto& list = static_cast<arrow::ListBuilder&>(*plan.builder);
  CellPlan& item = plan.children.front();
  NestedScratch& s = plan.scratch;
  s.state.assign(cells.count, kValid);
  s.ends.resize(cells.count);
  // The items are written through a local count, grown ahead by whole lists (a vector's own
  // size would be stored and read back for every item).
  uint32_t items = 0;
  for (uint32_t row = 0; row < cells.count; ++row) {
    const uint32_t at = cells.values[row];
    if (at == Tape::kNone) {
      s.state[row] = kNull;
    } else if (tape.type(at) != '[') {
      s.state[row] = kFailed;
    } else {
      if (items + size_t{tape.count(at)} > s.cells.size()) {
        s.cells.resize(std::max(2 * s.cells.size(), items + size_t{tape.count(at)}));
      }
      uint32_t* const out = s.cells.data();
      const uint32_t start = items;
      const uint32_t close = tape.close(at);
      for (uint32_t value = at + 1; value < close; value = tape.after(value)) {
        // Airtable lists never hold nulls; one would be a shape we do not know.
        if (tape.is_null(value)) {
          items = start;
          s.state[row] = kFailed;
          break;
        }
        out[items++] = value;
      }
    }
    s.ends[row] = items;
  }
  s.cells.resize(items);
  const int64_t base = item.builder->length();
  for (;;) {
    s.failed.clear();
    append_column(item, tape, {s.cells.data(), static_cast<uint32_t>(s.cells.size())}, s.failed);
    if (s.failed.empty()) {
      break;
    }
    for (const uint32_t index : s.failed) {
      const auto row = std::upper_bound(s.ends.begin(), s.ends.end(), index) - s.ends.begin();
      s.state[static_cast<size_t>(row)] = kFailed;
    }
    item.builder->truncate(base);
    uint32_t kept = 0;
    uint32_t start = 0;
    for (uint32_t row = 0; row < cells.count; ++row) {
      const uint32_t end = s.ends[row];
      if (s.state[row] != kFailed) {
        for (uint32_t i = start; i < end; ++i) {
          s.cells[kept++] = s.cells[i];
        }
      }
      start = end;
      s.ends[row] = kept;
    }
    s.cells.resize(kept);
  }
  list.close_lists(
      cells.count, [&s, base](uint32_t row) { return base + s.ends[row]; },
      [&s](uint32_t row) { return s.state[row] == kValid; });
  for (uint32_t row = 0; row < cells.count; ++row) {
    if (s.state[row] == kFailed) {
      failed.push_back(row);
    }
  }
}

// A struct column: each row's members are matched by key into one column of cells per member,
// then each member is appended as a column. A row with a member that does not fit fails whole:
// its members are set absent and the members appended again.
void append_struct_column(CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                          std::vector<uint32_t>& failed) {
  auto& out = static_cast<arrow::StructBuilder&>(*plan.builder);
  const size_t n = plan.children.size();
  const uint32_t rows = cells.count;
  NestedScratch& s = plan.scratch;
  s.cells.assign(n * rows, Tape::kNone);
  s.state.assign(rows, kValid);
  for (uint32_t row = 0; row < rows; ++row) {
    const uint32_t at = cells.values[row];
    if (at == Tape::kNone) {
      s.state[row] = kNull;
      continue;
    }
    if (tape.type(at) != '{' || is_error_object(tape, at)) {
      s.state[row] = kFailed;
      continue;
    }
    // Objects of one column usually share their key order, so the member that followed the
    // previous key last time is tried first. The first of duplicated keys counts; a null value
    // is an absent one.
    size_t previous = n;  // before the first key
    const uint32_t close = tape.close(at);
    for (uint32_t key = at + 1; key < close; key = tape.after(key + 1)) {
      const KeyText text = tape.key(key);
      const size_t guess = plan.next_member[previous];
      for (size_t tried = 0; tried < n; ++tried) {
        const size_t m = guess + tried < n ? guess + tried : guess + tried - n;
        if (!text.is(plan.keys[m])) {
          continue;
        }
        plan.next_member[previous] = static_cast<uint32_t>(m);
        previous = m;
        uint32_t& cell = s.cells[m * rows + row];
        if (cell == Tape::kNone && !tape.is_null(key + 1)) {
          cell = key + 1;
        }
        break;
      }
    }
  }
  const int64_t base = out.length();
  for (;;) {
    bool refit = false;
    for (size_t m = 0; m < n; ++m) {
      s.failed.clear();
      append_column(plan.children[m], tape, {s.cells.data() + m * rows, rows}, s.failed);
      for (const uint32_t row : s.failed) {
        s.state[row] = kFailed;
        refit = true;
      }
    }
    if (!refit) {
      break;
    }
    for (size_t m = 0; m < n; ++m) {
      out.member(m).truncate(base);
      for (uint32_t row = 0; row < rows; ++row) {
        if (s.state[row] == kFailed) {
          s.cells[m * rows + row] = Tape::kNone;
        }
      }
    }
  }
  out.close_structs(rows, [&s](uint32_t row) { return s.state[row] == kValid; });
  for (uint32_t row = 0; row < rows; ++row) {
    if (s.state[row] == kFailed) {
      failed.push_back(row);
    }
  }
}

}  // namespace

CellPlan bind(const CellSpec& spec, arrow::ArrayBuilder& builder) {
  CellPlan plan{spec.kind, spec.scale, &builder, {}, {}, {}, {}};
  if (spec.kind == CellKind::kList) {
    plan.children.push_back(
        bind(spec.element.at(0), static_cast<arrow::ListBuilder&>(builder).element()));
  } else if (spec.kind == CellKind::kStruct) {
    auto& members = static_cast<arrow::StructBuilder&>(builder);
    for (size_t m = 0; m < spec.members.size(); ++m) {
      if (spec.members[m].json_key.size() > ShortKey::kMaxSize) {
        throw std::logic_error("a struct member's JSON key is longer than the converter matches");
      }
      plan.children.push_back(bind(spec.members[m].spec, members.member(m)));
      plan.keys.emplace_back(spec.members[m].json_key);
      plan.next_member.push_back(static_cast<uint32_t>(m + 1 < spec.members.size() ? m + 1 : 0));
    }
    plan.next_member.push_back(0);  // the first key: the first member
  }
  return plan;
}

void append_column(CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                   std::vector<uint32_t>& failed) {
  arrow::ArrayBuilder& builder = *plan.builder;
  switch (plan.kind) {
    case CellKind::kText:
      // simdjson's string buffer is padded
      append_cells<true>(static_cast<arrow::StringBuilder&>(builder), tape, cells, failed,
                         kReadText);
      return;
    case CellKind::kJson: {
      // JSON text, strings quoted, so the column always parses back to the value.
      arrow::Buffer scratch;
      append_cells(static_cast<arrow::StringBuilder&>(builder), tape, cells, failed,
                   [&scratch](const Tape& t, uint32_t at) {
                     scratch.clear();
                     append_json_text(t, at, scratch);
                     return std::optional<std::string_view>(scratch.text());
                   });
      return;
    }
    case CellKind::kBool:
    case CellKind::kCheckbox:
      // Airtable leaves unchecked boxes out: an absent checkbox is false.
      append_cells(static_cast<arrow::BoolBuilder&>(builder), tape, cells, failed, kReadBool,
                   plan.kind == CellKind::kCheckbox);
      return;
    case CellKind::kInteger:
      append_cells(static_cast<arrow::Int64Builder&>(builder), tape, cells, failed, kReadInteger);
      return;
    case CellKind::kDecimal:
      append_cells(
          static_cast<arrow::Decimal128Builder&>(builder), tape, cells, failed,
          [scale = plan.scale](const Tape& t, uint32_t at) { return number_scaled(t, at, scale); });
      return;
    case CellKind::kDate:
      append_cells(static_cast<arrow::Int32Builder&>(builder), tape, cells, failed, kReadDate);
      return;
    case CellKind::kTimestamp:
      append_cells(static_cast<arrow::Int64Builder&>(builder), tape, cells, failed, kReadTimestamp);
      return;
    case CellKind::kDuration:
      append_cells(static_cast<arrow::Int64Builder&>(builder), tape, cells, failed, kReadDuration);
      return;
    case CellKind::kList: append_list_column(plan, tape, cells, failed); return;
    case CellKind::kStruct: append_struct_column(plan, tape, cells, failed); return;
  }
}

}  // namespace airtable_lakeflow::convert
