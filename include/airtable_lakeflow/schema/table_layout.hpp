// The columns one table read produces, from Airtable's schema: `id`, `created_time`, one column
// per field (typed by the type mapping), and `_rescued_data` for cells that did not fit.
#pragma once

#include <string>
#include <vector>

#include "airtable_lakeflow/api/airtable_client.hpp"
#include "airtable_lakeflow/arrow/data_type.hpp"
#include "airtable_lakeflow/schema/cell_spec.hpp"

namespace airtable_lakeflow::schema {

inline constexpr const char* kIdColumn = "id";
inline constexpr const char* kCreatedTimeColumn = "created_time";
inline constexpr const char* kRescuedColumn = "_rescued_data";

struct Column {
  std::string name;
  std::string field_id;  // empty for id, created_time and _rescued_data
  std::string field_name;
  std::string airtable_type;  // "formula", "number", …
  std::string result_type;    // formula / rollup / lookup: the result's type
  CellSpec cell;
  std::string note;  // why this type, when it is not obvious

  [[nodiscard]] arrow::Field arrow_field() const;  // metadata carries the Airtable identity
};

struct TableLayout {
  std::string table_id;
  std::string table_name;
  std::vector<Column> columns;  // id, created_time, fields…, _rescued_data

  [[nodiscard]] std::vector<arrow::Field> arrow_fields() const;
};

// Plans the columns of `table`. `selected` names fields by id or name (empty: all fields, in
// schema order). Throws Error(kConfig) naming a field that does not exist.
TableLayout plan_table(const api::TableInfo& table, const std::vector<std::string>& selected);

// The table whose id or name is `id_or_name`; throws Error(kNotFound) listing the tables.
const api::TableInfo& find_table(const std::vector<api::TableInfo>& tables,
                                 const std::string& id_or_name, const std::string& base_id);

}  // namespace airtable_lakeflow::schema
