// Appends parsed JSON cells to column builders, following the column's CellSpec, in one pass.
// A cell that does not fit (wrong shape, an error object, too many digits) leaves the builder
// as it was and is reported; the caller then rescues the value.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <vector>

#include "airtable_lakeflow/arrow/array_builder.hpp"
#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::convert {

// One column's cells of one page, row by row; values[i] counts only where present[i] != 0.
struct ColumnCells {
  const simdjson::dom::element* values = nullptr;
  const uint8_t* present = nullptr;
  uint32_t count = 0;
};

// Appends `value`, or returns false having appended nothing (a partly appended nested value
// is truncated away).
bool try_append(const schema::CellSpec& spec, simdjson::dom::element value,
                arrow::ArrayBuilder& builder);
// Appends what an absent key means: false for a checkbox, null otherwise.
void append_absent(const schema::CellSpec& spec, arrow::ArrayBuilder& builder);
// Appends one value per row of `cells` (absent → append_absent). A cell that does not fit is
// appended as null and its row added to `failed`. The kind is decided once per column, not per
// cell.
void append_column(const schema::CellSpec& spec, const ColumnCells& cells,
                   arrow::ArrayBuilder& builder, std::vector<uint32_t>& failed);

}  // namespace airtable_lakeflow::convert
