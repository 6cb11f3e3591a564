#include "webhook_payload.hpp"

#include <algorithm>

#include "time_format.hpp"

namespace emu {

namespace {

Json choice_object(const Field& field, const Json& name) {
  if (field.options.is_object() && field.options.contains("choices")) {
    for (const Json& choice : field.options["choices"]) {
      if (name == choice.value("name", "")) {  // json == string: libc++ has no string == json
        Json out{{"id", choice.value("id", "")}, {"name", name}};
        if (choice.contains("color")) {
          out["color"] = choice["color"];
        }
        return out;
      }
    }
  }
  return Json{{"id", ""}, {"name", name}};
}

std::string primary_text(const Base& base, const std::string& table_id,
                         const std::string& record_id) {
  const Table* table = base.table_by_id(table_id);
  if (table == nullptr) {
    return "";
  }
  const Record* record = table->find_record(record_id);
  const Field* primary = table->field_by_id(table->primary_field_id);
  if (record == nullptr || primary == nullptr || primary->slot >= record->cells.size()) {
    return "";
  }
  const Json& cell = record->cells[primary->slot];
  return cell.is_string() ? cell.get<std::string>() : (cell.is_null() ? "" : cell.dump());
}

bool in_list(const Json& list, const std::string& value) {
  return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

Json cells_v2(const Base& base, const Table& table, const Json& cells, const std::string& rec) {
  Json out = Json::object();
  for (const auto& [field_id, value] : cells.items()) {
    const Field* field = table.field_by_id(field_id);
    out[field_id] =
        field == nullptr || value.is_null() ? value : to_v2_cell(base, table, *field, value, rec);
  }
  return out;
}

// The table a record-change scope names (a view id resolves to its table).
std::string scope_table(const Base& base, const std::string& scope) {
  for (const Table& t : base.tables) {
    if (t.id == scope ||
        std::any_of(t.views.begin(), t.views.end(), [&](const View& v) { return v.id == scope; })) {
      return t.id;
    }
  }
  return scope;
}

// A `createdTablesById` entry: metadata (tableMetadata) and fields (tableFields). Tables are
// created without records through the API, so `recordsById` never appears.
Json created_table(const Table& table, const Json& filters) {
  const Json data_types = filters.value("dataTypes", Json::array());
  const Json watch_schema = filters.value("watchSchemasOfFieldIds", Json::array());
  Json entry = Json::object();
  if (in_list(data_types, "tableMetadata")) {
    entry["metadata"] =
        Json{{"name", table.name},
             {"description", table.description.empty() ? Json(nullptr) : Json(table.description)}};
  }
  if (in_list(data_types, "tableFields")) {
    Json fields = Json::object();
    for (const Field& f : table.fields) {
      if (watch_schema.empty() || in_list(watch_schema, f.id)) {
        fields[f.id] = Json{{"name", f.name}, {"type", f.type}};
      }
    }
    if (!fields.empty()) {
      entry["fieldsById"] = fields;
    }
  }
  return entry;
}

}  // namespace

Json to_v2_cell(const Base& base, const Table& table, const Field& field, const Json& cell,
                const std::string& record_id) {
  if (cell.is_null()) {
    return cell;
  }
  const std::string& type = field.type;
  if ((type == "singleSelect" || type == "externalSyncSource") && cell.is_string()) {
    return choice_object(field, cell);
  }
  if (type == "multipleSelects" && cell.is_array()) {
    Json out = Json::array();
    for (const Json& name : cell) {
      out.push_back(choice_object(field, name));
    }
    return out;
  }
  if (type == "multipleRecordLinks" && cell.is_array()) {
    const std::string linked = field.options.value("linkedTableId", "");
    Json out = Json::array();
    for (const Json& id : cell) {
      out.push_back(Json{{"id", id}, {"name", primary_text(base, linked, id.get<std::string>())}});
    }
    return out;
  }
  if ((type == "multipleLookupValues" || type == "lookup") && cell.is_array()) {
    // Keyed by the linked record each value came from: approximated by spreading the values
    // over the record's current links in order.
    Json linked_ids = Json::array();
    const Field* link = table.field_by_id(field.options.value("recordLinkFieldId", ""));
    const Record* record = table.find_record(record_id);
    if (link != nullptr && record != nullptr && link->slot < record->cells.size() &&
        record->cells[link->slot].is_array()) {
      linked_ids = record->cells[link->slot];
    }
    Json by_record = Json::object();
    for (size_t i = 0; i < cell.size(); ++i) {
      const std::string key =
          linked_ids.empty() ? "unknown"
                             : linked_ids[std::min(i, linked_ids.size() - 1)].get<std::string>();
      if (!by_record.contains(key)) {
        by_record[key] = Json::array();
      }
      by_record[key].push_back(cell[i]);
    }
    return Json{{"valuesByLinkedRecordId", by_record}, {"linkedRecordIds", linked_ids}};
  }
  return cell;
}

Json table_changes(const Base& base, const ChangeEvent& event, const Json& spec) {
  const Table* table = base.table_by_id(event.table_id);
  if (table == nullptr) {
    return Json::object();
  }
  const Json filters = spec.value("filters", Json::object());
  const Json includes = spec.value("includes", Json::object());
  const Json data_types = filters.value("dataTypes", Json::array());
  const Json change_types = filters.value("changeTypes", Json::array());
  auto type_allowed = [&](const char* change) {
    return change_types.empty() || in_list(change_types, change);
  };
  const bool record_event = event.kind == ChangeEvent::Kind::kRecordsCreated ||
                            event.kind == ChangeEvent::Kind::kRecordsUpdated ||
                            event.kind == ChangeEvent::Kind::kRecordsDestroyed;
  const bool field_event = event.kind == ChangeEvent::Kind::kFieldCreated ||
                           event.kind == ChangeEvent::Kind::kFieldChanged ||
                           event.kind == ChangeEvent::Kind::kFieldDestroyed;
  if ((record_event && !in_list(data_types, "tableData")) ||
      (field_event && !in_list(data_types, "tableFields")) ||
      (event.kind == ChangeEvent::Kind::kTableChanged && !in_list(data_types, "tableMetadata"))) {
    return Json::object();
  }
  const Json watch_data = filters.value("watchDataInFieldIds", Json::array());
  const Json watch_schema = filters.value("watchSchemasOfFieldIds", Json::array());
  const bool include_previous = includes.value("includePreviousCellValues", false);
  const bool include_previous_fields = includes.value("includePreviousFieldDefinitions", false);
  const Json include_cells = includes.value("includeCellValuesInFieldIds", Json::array());
  Json out = Json::object();
  switch (event.kind) {
    case ChangeEvent::Kind::kRecordsCreated: {
      if (!type_allowed("add")) {
        break;
      }
      Json created = Json::object();
      for (const RecordChange& r : event.records) {
        created[r.record_id] =
            Json{{"cellValuesByFieldId", cells_v2(base, *table, r.current, r.record_id)},
                 {"createdTime", format_iso_ms(r.created_ms)}};
      }
      out["createdRecordsById"] = created;
      break;
    }
    case ChangeEvent::Kind::kRecordsUpdated: {
      if (!type_allowed("update")) {
        break;
      }
      Json changed = Json::object();
      for (const RecordChange& r : event.records) {
        bool watched = watch_data.empty();
        for (const auto& [field_id, value] : r.current.items()) {
          watched = watched || in_list(watch_data, field_id);
        }
        if (!watched) {
          continue;
        }
        Json entry{{"current",
                    Json{{"cellValuesByFieldId", cells_v2(base, *table, r.current, r.record_id)}}}};
        if (include_previous) {
          entry["previous"] =
              Json{{"cellValuesByFieldId", cells_v2(base, *table, r.previous, r.record_id)}};
        }
        Json unchanged = Json::object();
        for (const auto& [field_id, value] : r.unchanged.items()) {
          if (include_cells == "all" || in_list(include_cells, field_id)) {
            unchanged[field_id] = value;
          }
        }
        if (!unchanged.empty()) {
          entry["unchanged"] =
              Json{{"cellValuesByFieldId", cells_v2(base, *table, unchanged, r.record_id)}};
        }
        changed[r.record_id] = entry;
      }
      if (!changed.empty()) {
        out["changedRecordsById"] = changed;
      }
      break;
    }
    case ChangeEvent::Kind::kRecordsDestroyed: {
      if (!type_allowed("remove")) {
        break;
      }
      Json ids = Json::array();
      for (const RecordChange& r : event.records) {
        ids.push_back(r.record_id);
      }
      out["destroyedRecordIds"] = ids;
      break;
    }
    case ChangeEvent::Kind::kFieldCreated:
      if (type_allowed("add") && (watch_schema.empty() || in_list(watch_schema, event.field_id))) {
        out["createdFieldsById"] = Json{{event.field_id, event.current}};
      }
      break;
    case ChangeEvent::Kind::kFieldChanged:
      if (type_allowed("update") &&
          (watch_schema.empty() || in_list(watch_schema, event.field_id))) {
        Json entry{{"current", event.current}};
        if (include_previous_fields) {
          entry["previous"] = event.previous;
        }
        out["changedFieldsById"] = Json{{event.field_id, entry}};
      }
      break;
    case ChangeEvent::Kind::kFieldDestroyed:
      if (type_allowed("remove") &&
          (watch_schema.empty() || in_list(watch_schema, event.field_id))) {
        out["destroyedFieldIds"] = Json::array({event.field_id});
      }
      break;
    case ChangeEvent::Kind::kTableChanged:
      if (type_allowed("update")) {
        out["changedMetadata"] = Json{{"current", event.current}, {"previous", event.previous}};
      }
      break;
    case ChangeEvent::Kind::kTableCreated:
    case ChangeEvent::Kind::kTableDestroyed: break;  // top-level keys: payload_changes()
  }
  return out;
}

Json payload_changes(const Base& base, const ChangeEvent& event, const Json& spec) {
  const Json filters = spec.value("filters", Json::object());
  const Json data_types = filters.value("dataTypes", Json::array());
  const Json change_types = filters.value("changeTypes", Json::array());
  auto type_allowed = [&](const char* change) {
    return change_types.empty() || in_list(change_types, change);
  };
  const std::string scope =
      filters.contains("recordChangeScope") && filters["recordChangeScope"].is_string()
          ? scope_table(base, filters["recordChangeScope"].get<std::string>())
          : std::string();
  auto in_scope = [&](const std::string& table_id) { return scope.empty() || scope == table_id; };
  Json out = Json::object();
  if (event.kind == ChangeEvent::Kind::kTableCreated) {
    const Table* table = base.table_by_id(event.table_id);
    if (table != nullptr && in_scope(table->id) && type_allowed("add")) {
      const Json entry = created_table(*table, filters);
      if (!entry.empty()) {
        out["createdTablesById"] = Json{{table->id, entry}};
      }
    }
    return out;
  }
  Json changed = Json::object();
  auto merge = [&](const std::string& table_id, const Json& entry) {
    if (entry.empty()) {
      return;
    }
    Json& slot = changed[table_id];
    for (const auto& [key, value] : entry.items()) {
      if (value.is_array() && slot.contains(key)) {
        slot[key].insert(slot[key].end(), value.begin(), value.end());
      } else if (slot.contains(key)) {
        slot[key].update(value);
      } else {
        slot[key] = value;
      }
    }
  };
  if (event.kind == ChangeEvent::Kind::kTableDestroyed) {
    // Destroying a table destroys its records, fields and metadata alike, so every dataType
    // sees it (unverified); links of other tables to it go with it.
    if (in_scope(event.table_id) && type_allowed("remove")) {
      out["destroyedTableIds"] = Json::array({event.table_id});
    }
    for (const TableFieldId& gone : event.destroyed_fields) {
      ChangeEvent field_event = event;
      field_event.kind = ChangeEvent::Kind::kFieldDestroyed;
      field_event.table_id = gone.table_id;
      field_event.field_id = gone.field_id;
      if (in_scope(gone.table_id)) {
        merge(gone.table_id, table_changes(base, field_event, spec));
      }
    }
  } else {
    if (in_scope(event.table_id)) {
      merge(event.table_id, table_changes(base, event, spec));
    }
    for (const TableRecordChanges& linked : event.linked) {
      if (!in_scope(linked.table_id)) {
        continue;
      }
      ChangeEvent update;
      update.kind = ChangeEvent::Kind::kRecordsUpdated;
      update.table_id = linked.table_id;
      update.records = linked.records;
      merge(linked.table_id, table_changes(base, update, spec));
    }
  }
  if (!changed.empty()) {
    out["changedTablesById"] = changed;
  }
  return out;
}

std::vector<Json> split_payload(const Json& body, size_t max_records) {
  static const std::vector<std::string> kRecordKeys = {"createdRecordsById", "changedRecordsById",
                                                       "destroyedRecordIds"};
  const Json tables = body.value("changedTablesById", Json::object());
  size_t records = 0;
  for (const auto& [table_id, entry] : tables.items()) {
    for (const std::string& key : kRecordKeys) {
      records += entry.value(key, Json::array()).size();
    }
  }
  if (max_records == 0 || records <= max_records) {
    return {body};
  }
  Json common = Json::object();
  for (const char* key :
       {"timestamp", "baseTransactionNumber", "actionMetadata", "payloadFormat"}) {
    if (body.contains(key)) {
      common[key] = body[key];
    }
  }
  // The first part: everything but the record entries.
  Json first = body;
  first.erase("changedTablesById");
  Json first_tables = Json::object();
  for (const auto& [table_id, entry] : tables.items()) {
    Json rest = entry;
    for (const std::string& key : kRecordKeys) {
      rest.erase(key);
    }
    if (!rest.empty()) {
      first_tables[table_id] = rest;
    }
  }
  if (!first_tables.empty()) {
    first["changedTablesById"] = first_tables;
  }
  std::vector<Json> parts{first};
  size_t in_part = 0;
  auto add = [&](const std::string& table_id, const std::string& key, const Json& entry,
                 const std::string& record_id) {
    if (in_part == max_records) {
      parts.push_back(common);
      in_part = 0;
    }
    Json& slot = parts.back()["changedTablesById"][table_id][key];
    if (key == "destroyedRecordIds") {
      slot.push_back(entry);
    } else {
      slot[record_id] = entry;
    }
    ++in_part;
  };
  for (const auto& [table_id, entry] : tables.items()) {
    for (const std::string& key : kRecordKeys) {
      if (!entry.contains(key)) {
        continue;
      }
      for (const auto& [record_key, value] : entry[key].items()) {
        add(table_id, key, value, key == "destroyedRecordIds" ? std::string() : record_key);
      }
    }
  }
  return parts;
}

}  // namespace emu
