// Private to the formula engine: values and the compiled expression tree.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formula/formula.hpp"
#include "json.hpp"

namespace emu::formula::detail {

struct Value {
  enum class Kind { kBlank, kNumber, kText, kBool, kDate, kArray, kError };
  Kind kind = Kind::kBlank;
  double number = 0;
  std::string text;  // kText, or the error string for kError
  bool boolean = false;
  int64_t ms = 0;  // kDate: epoch milliseconds (UTC)
  std::vector<Value> items;

  static Value blank() { return {}; }
  static Value of_number(double n) {
    Value v;
    v.kind = Kind::kNumber;
    v.number = n;
    return v;
  }
  static Value of_text(std::string s) {
    Value v;
    v.kind = Kind::kText;
    v.text = std::move(s);
    return v;
  }
  static Value of_bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.boolean = b;
    return v;
  }
  static Value of_date(int64_t ms) {
    Value v;
    v.kind = Kind::kDate;
    v.ms = ms;
    return v;
  }
  static Value error(std::string what = "#ERROR!") {
    Value v;
    v.kind = Kind::kError;
    v.text = std::move(what);
    return v;
  }
};

struct FieldRef {
  std::string id;
  std::string type;  // the result type (formula / rollup / lookup resolved)
  std::string own_type;
  Json options;
};

struct Node {
  enum class Type { kLiteral, kField, kUnary, kBinary, kCall };
  Type type = Type::kLiteral;
  Value literal;
  FieldRef field;
  std::string op;  // unary / binary operator, or the upper-cased function name
  std::vector<std::unique_ptr<Node>> args;
  std::vector<std::string> field_ids;  // LAST_MODIFIED_TIME({a}, {b}) arguments
  int depth = 1;                       // this node and the deepest path below it
};

// Parses and resolves fields against `table`; throws FormulaError.
std::unique_ptr<Node> parse(std::string_view text, const Table& table, bool allow_field_ids);
Value evaluate(const Node& node, const RecordContext& record);
// Airtable's cell JSON → a formula value, by the field's (result) type.
Value from_cell(const FieldRef& field, const Json& cell, const RecordContext& record);
Json to_cell(const Value& value);
bool truthy(const Value& value);
std::string to_text(const Value& value);

}  // namespace emu::formula::detail
