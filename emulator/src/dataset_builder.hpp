// Building bases in code (demo base, generator, data directories): fields with Airtable's
// default options, records with cells by field, links kept consistent on both sides.
#pragma once

#include <string>

#include "ids.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu::detail {

class BaseBuilder {
 public:
  static constexpr size_t kMaxTables = 1000;

  BaseBuilder(IdGenerator& ids, std::string name);

  Table& add_table(const std::string& name);
  // Adds a field and returns its id. `options` null = the type has none.
  std::string add_field(Table& table, const std::string& name, const std::string& type,
                        Json options = nullptr);
  // A link field from `table` to `target` plus its inverse in `target`; returns {link, inverse}.
  std::pair<std::string, std::string> add_link(Table& table, const std::string& name, Table& target,
                                               const std::string& inverse_name);
  // Appends a record (cells empty); sets times and numbering.
  Record& add_record(Table& table, int64_t created_ms, const std::string& user_id);
  void set(Table& table, Record& record, const std::string& field_id, Json value);
  // Sets a link cell and adds the record to the inverse cells of the targets.
  void link(Table& table, Record& record, const std::string& field_id,
            const std::vector<std::string>& targets);
  View& add_view(Table& table, const std::string& name);

  Base& base() { return base_; }
  IdGenerator& ids() { return ids_; }
  Base take() { return std::move(base_); }

 private:
  IdGenerator& ids_;
  Base base_;
};

Json choices(IdGenerator& ids, const std::vector<std::string>& names);

}  // namespace emu::detail
