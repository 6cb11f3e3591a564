#include "store.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "api_error.hpp"
#include "cell_resolver.hpp"
#include "cell_writer.hpp"
#include "field_types.hpp"

namespace emu {

namespace {

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

Field& resolve_field(Table& table, const std::string& key) {
  const Field* field = table.find_field(key);
  if (field == nullptr) {
    throw errors::unknown_field_name(key);
  }
  return *table.mutable_field(field->id);
}

const Json& fields_of(const Json& item) {
  if (!item.is_object() || !item.contains("fields") || !item["fields"].is_object()) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data.");
  }
  return item["fields"];
}

void ensure_slots(Record& record, size_t slots) {
  if (record.cells.size() < slots) {
    record.cells.resize(slots);
    record.modified_ms.resize(slots, 0);
  }
}

ChangeEvent make_event(ChangeEvent::Kind kind, const std::string& base_id,
                       const std::string& table_id, const WriteOptions& opts) {
  ChangeEvent event;
  event.kind = kind;
  event.base_id = base_id;
  event.table_id = table_id;
  event.time_ms = opts.now_ms;
  event.source = opts.source;
  event.user_id = opts.user_id;
  return event;
}

RecordChange make_change(const std::string& record_id, int64_t created_ms) {
  RecordChange change;
  change.record_id = record_id;
  change.created_ms = created_ms;
  return change;
}

// What the API serves for a record (cellFormat=json), empty cells left out.
Json resolved_cells(const Workspace& workspace, const Base& base, const Table& table,
                    const Record& record, int64_t now_ms) {
  const CellResolver resolver(workspace, base, table, now_ms);
  Json out = Json::object();
  for (const Field& f : table.fields) {
    Json value = resolver.cell(record, f);
    if (!value.is_null()) {
      out[f.id] = std::move(value);
    }
  }
  return out;
}

// A record's change from its resolved cells before and after a write: changed fields in
// `current` / `previous`, every other non-empty one in `unchanged`.
RecordChange diff_change(const Table& table, const Record& record, const Json& before,
                         const Json& after) {
  RecordChange change = make_change(record.id, record.created_ms);
  for (const Field& f : table.fields) {
    const Json old_value = before.contains(f.id) ? before[f.id] : Json(nullptr);
    const Json new_value = after.contains(f.id) ? after[f.id] : Json(nullptr);
    if (old_value != new_value) {
      change.current[f.id] = new_value;
      change.previous[f.id] = old_value;
    } else if (!new_value.is_null()) {
      change.unchanged[f.id] = new_value;
    }
  }
  return change;
}

using RecordRef = std::pair<std::string, std::string>;  // table id, record id

// The records a link cell points at.
void add_link_refs(const Field& field, const Json& cell, std::set<RecordRef>& refs) {
  if (field.type != "multipleRecordLinks" || !field.options.is_object() || !cell.is_array()) {
    return;
  }
  const std::string linked = field.options.value("linkedTableId", "");
  for (const Json& id : cell) {
    if (id.is_string()) {
      refs.insert({linked, id.get<std::string>()});
    }
  }
}

void add_record_links(const Table& table, const Record& record, std::set<RecordRef>& refs) {
  for (const Field& f : table.fields) {
    if (f.slot < record.cells.size()) {
      add_link_refs(f, record.cells[f.slot], refs);
    }
  }
}

// Linked records move with a write (inverse link cells, counts, lookups): their cells are
// taken before it and diffed after it, and those that changed join the event.
std::map<RecordRef, Json> snapshot_linked(const Workspace& workspace, const Base& base,
                                          const std::set<RecordRef>& refs, int64_t now_ms) {
  std::map<RecordRef, Json> out;
  for (const RecordRef& ref : refs) {
    const Table* table = base.table_by_id(ref.first);
    const Record* record = table == nullptr ? nullptr : table->find_record(ref.second);
    if (record != nullptr) {
      out.emplace(ref, resolved_cells(workspace, base, *table, *record, now_ms));
    }
  }
  return out;
}

void report_linked(const Workspace& workspace, const Base& base,
                   const std::map<RecordRef, Json>& before, const std::set<RecordRef>& written,
                   int64_t now_ms, ChangeEvent& event) {
  for (const auto& [ref, cells] : before) {
    const Table* table = base.table_by_id(ref.first);
    const Record* record = table == nullptr ? nullptr : table->find_record(ref.second);
    if (record == nullptr || written.count(ref) > 0) {
      continue;
    }
    RecordChange change = diff_change(*table, *record, cells,
                                      resolved_cells(workspace, base, *table, *record, now_ms));
    if (change.current.empty()) {
      continue;
    }
    if (event.linked.empty() || event.linked.back().table_id != ref.first) {
      event.linked.push_back(TableRecordChanges{ref.first, {}});
    }
    event.linked.back().records.push_back(std::move(change));
  }
}

std::set<std::string> as_id_set(const Json& cell) {
  std::set<std::string> out;
  if (cell.is_array()) {
    for (const Json& id : cell) {
      out.insert(id.get<std::string>());
    }
  }
  return out;
}

// Airtable keeps both sides of a link: linking A → B shows A in B's inverse field.
void sync_inverse(Base& base, const Field& field, const std::string& record_id, const Json& before,
                  const Json& after, int64_t now_ms, const std::string& user_id) {
  if (!field.options.is_object()) {
    return;
  }
  const std::string inverse_id = field.options.value("inverseLinkFieldId", "");
  Table* linked = base.mutable_table(field.options.value("linkedTableId", ""));
  if (inverse_id.empty() || linked == nullptr) {
    return;
  }
  const Field* inverse = linked->field_by_id(inverse_id);
  if (inverse == nullptr) {
    return;
  }
  const auto old_ids = as_id_set(before);
  const auto new_ids = as_id_set(after);
  auto touch = [&](const std::string& other_id, bool add) {
    Record* other = linked->mutable_record(other_id);
    if (other == nullptr) {
      return;
    }
    ensure_slots(*other, linked->next_slot);
    Json& cell = other->cells[inverse->slot];
    if (!cell.is_array()) {
      cell = Json::array();
    }
    const auto it = std::find(cell.begin(), cell.end(), record_id);
    if (add && it == cell.end()) {
      cell.push_back(record_id);
    } else if (!add && it != cell.end()) {
      cell.erase(it);
    } else {
      return;
    }
    if (cell.empty()) {
      cell = nullptr;
    }
    other->modified_ms[inverse->slot] = now_ms;
    other->last_modified_by = user_id;
  };
  for (const std::string& id : old_ids) {
    if (new_ids.count(id) == 0) {
      touch(id, false);
    }
  }
  for (const std::string& id : new_ids) {
    if (old_ids.count(id) == 0) {
      touch(id, true);
    }
  }
}

Json default_options(const std::string& type) {
  if (type == "number" || type == "percent") {
    return Json{{"precision", 0}};
  }
  if (type == "currency") {
    return Json{{"precision", 2}, {"symbol", "$"}};
  }
  if (type == "rating") {
    return Json{{"icon", "star"}, {"max", 5}, {"color", "yellowBright"}};
  }
  if (type == "checkbox") {
    return Json{{"icon", "check"}, {"color", "greenBright"}};
  }
  if (type == "date") {
    return Json{{"dateFormat", Json{{"name", "iso"}, {"format", "YYYY-MM-DD"}}}};
  }
  if (type == "dateTime") {
    return Json{{"dateFormat", Json{{"name", "iso"}, {"format", "YYYY-MM-DD"}}},
                {"timeFormat", Json{{"name", "24hour"}, {"format", "HH:mm"}}},
                {"timeZone", "utc"}};
  }
  if (type == "duration") {
    return Json{{"durationFormat", "h:mm"}};
  }
  if (type == "singleSelect" || type == "multipleSelects") {
    return Json{{"choices", Json::array()}};
  }
  if (type == "multipleAttachments") {
    return Json{{"isReversed", false}};
  }
  return nullptr;
}

// A cell's value as text, for type conversions.
std::string cell_text(const Json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_array()) {
    std::string out;
    for (const Json& item : value) {
      if (!out.empty()) {
        out += ", ";
      }
      out += cell_text(item);
    }
    return out;
  }
  if (value.is_object()) {
    for (const char* key : {"name", "text", "filename", "label", "value", "email", "id"}) {
      if (value.contains(key) && value[key].is_string()) {
        return value[key].get<std::string>();
      }
    }
    return value.dump();
  }
  return value.is_null() ? "" : value.dump();
}

Json convert_value(WriteContext& ctx, Field& field, const Json& old_value) {
  if (old_value.is_null()) {
    return nullptr;
  }
  Json candidate = old_value;
  const std::string& type = field.type;
  if (type == "multipleSelects" || type == "multipleRecordLinks" ||
      type == "multipleCollaborators" || type == "multipleAttachments") {
    if (!old_value.is_array()) {
      Json list = Json::array();
      std::string text = cell_text(old_value);
      size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        const size_t comma = text.find(", ", start);
        list.push_back(
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) {
          break;
        }
        start = comma + 2;
      }
      candidate = list;
    }
  } else if (type == "checkbox") {
    candidate = true;
  } else if (!(old_value.is_number() &&
               (type == "number" || type == "currency" || type == "percent" || type == "duration" ||
                type == "rating"))) {
    candidate = cell_text(old_value);
  }
  try {
    return normalize_cell(ctx, field, candidate);
  } catch (const ApiError&) {
    return nullptr;  // Airtable clears values it cannot convert
  }
}

}  // namespace

Json field_json(const Field& field) {
  Json out{{"id", field.id}, {"name", field.name}, {"type", field.type}};
  if (!field.description.empty()) {
    out["description"] = field.description;
  }
  if (!field.options.is_null()) {
    out["options"] = field.options;
  }
  return out;
}

void Store::emit(const Base& base, const ChangeEvent& event) const {
  if (listener_) {
    listener_(base, event);
  }
}

Json Store::snapshot_cells(const Base& base, const Table& table, const Record& record,
                           int64_t now_ms) const {
  return resolved_cells(workspace_, base, table, record, now_ms);
}

std::vector<std::string> Store::create_records(Base& base, Table& table, const Json& items,
                                               const WriteOptions& opts) {
  WriteContext ctx{workspace_, base, table, ids_, opts.typecast, attachments_};
  std::vector<Record> staged;
  for (const Json& item : items) {
    Record record;
    record.cells.resize(table.next_slot);
    record.modified_ms.resize(table.next_slot, 0);
    for (const auto& [key, value] : fields_of(item).items()) {
      Field& field = resolve_field(table, key);
      Json cell = normalize_cell(ctx, field, value);
      if (!cell.is_null()) {
        record.modified_ms[field.slot] = opts.now_ms;
      }
      record.cells[field.slot] = std::move(cell);
    }
    staged.push_back(std::move(record));
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kRecordsCreated, base.id, table.id, opts);
  std::set<RecordRef> refs;
  for (const Record& record : staged) {
    add_record_links(table, record, refs);
  }
  const auto linked_before = snapshot_linked(workspace_, base, refs, opts.now_ms);
  std::vector<std::string> ids;
  for (Record& record : staged) {
    record.id = ids_.next("rec");
    record.seq = table.next_seq++;
    record.created_ms = opts.now_ms;
    record.created_by = opts.user_id;
    record.auto_number = table.next_auto_number++;
    table.seq_by_id[record.id] = record.seq;
    const Record& stored = table.records.emplace(record.seq, std::move(record)).first->second;
    ids.push_back(stored.id);
    for (const Field& f : table.fields) {
      if (f.type == "multipleRecordLinks" && !stored.cells[f.slot].is_null()) {
        sync_inverse(base, f, stored.id, nullptr, stored.cells[f.slot], opts.now_ms, opts.user_id);
      }
    }
  }
  for (const std::string& id : ids) {
    const Record& stored = *table.find_record(id);
    RecordChange change = make_change(stored.id, stored.created_ms);
    change.current = snapshot_cells(base, table, stored, opts.now_ms);
    event.records.push_back(std::move(change));
  }
  report_linked(workspace_, base, linked_before, {}, opts.now_ms, event);
  ++base.transaction_number;
  emit(base, event);
  return ids;
}

std::vector<std::string> Store::update_records(Base& base, Table& table, const Json& items,
                                               bool replace_all, const WriteOptions& opts) {
  WriteContext ctx{workspace_, base, table, ids_, opts.typecast, attachments_};
  struct Staged {
    std::string id;
    std::vector<std::pair<size_t, Json>> cells;  // slot → new value
  };
  std::vector<Staged> staged;
  for (const Json& item : items) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
      throw errors::invalid_request_unknown(
          "Invalid request: parameter validation failed. Check your request data.");
    }
    Staged s{item["id"].get<std::string>(), {}};
    if (table.find_record(s.id) == nullptr) {
      throw errors::row_does_not_exist(s.id);
    }
    std::set<size_t> written;
    ctx.record = table.find_record(s.id);
    for (const auto& [key, value] : fields_of(item).items()) {
      Field& field = resolve_field(table, key);
      s.cells.emplace_back(field.slot, normalize_cell(ctx, field, value));
      written.insert(field.slot);
    }
    if (replace_all) {
      for (const Field& f : table.fields) {
        if (!is_computed_type(f.type) && written.count(f.slot) == 0) {
          s.cells.emplace_back(f.slot, nullptr);
        }
      }
    }
    staged.push_back(std::move(s));
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kRecordsUpdated, base.id, table.id, opts);
  std::set<RecordRef> refs;
  std::set<RecordRef> written;
  for (const Staged& s : staged) {
    written.insert({table.id, s.id});
    add_record_links(table, *table.find_record(s.id), refs);
    for (const auto& [slot, value] : s.cells) {
      for (const Field& f : table.fields) {
        if (f.slot == slot) {
          add_link_refs(f, value, refs);
        }
      }
    }
  }
  const auto linked_before = snapshot_linked(workspace_, base, refs, opts.now_ms);
  std::vector<std::string> ids;
  for (Staged& s : staged) {
    Record& record = *table.mutable_record(s.id);
    ensure_slots(record, table.next_slot);
    const Json before = snapshot_cells(base, table, record, opts.now_ms);
    bool changed = false;
    for (auto& [slot, value] : s.cells) {
      if (record.cells[slot] == value) {
        continue;  // writing the same value is not a modification
      }
      const Field* field = nullptr;
      for (const Field& f : table.fields) {
        if (f.slot == slot) {
          field = &f;
        }
      }
      if (field != nullptr && field->type == "multipleRecordLinks") {
        sync_inverse(base, *field, record.id, record.cells[slot], value, opts.now_ms, opts.user_id);
      }
      record.cells[slot] = std::move(value);
      record.modified_ms[slot] = opts.now_ms;
      changed = true;
    }
    if (changed) {
      record.last_modified_by = opts.user_id;
    }
    ids.push_back(record.id);
    RecordChange change =
        diff_change(table, record, before, snapshot_cells(base, table, record, opts.now_ms));
    if (!change.current.empty()) {
      event.records.push_back(std::move(change));
    }
  }
  report_linked(workspace_, base, linked_before, written, opts.now_ms, event);
  if (!event.records.empty()) {
    ++base.transaction_number;
    emit(base, event);
  }
  return ids;
}

std::vector<std::string> Store::delete_records(Base& base, Table& table,
                                               const std::vector<std::string>& record_ids,
                                               const WriteOptions& opts) {
  for (const std::string& id : record_ids) {
    if (table.find_record(id) == nullptr) {
      throw errors::record_not_found(id);
    }
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kRecordsDestroyed, base.id, table.id, opts);
  // Records linking to the deleted ones lose those links: both sides of two-way links, and
  // one-way links (a table linking to itself) found by scanning.
  std::set<RecordRef> refs;
  const std::set<std::string> gone(record_ids.begin(), record_ids.end());
  for (const std::string& id : gone) {
    add_record_links(table, *table.find_record(id), refs);
  }
  for (const Table& other : base.tables) {
    for (const Field& f : other.fields) {
      if (f.type != "multipleRecordLinks" || !f.options.is_object() ||
          f.options.value("linkedTableId", "") != table.id) {
        continue;
      }
      for (const auto& [seq, rec] : other.records) {
        if (f.slot < rec.cells.size() && rec.cells[f.slot].is_array() &&
            std::any_of(rec.cells[f.slot].begin(), rec.cells[f.slot].end(), [&](const Json& id) {
              return id.is_string() && gone.count(id.get<std::string>()) > 0;
            })) {
          refs.insert({other.id, rec.id});
        }
      }
    }
  }
  const auto linked_before = snapshot_linked(workspace_, base, refs, opts.now_ms);
  for (const std::string& id : record_ids) {
    const Record* record = table.find_record(id);
    if (record == nullptr) {
      continue;  // listed twice
    }
    for (const Field& f : table.fields) {
      if (f.type == "multipleRecordLinks" && f.slot < record->cells.size() &&
          !record->cells[f.slot].is_null()) {
        sync_inverse(base, f, id, record->cells[f.slot], nullptr, opts.now_ms, opts.user_id);
      }
    }
    const int64_t seq = record->seq;
    table.records.erase(seq);
    table.seq_by_id.erase(id);
    event.records.push_back(make_change(id, 0));
  }
  // Links from other tables to the deleted records disappear as well.
  for (Table& other : base.tables) {
    for (const Field& f : other.fields) {
      if (f.type != "multipleRecordLinks" || f.options.value("linkedTableId", "") != table.id) {
        continue;
      }
      for (auto& [seq, rec] : other.records) {
        if (f.slot >= rec.cells.size() || !rec.cells[f.slot].is_array()) {
          continue;
        }
        Json& cell = rec.cells[f.slot];
        const size_t before = cell.size();
        for (const std::string& id : record_ids) {
          const auto it = std::find(cell.begin(), cell.end(), id);
          if (it != cell.end()) {
            cell.erase(it);
          }
        }
        if (cell.size() != before && cell.empty()) {
          cell = nullptr;
        }
      }
    }
  }
  report_linked(workspace_, base, linked_before, {}, opts.now_ms, event);
  ++base.transaction_number;
  emit(base, event);
  return record_ids;
}

void Store::prepare_field(const Table& table, Field& field, const Json& spec) {
  if (!spec.is_object() || !spec.contains("name") || !spec["name"].is_string() ||
      !spec.contains("type") || !spec["type"].is_string()) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data.");
  }
  field.name = spec["name"].get<std::string>();
  field.type = spec["type"].get<std::string>();
  field.description = spec.value("description", "");
  if (field.name.empty()) {
    throw errors::duplicate_or_empty_field_name("Field name cannot be empty");
  }
  for (const Field& other : table.fields) {
    if (other.id != field.id && lower(other.name) == lower(field.name)) {
      throw errors::duplicate_or_empty_field_name("Field name \"" + field.name +
                                                  "\" is already used in this table");
    }
  }
  field.options = spec.contains("options") && !spec["options"].is_null()
                      ? spec["options"]
                      : default_options(field.type);
  if ((field.type == "singleSelect" || field.type == "multipleSelects") &&
      field.options.is_object() && field.options.contains("choices")) {
    for (Json& choice : field.options["choices"]) {
      if (!choice.contains("id")) {
        Json with_id{{"id", ids_.next("sel")}};
        with_id.update(choice);
        choice = with_id;
      }
    }
  }
}

const Field& Store::create_field(Base& base, Table& table, const Json& spec,
                                 const WriteOptions& opts) {
  Field field;
  field.id = ids_.next("fld");
  prepare_field(table, field, spec);
  if (field.type == "multipleRecordLinks") {
    Table* linked = base.mutable_table(field.options.value("linkedTableId", ""));
    if (linked == nullptr) {
      throw errors::invalid_request_unknown("Invalid options for field \"" + field.name +
                                            "\": linkedTableId does not name a table");
    }
    field.options["isReversed"] = field.options.value("isReversed", false);
    field.options["prefersSingleRecordLink"] =
        field.options.value("prefersSingleRecordLink", false);
    if (linked != &table) {
      Field inverse;
      inverse.id = ids_.next("fld");
      inverse.name = table.name;
      for (int n = 2; linked->field_by_name(inverse.name) != nullptr; ++n) {
        inverse.name = table.name + " " + std::to_string(n);
      }
      inverse.type = "multipleRecordLinks";
      inverse.options = Json{{"linkedTableId", table.id},
                             {"isReversed", false},
                             {"prefersSingleRecordLink", false},
                             {"inverseLinkFieldId", field.id}};
      inverse.slot = linked->next_slot++;
      field.options["inverseLinkFieldId"] = inverse.id;
      linked->fields.push_back(inverse);
    }
  }
  field.slot = table.next_slot++;
  table.fields.push_back(field);
  ChangeEvent event = make_event(ChangeEvent::Kind::kFieldCreated, base.id, table.id, opts);
  event.field_id = field.id;
  event.current = Json{{"name", field.name}, {"type", field.type}};
  ++base.transaction_number;
  emit(base, event);
  return table.fields.back();
}

const Field& Store::update_field(Base& base, Table& table, const std::string& field_id,
                                 const Json& changes, const WriteOptions& opts) {
  Field* field = table.mutable_field(field_id);
  if (field == nullptr) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  if (!changes.is_object()) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data.");
  }
  const Json previous{{"name", field->name}, {"description", field->description}};
  if (changes.contains("name")) {
    Json spec = field_json(*field);
    spec["name"] = changes["name"];
    Field candidate = *field;
    prepare_field(table, candidate, spec);
    field->name = candidate.name;
  }
  if (changes.contains("description")) {
    field->description = changes["description"].is_string()
                             ? changes["description"].get<std::string>()
                             : std::string();
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kFieldChanged, base.id, table.id, opts);
  event.field_id = field->id;
  event.current = Json{{"name", field->name}};
  event.previous = Json{{"name", previous["name"]}};
  ++base.transaction_number;
  emit(base, event);
  return *field;
}

const Field& Store::convert_field(Base& base, Table& table, const std::string& field_id,
                                  const std::string& type, const Json& options,
                                  const WriteOptions& opts) {
  Field* field = table.mutable_field(field_id);
  if (field == nullptr) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  const Json previous{{"type", field->type}};
  // Capture what every record shows now (computed values included) before the type changes.
  std::vector<std::pair<int64_t, Json>> old_values;
  {
    const CellResolver resolver(workspace_, base, table, opts.now_ms);
    for (const auto& [seq, record] : table.records) {
      old_values.emplace_back(seq, resolver.cell(record, *field));
    }
  }
  field->type = type;
  field->options = options.is_null() ? default_options(type) : options;
  WriteContext ctx{workspace_, base, table, ids_, true, attachments_};
  for (auto& [seq, old_value] : old_values) {
    Record& record = table.records.at(seq);
    ensure_slots(record, table.next_slot);
    record.cells[field->slot] =
        is_computed_type(type) ? Json(nullptr) : convert_value(ctx, *field, old_value);
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kFieldChanged, base.id, table.id, opts);
  event.field_id = field->id;
  event.current = Json{{"type", field->type}};
  event.previous = previous;
  ++base.transaction_number;
  emit(base, event);
  return *field;
}

void Store::delete_field(Base& base, Table& table, const std::string& field_id,
                         const WriteOptions& opts) {
  const Field* field = table.field_by_id(field_id);
  if (field == nullptr) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  if (field->id == table.primary_field_id) {
    throw errors::invalid_request_unknown("The primary field of a table cannot be deleted");
  }
  const size_t slot = field->slot;
  for (auto& [seq, record] : table.records) {
    if (slot < record.cells.size()) {
      record.cells[slot] = nullptr;
    }
  }
  table.fields.erase(std::find_if(table.fields.begin(), table.fields.end(),
                                  [&](const Field& f) { return f.id == field_id; }));
  // Fields that depended on it stop being valid, as in Airtable.
  for (Table& t : base.tables) {
    for (Field& f : t.fields) {
      if (!f.options.is_object()) {
        continue;
      }
      const bool depends = f.options.value("fieldIdInLinkedTable", "") == field_id ||
                           f.options.value("recordLinkFieldId", "") == field_id;
      if (depends) {
        f.options["isValid"] = false;
      }
    }
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kFieldDestroyed, base.id, table.id, opts);
  event.field_id = field_id;
  ++base.transaction_number;
  emit(base, event);
}

Table& Store::create_table(Base& base, const Json& spec, const WriteOptions& opts) {
  if (!spec.is_object() || !spec.contains("name") || !spec["name"].is_string() ||
      !spec.contains("fields") || !spec["fields"].is_array() || spec["fields"].empty()) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data.");
  }
  const std::string name = spec["name"].get<std::string>();
  for (const Table& t : base.tables) {
    if (lower(t.name) == lower(name)) {
      throw ApiError(
          422, Json{{"error", Json{{"type", "DUPLICATE_TABLE_NAME"},
                                   {"message", "Table name \"" + name + "\" is already used"}}}});
    }
  }
  Table table;
  table.id = ids_.next("tbl");
  table.name = name;
  table.description = spec.value("description", "");
  for (const Json& field_spec : spec["fields"]) {
    Field field;
    field.id = ids_.next("fld");
    prepare_field(table, field, field_spec);
    field.slot = table.next_slot++;
    table.fields.push_back(field);
  }
  table.primary_field_id = table.fields.front().id;
  View grid;
  grid.id = ids_.next("viw");
  grid.name = "Grid view";
  table.views.push_back(grid);
  base.tables.push_back(std::move(table));
  const ChangeEvent event =
      make_event(ChangeEvent::Kind::kTableCreated, base.id, base.tables.back().id, opts);
  ++base.transaction_number;
  emit(base, event);
  return base.tables.back();
}

void Store::delete_table(Base& base, const std::string& table_id, const WriteOptions& opts) {
  const auto it = std::find_if(base.tables.begin(), base.tables.end(),
                               [&](const Table& t) { return t.id == table_id; });
  if (it == base.tables.end()) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  if (base.tables.size() == 1) {
    throw errors::invalid_request_unknown("The last table of a base cannot be deleted");
  }
  base.tables.erase(it);
  ChangeEvent event = make_event(ChangeEvent::Kind::kTableDestroyed, base.id, table_id, opts);
  // Link fields of other tables pointing at it go with it; lookups and rollups through them
  // stop being valid.
  std::set<std::string> gone_links;
  for (Table& t : base.tables) {
    for (const Field& f : t.fields) {
      if (f.type == "multipleRecordLinks" && f.options.is_object() &&
          f.options.value("linkedTableId", "") == table_id) {
        gone_links.insert(f.id);
        event.destroyed_fields.push_back(TableFieldId{t.id, f.id});
      }
    }
    t.fields.erase(std::remove_if(t.fields.begin(), t.fields.end(),
                                  [&](const Field& f) { return gone_links.count(f.id) > 0; }),
                   t.fields.end());
  }
  for (Table& t : base.tables) {
    for (Field& f : t.fields) {
      if (f.options.is_object() && gone_links.count(f.options.value("recordLinkFieldId", "")) > 0) {
        f.options["isValid"] = false;
      }
    }
  }
  ++base.transaction_number;
  emit(base, event);
}

void Store::update_table(Base& base, Table& table, const Json& changes, const WriteOptions& opts) {
  const Json previous{{"name", table.name}, {"description", table.description}};
  if (changes.contains("name") && changes["name"].is_string()) {
    table.name = changes["name"].get<std::string>();
  }
  if (changes.contains("description")) {
    table.description = changes["description"].is_string()
                            ? changes["description"].get<std::string>()
                            : std::string();
  }
  ChangeEvent event = make_event(ChangeEvent::Kind::kTableChanged, base.id, table.id, opts);
  event.current = Json{{"name", table.name}, {"description", table.description}};
  event.previous = previous;
  ++base.transaction_number;
  emit(base, event);
}

}  // namespace emu
