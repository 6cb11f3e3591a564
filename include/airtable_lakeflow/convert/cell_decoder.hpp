// Appends one parsed JSON cell to its column builder, following the column's CellSpec, in one
// pass. A cell that does not fit (wrong shape, an error object, too many digits) leaves the
// builder as it was and returns false; the caller then appends a null and rescues the value.
#pragma once

#include <simdjson.h>

#include "airtable_lakeflow/arrow/array_builder.hpp"
#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::convert {

// Appends `value`, or returns false having appended nothing (a partly appended nested value
// is truncated away).
bool try_append(const schema::CellSpec& spec, simdjson::dom::element value,
                arrow::ArrayBuilder& builder);
// Appends what an absent key means: false for a checkbox, null otherwise.
void append_absent(const schema::CellSpec& spec, arrow::ArrayBuilder& builder);

}  // namespace airtable_lakeflow::convert
