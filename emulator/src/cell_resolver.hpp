// Resolves a record's cells as the API serves them (cellFormat=json): stored values for
// editable fields, and Airtable's computed values (autoNumber, created/last-modified time and
// by, count, lookups) derived from the record and its linked records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formula/formula.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

class CellResolver {
 public:
  CellResolver(const Workspace& workspace, const Base& base, const Table& table, int64_t now_ms)
      : workspace_(workspace), base_(base), table_(table), now_ms_(now_ms) {}

  // The cell value, or null when the cell is empty (and must be omitted).
  [[nodiscard]] Json cell(const Record& record, const Field& field) const;
  // The stored cell of an editable field (null Json when empty), without a copy; nullptr when
  // the field is computed and needs cell().
  [[nodiscard]] const Json* stored_cell(const Record& record, const Field& field) const;
  // Latest user edit of the given non-computed fields (all editable fields when empty).
  [[nodiscard]] std::optional<int64_t> last_modified_ms(
      const Record& record, const std::vector<std::string>& field_ids) const;
  // The primary field's value of a record in any table of the base, as text.
  [[nodiscard]] std::string record_name(const std::string& table_id,
                                        const std::string& record_id) const;
  [[nodiscard]] Json collaborator(const std::string& user_id) const;

  [[nodiscard]] const Table& table() const { return table_; }
  [[nodiscard]] const Base& base() const { return base_; }
  [[nodiscard]] const Workspace& workspace() const { return workspace_; }
  [[nodiscard]] int64_t now_ms() const { return now_ms_; }

 private:
  [[nodiscard]] Json lookup_values(const Record& record, const Field& field) const;
  [[nodiscard]] Json time_cell(int64_t at_ms, const Field& field) const;

  const Workspace& workspace_;
  const Base& base_;
  const Table& table_;
  int64_t now_ms_;
};

// Adapts one record to what a formula sees.
class ResolvedRecord : public formula::RecordContext {
 public:
  ResolvedRecord(const CellResolver& resolver, const Record& record)
      : resolver_(resolver), record_(record) {}
  [[nodiscard]] Json cell(const std::string& field_id) const override;
  [[nodiscard]] std::string record_id() const override { return record_.id; }
  [[nodiscard]] int64_t created_ms() const override { return record_.created_ms; }
  [[nodiscard]] std::optional<int64_t> last_modified_ms(
      const std::vector<std::string>& field_ids) const override {
    return resolver_.last_modified_ms(record_, field_ids);
  }
  [[nodiscard]] std::string linked_record_name(const std::string& table_id,
                                               const std::string& record_id) const override {
    return resolver_.record_name(table_id, record_id);
  }
  [[nodiscard]] int64_t now_ms() const override { return resolver_.now_ms(); }

 private:
  const CellResolver& resolver_;
  const Record& record_;
};

}  // namespace emu
