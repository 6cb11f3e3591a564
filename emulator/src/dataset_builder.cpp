#include "dataset_builder.hpp"

#include <array>
#include <stdexcept>

namespace emu::detail {

BaseBuilder::BaseBuilder(IdGenerator& ids, std::string name) : ids_(ids) {
  base_.id = ids_.next("app");
  base_.name = std::move(name);
  // Callers hold references to tables while adding more: never reallocate.
  base_.tables.reserve(kMaxTables);
}

Table& BaseBuilder::add_table(const std::string& name) {
  if (base_.tables.size() >= kMaxTables) {
    throw std::invalid_argument("a base holds at most " + std::to_string(kMaxTables) + " tables");
  }
  Table table;
  table.id = ids_.next("tbl");
  table.name = name;
  base_.tables.push_back(std::move(table));
  return base_.tables.back();
}

std::string BaseBuilder::add_field(Table& table, const std::string& name, const std::string& type,
                                   Json options) {
  Field field;
  field.id = ids_.next("fld");
  field.name = name;
  field.type = type;
  field.options = std::move(options);
  field.slot = table.next_slot++;
  if (table.fields.empty()) {
    table.primary_field_id = field.id;
  }
  table.fields.push_back(std::move(field));
  return table.fields.back().id;
}

std::pair<std::string, std::string> BaseBuilder::add_link(Table& table, const std::string& name,
                                                          Table& target,
                                                          const std::string& inverse_name) {
  const std::string link_id = ids_.next("fld");
  const std::string inverse_id = ids_.next("fld");
  auto make = [&](Table& owner, const std::string& id, const std::string& field_name,
                  const Table& linked, const std::string& other) {
    Field field;
    field.id = id;
    field.name = field_name;
    field.type = "multipleRecordLinks";
    field.options = Json{{"linkedTableId", linked.id},
                         {"isReversed", false},
                         {"prefersSingleRecordLink", false},
                         {"inverseLinkFieldId", other}};
    field.slot = owner.next_slot++;
    owner.fields.push_back(std::move(field));
  };
  make(table, link_id, name, target, inverse_id);
  make(target, inverse_id, inverse_name, table, link_id);
  return {link_id, inverse_id};
}

Record& BaseBuilder::add_record(Table& table, int64_t created_ms, const std::string& user_id) {
  Record record;
  record.id = ids_.next("rec");
  record.seq = table.next_seq++;
  record.created_ms = created_ms;
  record.created_by = user_id;
  record.auto_number = table.next_auto_number++;
  record.cells.resize(table.next_slot);
  record.modified_ms.resize(table.next_slot, 0);
  table.seq_by_id[record.id] = record.seq;
  return table.records.emplace(record.seq, std::move(record)).first->second;
}

void BaseBuilder::set(Table& table, Record& record, const std::string& field_id, Json value) {
  const Field* field = table.field_by_id(field_id);
  if (record.cells.size() < table.next_slot) {
    record.cells.resize(table.next_slot);
    record.modified_ms.resize(table.next_slot, 0);
  }
  record.modified_ms[field->slot] = value.is_null() ? 0 : record.created_ms;
  record.cells[field->slot] = std::move(value);
}

void BaseBuilder::link(Table& table, Record& record, const std::string& field_id,
                       const std::vector<std::string>& targets) {
  const Field* field = table.field_by_id(field_id);
  Table* target = base_.mutable_table(field->options["linkedTableId"].get<std::string>());
  const std::string inverse_id = field->options.value("inverseLinkFieldId", "");
  Json ids = Json::array();
  for (const std::string& id : targets) {
    ids.push_back(id);
    if (inverse_id.empty()) {
      continue;  // a link to its own table has no inverse field
    }
    Record* other = target->mutable_record(id);
    const Field* inverse = target->field_by_id(inverse_id);
    if (other->cells.size() < target->next_slot) {
      other->cells.resize(target->next_slot);
      other->modified_ms.resize(target->next_slot, 0);
    }
    Json& cell = other->cells[inverse->slot];
    if (cell.is_null()) {
      cell = Json::array();
    }
    cell.push_back(record.id);
    other->modified_ms[inverse->slot] = std::max(other->created_ms, record.created_ms);
  }
  set(table, record, field_id, ids.empty() ? Json(nullptr) : ids);
}

View& BaseBuilder::add_view(Table& table, const std::string& name) {
  View view;
  view.id = ids_.next("viw");
  view.name = name;
  table.views.push_back(std::move(view));
  return table.views.back();
}

Json choices(IdGenerator& ids, const std::vector<std::string>& names) {
  static constexpr std::array<const char*, 8> kColors = {
      "blueLight2",   "cyanLight2",   "tealLight2", "greenLight2",
      "yellowLight2", "orangeLight2", "redLight2",  "purpleLight2"};
  Json out = Json::array();
  for (size_t i = 0; i < names.size(); ++i) {
    out.push_back(Json{{"id", ids.next("sel")}, {"name", names[i]}, {"color", kColors[i % 8]}});
  }
  return Json{{"choices", out}};
}

}  // namespace emu::detail
