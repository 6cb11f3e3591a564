// Airtable formulas as used by `filterByFormula` (and by formula fields' `options.formula`):
// compiled once against a table's schema, then evaluated per record.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "model.hpp"

namespace emu::formula {

// Why a formula could not be compiled. Maps to Airtable's 422 INVALID_FILTER_BY_FORMULA
// (kSyntax, kUnknownFunction, kArity) or UNKNOWN_FIELD_NAME (kUnknownField).
class FormulaError : public std::runtime_error {
 public:
  enum class Kind { kSyntax, kUnknownField, kUnknownFunction, kArity };
  FormulaError(Kind kind, std::string detail)
      : std::runtime_error(detail), kind_(kind), detail_(std::move(detail)) {}
  [[nodiscard]] Kind kind() const { return kind_; }
  // For kUnknownField: the field name as written between the braces.
  [[nodiscard]] const std::string& detail() const { return detail_; }

 private:
  Kind kind_;
  std::string detail_;
};

// What a formula can see of one record. Implemented by the store; cells come in Airtable's
// cellFormat=json shape with computed fields already resolved.
class RecordContext {
 public:
  virtual ~RecordContext() = default;
  [[nodiscard]] virtual Json cell(const std::string& field_id) const = 0;
  [[nodiscard]] virtual std::string record_id() const = 0;
  [[nodiscard]] virtual int64_t created_ms() const = 0;
  // LAST_MODIFIED_TIME(): the latest user edit of any non-computed field (empty ids), or of
  // the listed field ids. nullopt when none of them was ever set.
  [[nodiscard]] virtual std::optional<int64_t> last_modified_ms(
      const std::vector<std::string>& field_ids) const = 0;
  // Primary-field value of a linked record, as formulas show links.
  [[nodiscard]] virtual std::string linked_record_name(const std::string& table_id,
                                                       const std::string& record_id) const = 0;
  [[nodiscard]] virtual int64_t now_ms() const = 0;
};

class Formula {
 public:
  // Throws FormulaError. `allow_field_ids`: also resolve `{fld…}` references by id (formula
  // fields store them so); filterByFormula resolves names only.
  static Formula compile(std::string_view text, const Table& table, bool allow_field_ids);

  // The value as a formula field would serve it: number, string, true, array, or an error /
  // special object ({"error": "#ERROR!"}, {"specialValue": "NaN"}); null for blank.
  [[nodiscard]] Json evaluate(const RecordContext& record) const;
  // filterByFormula semantics: kept unless the result is 0, false, "", NaN, [], blank or an error.
  [[nodiscard]] bool matches(const RecordContext& record) const;

  Formula(Formula&&) noexcept;
  Formula& operator=(Formula&&) noexcept;
  ~Formula();

 private:
  struct Impl;
  explicit Formula(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace emu::formula
