// Airtable field type (+ options) → how its cells are read and the Arrow type they land in.
// docs/type-mapping.md is this file as a table; keep them together.
#pragma once

#include <string>

#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::schema {

// Computed numbers (formula, rollup, lookups of them) are doubles that Airtable does not round
// to the field's display precision (e.g. 121.000000001 under precision 2), so their decimal
// scale is widened to this.
inline constexpr int kComputedDecimalScale = 18;
// A number field without a precision option.
inline constexpr int kDefaultDecimalScale = 8;

struct Mapping {
  CellSpec cell;
  std::string result_type;  // formula / rollup / lookup: the result's Airtable type
  std::string note;         // why, when the choice is not obvious
};

// `options_json` is the field's `options` object as JSON text ("null" when absent).
Mapping map_field(const std::string& type, const std::string& options_json);

}  // namespace airtable_lakeflow::schema
