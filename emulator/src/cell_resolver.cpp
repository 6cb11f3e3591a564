#include "cell_resolver.hpp"

#include <algorithm>

#include "field_types.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

std::string option_string(const Json& options, const char* key) {
  if (options.is_object()) {
    const auto it = options.find(key);
    if (it != options.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return {};
}

}  // namespace

Json CellResolver::collaborator(const std::string& user_id) const {
  if (user_id.empty()) {
    return nullptr;
  }
  Json out{{"id", user_id}};
  if (const Collaborator* user = workspace_.find_user(user_id); user != nullptr) {
    if (!user->email.empty()) {
      out["email"] = user->email;
    }
    if (!user->name.empty()) {
      out["name"] = user->name;
    }
  }
  return out;
}

Json CellResolver::time_cell(int64_t at_ms, const Field& field) const {
  if (result_type(field.type, field.options) == "date") {
    return format_date(at_ms);
  }
  return format_iso_ms(at_ms);
}

std::optional<int64_t> CellResolver::last_modified_ms(
    const Record& record, const std::vector<std::string>& field_ids) const {
  int64_t latest = 0;
  bool any = false;
  for (const Field& f : table_.fields) {
    if (is_computed_type(f.type)) {
      continue;
    }
    if (!field_ids.empty() &&
        std::find(field_ids.begin(), field_ids.end(), f.id) == field_ids.end()) {
      continue;
    }
    const int64_t at = f.slot < record.modified_ms.size() ? record.modified_ms[f.slot] : 0;
    if (at != 0) {
      latest = std::max(latest, at);
      any = true;
    }
  }
  if (field_ids.empty()) {
    // Watching every field: creating the record counts as its first modification.
    return std::max(latest, record.created_ms);
  }
  return any ? std::optional<int64_t>(latest) : std::nullopt;
}

std::string CellResolver::record_name(const std::string& table_id,
                                      const std::string& record_id) const {
  const Table* table = base_.table_by_id(table_id);
  if (table == nullptr) {
    return record_id;
  }
  const Record* record = table->find_record(record_id);
  const Field* primary = table->field_by_id(table->primary_field_id);
  if (record == nullptr || primary == nullptr) {
    return record_id;
  }
  const CellResolver other(workspace_, base_, *table, now_ms_);
  const Json value = other.cell(*record, *primary);
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_null()) {
    return "";
  }
  return value.dump();
}

Json CellResolver::lookup_values(const Record& record, const Field& field) const {
  const std::string link_id = option_string(field.options, "recordLinkFieldId");
  const std::string target_id = option_string(field.options, "fieldIdInLinkedTable");
  const Field* link = table_.field_by_id(link_id);
  if (link == nullptr) {
    return nullptr;
  }
  const Json links = cell(record, *link);
  const Table* linked_table = base_.table_by_id(option_string(link->options, "linkedTableId"));
  if (!links.is_array() || linked_table == nullptr) {
    return nullptr;
  }
  const Field* target = linked_table->field_by_id(target_id);
  if (target == nullptr) {
    return nullptr;
  }
  const CellResolver other(workspace_, base_, *linked_table, now_ms_);
  Json values = Json::array();
  for (const Json& rec_id : links) {
    const Record* linked = linked_table->find_record(rec_id.get<std::string>());
    if (linked == nullptr) {
      continue;
    }
    Json value = other.cell(*linked, *target);
    if (value.is_null()) {
      continue;
    }
    // Lookups flatten list-valued cells (links, multiple selects, attachments…).
    if (value.is_array()) {
      for (Json& element : value) {
        values.push_back(std::move(element));
      }
    } else {
      values.push_back(std::move(value));
    }
  }
  return values.empty() ? Json(nullptr) : values;
}

Json CellResolver::cell(const Record& record, const Field& field) const {
  const std::string& type = field.type;
  if (type == "autoNumber") {
    return record.auto_number;
  }
  if (type == "createdTime") {
    return time_cell(record.created_ms, field);
  }
  if (type == "lastModifiedTime") {
    std::vector<std::string> watched;
    if (field.options.is_object() && field.options.contains("referencedFieldIds")) {
      for (const Json& id : field.options["referencedFieldIds"]) {
        watched.push_back(id.get<std::string>());
      }
    }
    const auto at = last_modified_ms(record, watched);
    return at ? time_cell(*at, field) : Json(nullptr);
  }
  if (type == "createdBy") {
    return collaborator(record.created_by);
  }
  if (type == "lastModifiedBy") {
    return collaborator(record.last_modified_by.empty() ? record.created_by
                                                        : record.last_modified_by);
  }
  if (type == "count") {
    const Field* link = table_.field_by_id(option_string(field.options, "recordLinkFieldId"));
    if (link == nullptr) {
      return nullptr;
    }
    const Json links = cell(record, *link);
    return links.is_array() ? links.size() : 0;
  }
  if (type == "multipleLookupValues" || type == "lookup") {
    // A lookup with stored values (loaded from data) keeps them; otherwise it follows links.
    if (field.slot < record.cells.size() && !record.cells[field.slot].is_null()) {
      return record.cells[field.slot];
    }
    return lookup_values(record, field);
  }
  if (field.slot >= record.cells.size()) {
    return nullptr;
  }
  const Json& stored = record.cells[field.slot];
  return is_empty_cell(stored) ? Json(nullptr) : stored;
}

const Json* CellResolver::stored_cell(const Record& record, const Field& field) const {
  static const Json kEmpty;
  if (is_computed_type(field.type) && field.type != "formula" && field.type != "rollup" &&
      field.type != "button" && field.type != "aiText") {
    return nullptr;
  }
  if (field.slot >= record.cells.size() || is_empty_cell(record.cells[field.slot])) {
    return &kEmpty;
  }
  return &record.cells[field.slot];
}

Json ResolvedRecord::cell(const std::string& field_id) const {
  const Field* field = resolver_.table().field_by_id(field_id);
  return field == nullptr ? Json(nullptr) : resolver_.cell(record_, *field);
}

}  // namespace emu
