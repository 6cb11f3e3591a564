// How one Airtable cell is read: the JSON shape expected and the Arrow type it lands in.
// Produced by the type mapping, consumed by the converter.
#pragma once

#include <string>
#include <vector>

#include "airtable_lakeflow/arrow/data_type.hpp"

namespace airtable_lakeflow::schema {

enum class CellKind {
  kText,       // JSON string → utf8
  kBool,       // true / false → bool (absent → null)
  kCheckbox,   // true / false → bool (absent → false: Airtable omits unchecked boxes)
  kInteger,    // integral number → int64
  kDecimal,    // number → decimal128(38, scale), exact or rescued
  kDate,       // "YYYY-MM-DD" → date32
  kTimestamp,  // ISO 8601 instant → timestamp[us, UTC]
  kDuration,   // seconds (maybe fractional) → int64 microseconds
  kList,       // JSON array → list<element>
  kStruct,     // JSON object → struct<members>
  kJson,       // anything → utf8 holding the JSON text (unknown or future types)
};

struct Member;

struct CellSpec {
  CellKind kind = CellKind::kJson;
  int scale = 0;                  // kDecimal
  std::vector<Member> members;    // kStruct
  std::vector<CellSpec> element;  // kList: exactly one
};

struct Member {
  std::string json_key;  // Airtable's key ("isStale")
  std::string name;      // the struct member's name ("is_stale")
  CellSpec spec;
};

inline constexpr int kDecimalPrecision = 38;  // Spark's widest decimal

arrow::DataType arrow_type(const CellSpec& spec);

}  // namespace airtable_lakeflow::schema
