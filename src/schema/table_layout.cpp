#include "airtable_lakeflow/schema/table_layout.hpp"

#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/schema/column_names.hpp"
#include "airtable_lakeflow/schema/type_mapping.hpp"

namespace airtable_lakeflow::schema {

namespace {

Column system_column(const char* name, CellKind kind, const char* note) {
  return Column{name, "", "", "", "", CellSpec{kind, 0, {}, {}}, note};
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 30; ++i) {
    out += (i > 0 ? ", " : "") + ("'" + names[i] + "'");
  }
  return names.size() > 30 ? out + ", …" : out;
}

}  // namespace

arrow::Field Column::arrow_field() const {
  arrow::Metadata metadata;
  if (!field_id.empty()) {
    metadata = {{"airtable.field_id", field_id},
                {"airtable.field_name", field_name},
                {"airtable.type", airtable_type}};
    if (!result_type.empty()) {
      metadata.emplace_back("airtable.result_type", result_type);
    }
  }
  return {name, arrow_type(cell), name != kIdColumn, std::move(metadata)};
}

std::vector<arrow::Field> TableLayout::arrow_fields() const {
  std::vector<arrow::Field> out;
  out.reserve(columns.size());
  for (const Column& column : columns) {
    out.push_back(column.arrow_field());
  }
  return out;
}

TableLayout plan_table(const api::TableInfo& table, const std::vector<std::string>& selected) {
  std::vector<const api::FieldInfo*> fields;
  if (selected.empty()) {
    for (const api::FieldInfo& field : table.fields) {
      fields.push_back(&field);
    }
  } else {
    for (const std::string& wanted : selected) {
      const api::FieldInfo* match = nullptr;
      for (const api::FieldInfo& field : table.fields) {
        if (field.id == wanted || field.name == wanted) {
          match = &field;
          break;
        }
      }
      if (match == nullptr) {
        std::vector<std::string> names;
        names.reserve(table.fields.size());
        for (const api::FieldInfo& field : table.fields) {
          names.push_back(field.name);
        }
        throw Error(ErrorKind::kNotFound, "Field '" + wanted + "' is not in table '" + table.name +
                                              "'. Its fields are: " + quoted_list(names) + ".");
      }
      fields.push_back(match);
    }
  }

  // Names come from the whole table, so a subset of its fields is named as a full read.
  std::vector<NamedField> every;
  every.reserve(table.fields.size());
  for (const api::FieldInfo& field : table.fields) {
    every.push_back({field.id, field.name});
  }
  const std::vector<std::string> names =
      column_names(every, {kIdColumn, kCreatedTimeColumn, kRescuedColumn});

  TableLayout layout{table.id, table.name, {}};
  layout.columns.push_back(system_column(kIdColumn, CellKind::kText, "the record id"));
  layout.columns.push_back(
      system_column(kCreatedTimeColumn, CellKind::kTimestamp, "the record's creation time"));
  for (const api::FieldInfo* field : fields) {
    Mapping mapping = map_field(field->type, field->options_json);
    const auto at = static_cast<size_t>(field - table.fields.data());
    layout.columns.push_back(Column{names[at], field->id, field->name, field->type,
                                    std::move(mapping.result_type), std::move(mapping.cell),
                                    std::move(mapping.note)});
  }
  layout.columns.push_back(system_column(kRescuedColumn, CellKind::kJson,
                                         "cells that did not fit their column, as a JSON object"));
  return layout;
}

const api::TableInfo& find_table(const std::vector<api::TableInfo>& tables,
                                 const std::string& id_or_name, const std::string& base_id) {
  for (const api::TableInfo& table : tables) {
    if (table.id == id_or_name) {
      return table;
    }
  }
  for (const api::TableInfo& table : tables) {
    if (table.name == id_or_name) {
      return table;
    }
  }
  std::vector<std::string> names;
  names.reserve(tables.size());
  for (const api::TableInfo& table : tables) {
    names.push_back(table.name);
  }
  throw Error(ErrorKind::kNotFound,
              "Table '" + id_or_name + "' is not in base " + base_id +
                  " (or the token cannot see it). Its tables are: " + quoted_list(names) + ".");
}

}  // namespace airtable_lakeflow::schema
