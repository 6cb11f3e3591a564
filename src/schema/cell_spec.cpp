#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::schema {

arrow::DataType arrow_type(const CellSpec& spec) {
  switch (spec.kind) {
    case CellKind::kText:
    case CellKind::kJson: return arrow::utf8();
    case CellKind::kBool:
    case CellKind::kCheckbox: return arrow::boolean();
    case CellKind::kInteger: return arrow::int64();
    case CellKind::kDecimal: return arrow::decimal128(kDecimalPrecision, spec.scale);
    case CellKind::kDate: return arrow::date32();
    case CellKind::kTimestamp: return arrow::timestamp_us_utc();
    // Delta and Spark have no duration type: int64 microseconds for every destination.
    case CellKind::kDuration: return arrow::int64();
    case CellKind::kList: return arrow::list_of(arrow_type(spec.element.at(0)));
    case CellKind::kStruct: {
      std::vector<arrow::Field> fields;
      for (const Member& member : spec.members) {
        fields.push_back({member.name, arrow_type(member.spec), true, {}});
      }
      return arrow::struct_of(std::move(fields));
    }
  }
  return arrow::utf8();
}

}  // namespace airtable_lakeflow::schema
