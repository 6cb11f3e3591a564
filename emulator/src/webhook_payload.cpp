#include "webhook_payload.hpp"

#include <algorithm>

#include "time_format.hpp"

namespace emu {

namespace {

Json choice_object(const Field& field, const Json& name) {
  if (field.options.is_object() && field.options.contains("choices")) {
    for (const Json& choice : field.options["choices"]) {
      if (choice.value("name", "") == name) {
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
  }
  return out;
}

}  // namespace emu
