#include "airtable_lakeflow/arrow/data_type.hpp"

#include <nlohmann/json.hpp>

namespace airtable_lakeflow::arrow {

namespace {

nlohmann::ordered_json spark_value(const DataType& type);

nlohmann::ordered_json spark_field(const Field& field) {
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  for (const auto& [key, value] : field.metadata) {
    metadata[key] = value;
  }
  return {{"name", field.name},
          {"type", spark_value(field.type)},
          {"nullable", field.nullable},
          {"metadata", metadata}};
}

nlohmann::ordered_json spark_value(const DataType& type) {
  switch (type.id) {
    case TypeId::kList:
      return {{"type", "array"},
              {"elementType", spark_value(type.children.at(0).type)},
              {"containsNull", type.children.at(0).nullable}};
    case TypeId::kStruct: {
      nlohmann::ordered_json fields = nlohmann::ordered_json::array();
      for (const Field& member : type.children) {
        fields.push_back(spark_field(member));
      }
      return {{"type", "struct"}, {"fields", fields}};
    }
    case TypeId::kInt64: return "long";  // Spark JSON names LongType "long" ("bigint" in DDL)
    default: return spark_ddl(type);
  }
}

}  // namespace

DataType list_of(DataType element) {
  DataType type{TypeId::kList, 0, 0, {}};
  type.children.push_back(Field{"element", std::move(element), true, {}});
  return type;
}

DataType struct_of(std::vector<Field> members) {
  return {TypeId::kStruct, 0, 0, std::move(members)};
}

std::string format_string(const DataType& type) {
  switch (type.id) {
    case TypeId::kUtf8: return "u";
    case TypeId::kBool: return "b";
    case TypeId::kInt64: return "l";
    case TypeId::kDecimal128:
      return "d:" + std::to_string(type.precision) + "," + std::to_string(type.scale);
    case TypeId::kDate32: return "tdD";
    case TypeId::kTimestampUs: return "tsu:UTC";
    case TypeId::kList: return "+l";
    case TypeId::kStruct: return "+s";
  }
  return "n";
}

std::string display_name(const DataType& type) {
  switch (type.id) {
    case TypeId::kUtf8: return "string";
    case TypeId::kBool: return "bool";
    case TypeId::kInt64: return "int64";
    case TypeId::kDecimal128:
      return "decimal128(" + std::to_string(type.precision) + ", " + std::to_string(type.scale) +
             ")";
    case TypeId::kDate32: return "date32[day]";
    case TypeId::kTimestampUs: return "timestamp[us, tz=UTC]";
    case TypeId::kList: return "list<element: " + display_name(type.children.at(0).type) + ">";
    case TypeId::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < type.children.size(); ++i) {
        out += (i > 0 ? ", " : "") + type.children[i].name + ": " +
               display_name(type.children[i].type);
      }
      return out + ">";
    }
  }
  return "null";
}

std::string spark_ddl(const DataType& type) {
  switch (type.id) {
    case TypeId::kUtf8: return "string";
    case TypeId::kBool: return "boolean";
    case TypeId::kInt64: return "bigint";
    case TypeId::kDecimal128:
      return "decimal(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case TypeId::kDate32: return "date";
    case TypeId::kTimestampUs: return "timestamp";
    case TypeId::kList: return "array<" + spark_ddl(type.children.at(0).type) + ">";
    case TypeId::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < type.children.size(); ++i) {
        out += (i > 0 ? "," : "") + type.children[i].name + ":" + spark_ddl(type.children[i].type);
      }
      return out + ">";
    }
  }
  return "void";
}

std::string spark_json(const DataType& type) { return spark_value(type).dump(); }

std::string spark_schema_json(const std::vector<Field>& fields) {
  nlohmann::ordered_json out = {{"type", "struct"}, {"fields", nlohmann::ordered_json::array()}};
  for (const Field& field : fields) {
    out["fields"].push_back(spark_field(field));
  }
  return out.dump();
}

}  // namespace airtable_lakeflow::arrow
