// The emulator's data model: bases, tables, fields, views and records as Airtable holds them.
// Cells are stored in Airtable's `cellFormat=json` shape; an empty cell is a null Json.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "json.hpp"

namespace emu {

struct Field {
  std::string id;
  std::string name;
  std::string type;
  Json options;  // null when the type has no options
  std::string description;
  size_t slot = 0;  // index into Record::cells; never reused
};

struct View {
  std::string id;
  std::string name;
  std::string type = "grid";
  // Optional view semantics used by list-records: a filter formula and a sort, both by field id.
  std::string filter_formula;
  Json sort = Json::array();                   // [{"field": fldId, "direction": "asc"|"desc"}]
  std::vector<std::string> visible_field_ids;  // empty = all
};

struct Record {
  std::string id;
  int64_t seq = 0;  // creation order: the order of a listing with no view and no sort
  int64_t created_ms = 0;
  std::vector<Json> cells;           // by Field::slot; null = empty
  std::vector<int64_t> modified_ms;  // by slot: last user edit of that cell (0 = never set)
  std::string created_by;            // usr… id
  std::string last_modified_by;
  int64_t auto_number = 0;
  int64_t comment_count = 0;
  // The record's serialised JSON (cellFormat=json, every field) keyed by name [0] and by id
  // [1], valid while the base's transaction number equals json_cache_txn (record_json.cpp).
  mutable std::array<std::string, 2> json_cache;
  mutable std::array<int64_t, 2> json_cache_txn{-1, -1};
};

struct Table {
  std::string id;
  std::string name;
  std::string description;
  std::string primary_field_id;
  std::vector<Field> fields;  // in schema order
  std::vector<View> views;
  std::map<int64_t, Record> records;  // by seq
  std::unordered_map<std::string, int64_t> seq_by_id;
  int64_t next_seq = 1;
  int64_t next_auto_number = 1;
  size_t next_slot = 0;

  [[nodiscard]] const Field* field_by_id(std::string_view field_id) const;
  [[nodiscard]] const Field* field_by_name(std::string_view name) const;
  // Id first, then exact name: Airtable accepts either wherever a field is named.
  [[nodiscard]] const Field* find_field(std::string_view id_or_name) const;
  [[nodiscard]] Field* mutable_field(std::string_view field_id);
  [[nodiscard]] const View* find_view(std::string_view id_or_name) const;
  [[nodiscard]] const Record* find_record(std::string_view record_id) const;
  [[nodiscard]] Record* mutable_record(std::string_view record_id);
};

struct Collaborator {
  std::string id;
  std::string email;
  std::string name;
};

struct Base {
  std::string id;
  std::string name;
  std::string permission_level = "create";
  std::vector<Table> tables;
  int64_t transaction_number = 0;  // webhook baseTransactionNumber

  [[nodiscard]] const Table* find_table(std::string_view id_or_name) const;
  [[nodiscard]] Table* mutable_table(std::string_view id_or_name);
  [[nodiscard]] const Table* table_by_id(std::string_view table_id) const;
};

struct Workspace {
  std::vector<Base> bases;
  std::vector<Collaborator> users;

  [[nodiscard]] const Base* find_base(std::string_view base_id) const;
  [[nodiscard]] Base* mutable_base(std::string_view base_id);
  [[nodiscard]] const Collaborator* find_user(std::string_view user_id) const;
};

}  // namespace emu
