// One change to a base, as the store reports it to webhooks: records created, updated or
// destroyed, or a field or table created, changed or destroyed. Cell values are in
// cellFormat=json shape keyed by field id (the webhook layer converts them to V2 shapes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "json.hpp"

namespace emu {

struct RecordChange {
  std::string record_id;
  int64_t created_ms = 0;
  Json current = Json::object();    // field id → cell (null = now empty): changed fields only
  Json previous = Json::object();   // field id → cell before the change: changed fields only
  Json unchanged = Json::object();  // field id → cell: every other non-empty field
};

struct TableRecordChanges {
  std::string table_id;
  std::vector<RecordChange> records;
};

struct TableFieldId {
  std::string table_id;
  std::string field_id;
};

struct ChangeEvent {
  enum class Kind {
    kRecordsCreated,
    kRecordsUpdated,
    kRecordsDestroyed,
    kFieldCreated,
    kFieldChanged,
    kFieldDestroyed,
    kTableChanged,
    kTableCreated,
    kTableDestroyed,
  };
  Kind kind = Kind::kRecordsUpdated;
  std::string base_id;
  std::string table_id;
  int64_t time_ms = 0;
  std::string source = "publicApi";  // publicApi | client | …
  std::string user_id;
  std::vector<RecordChange> records;
  // Field and table changes: the field id, its definition now and before ({name, type, …}).
  std::string field_id;
  Json current = Json::object();
  Json previous = Json::object();
  // Records of other tables (or untouched records of this one) that the same action changed
  // through links: inverse link cells, counts and lookups. Updates, by table.
  std::vector<TableRecordChanges> linked;
  // kTableDestroyed: fields of other tables destroyed with the table (links pointing at it).
  std::vector<TableFieldId> destroyed_fields;
};

}  // namespace emu
