// The Arrow types the engine produces, as a small tree: exactly the types Spark maps its own
// types to (pyspark.sql.pandas.types.to_arrow_type), plus their Arrow C format strings, a
// readable name and the Spark type. Lists name their child "element", as Spark does.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace airtable_lakeflow::arrow {

enum class TypeId {
  kUtf8,         // Spark string
  kBool,         // boolean
  kInt64,        // bigint
  kDecimal128,   // decimal(p, s)
  kDate32,       // date
  kTimestampUs,  // timestamp (UTC)
  kList,         // array<element>
  kStruct,       // struct<...>
};

struct Field;

struct DataType {
  TypeId id = TypeId::kUtf8;
  int precision = 0;            // decimal only
  int scale = 0;                // decimal only
  std::vector<Field> children;  // list: one child "element"; struct: its members
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
  Metadata metadata;
};

inline DataType utf8() { return {TypeId::kUtf8, 0, 0, {}}; }
inline DataType boolean() { return {TypeId::kBool, 0, 0, {}}; }
inline DataType int64() { return {TypeId::kInt64, 0, 0, {}}; }
inline DataType decimal128(int precision, int scale) {
  return {TypeId::kDecimal128, precision, scale, {}};
}
inline DataType date32() { return {TypeId::kDate32, 0, 0, {}}; }
inline DataType timestamp_us_utc() { return {TypeId::kTimestampUs, 0, 0, {}}; }
DataType list_of(DataType element);
DataType struct_of(std::vector<Field> members);

// The Arrow C Data Interface format string ("u", "d:38,2", "tsu:UTC", "+l", ...).
std::string format_string(const DataType& type);
// A readable Arrow type, as pyarrow prints it ("decimal128(38, 2)", "list<element: string>").
std::string display_name(const DataType& type);
// The Spark SQL type in DDL form ("decimal(38,2)", "array<string>", "struct<id:string>").
std::string spark_ddl(const DataType& type);
// The Spark type as the JSON that pyspark's StructType.fromJson reads.
std::string spark_json(const DataType& type);
// A whole Spark schema (StructType JSON) for top-level fields.
std::string spark_schema_json(const std::vector<Field>& fields);

}  // namespace airtable_lakeflow::arrow
