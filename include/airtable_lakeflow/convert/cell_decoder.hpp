// Appends parsed JSON cells to column builders, following the column's CellSpec, in one pass.
// A cell that does not fit (wrong shape, an error object, too many digits) leaves the builder
// as it was and is reported; the caller then rescues the value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "airtable_lakeflow/arrow/array_builder.hpp"
#include "airtable_lakeflow/convert/tape.hpp"
#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::convert {

// One column's cells of one page, row by row: each cell's index on the page's tape, or
// Tape::kNone where the record has no value.
struct ColumnCells {
  const uint32_t* values = nullptr;
  uint32_t count = 0;
};

// One CellSpec node bound to the builder it fills, with everything the per-cell walk needs
// kept together: the children (a list's element, a struct's members) and the members' JSON keys.
struct CellPlan {
  schema::CellKind kind = schema::CellKind::kJson;
  int scale = 0;
  arrow::ArrayBuilder* builder = nullptr;
  std::vector<CellPlan> children;
  std::vector<ShortKey> keys;  // a struct's members' JSON keys
};

// The plan for `spec` over `builder` (made by arrow::make_builder(arrow_type(spec))); it points
// into the builder, which must outlive it.
CellPlan bind(const schema::CellSpec& spec, arrow::ArrayBuilder& builder);
// Appends the value at `at`, or returns false having appended nothing (a partly appended
// nested value is truncated away).
bool try_append(const CellPlan& plan, const Tape& tape, uint32_t at);
// Appends one value per row of `cells`; an absent cell is false for a checkbox and null
// otherwise. A cell that does not fit is appended as null and its row added to `failed`. The
// kind is decided once per column, not per cell.
void append_column(const CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                   std::vector<uint32_t>& failed);

}  // namespace airtable_lakeflow::convert
