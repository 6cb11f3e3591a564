// Appends parsed JSON cells to column builders, following the column's CellSpec, a column at a
// time. A cell that does not fit (wrong shape, an error object, too many digits) is appended as
// null and reported; the caller then rescues the value.
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

// A list or struct column's working space for one page, kept between pages.
struct NestedScratch {
  std::vector<uint32_t> cells;   // a list's items; a struct's member cells, member by member
  std::vector<uint32_t> ends;    // a list: where each row's items end in `cells`
  std::vector<uint8_t> state;    // per row: valid, null, or failed
  std::vector<uint32_t> failed;  // the child cells that did not fit
};

// One CellSpec node bound to the builder it fills, with everything the column walk needs kept
// together: the children (a list's element, a struct's members) and the members' JSON keys.
struct CellPlan {
  schema::CellKind kind = schema::CellKind::kJson;
  int scale = 0;
  arrow::ArrayBuilder* builder = nullptr;
  std::vector<CellPlan> children;
  std::vector<ShortKey> keys;  // a struct's members' JSON keys
  // A struct: the member whose key came after member m's in the last object (at m = member
  // count: the first key's), tried first.
  std::vector<uint32_t> next_member;
  NestedScratch scratch;  // lists and structs
};

// The plan for `spec` over `builder` (made by arrow::make_builder(arrow_type(spec))); it points
// into the builder, which must outlive it.
CellPlan bind(const schema::CellSpec& spec, arrow::ArrayBuilder& builder);
// Appends one value per row of `cells`; an absent cell is false for a checkbox and null
// otherwise. A cell that does not fit is appended as null and its row added to `failed`, in
// row order. The kind is decided once per column, not per cell; a list's items and a struct's
// members are appended column by column too.
void append_column(CellPlan& plan, const Tape& tape, const ColumnCells& cells,
                   std::vector<uint32_t>& failed);

}  // namespace airtable_lakeflow::convert
