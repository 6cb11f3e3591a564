// Data directories: one JSON file per base, read at startup (--data) or through the control
// API, and written by GET /_emulator/export. Errors name the file and the offending key.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "attachment_files.hpp"
#include "attachment_urls.hpp"
#include "datasets.hpp"
#include "field_types.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::runtime_error(where + ": " + what);
}

std::string string_at(const Json& obj, const char* key, const std::string& where, bool required) {
  if (!obj.contains(key)) {
    if (required) {
      fail(where, std::string("missing \"") + key + "\"");
    }
    return {};
  }
  if (!obj[key].is_string()) {
    fail(where + "." + key, "must be a string");
  }
  return obj[key].get<std::string>();
}

std::string id_or_new(const Json& obj, const char* prefix, IdGenerator& ids,
                      const std::string& where, std::set<std::string>& seen) {
  std::string id = string_at(obj, "id", where, false);
  if (id.empty()) {
    id = ids.next(prefix);
  } else if (!is_airtable_id(id, prefix)) {
    fail(where + ".id", "'" + id + "' is not a " + prefix + "… id (prefix + 14 letters/digits)");
  }
  if (!seen.insert(id).second) {
    fail(where + ".id", "duplicate id '" + id + "'");
  }
  return id;
}

// An attachment cell of loaded data. Each attachment gets what Airtable's always have (id,
// filename, size, type), so its URL can be signed and its file served; missing ones are made
// up as the write API makes them (size: 97 bytes per character of the url).
Json complete_attachments(const Json& value, IdGenerator& ids, const std::string& where) {
  if (!value.is_array()) {
    fail(where, "an attachment cell must be a list of attachment objects");
  }
  Json out = Json::array();
  for (const Json& item : value) {
    if (!item.is_object()) {
      fail(where, "an attachment must be an object ({id, url, filename, size, type, …})");
    }
    std::string id = string_at(item, "id", where, false);
    if (id.empty()) {
      id = ids.next("att");
    } else if (!is_safe_attachment_id(id)) {
      fail(where + ".id", "attachment id '" + id + "' may hold only letters, digits, _ and -");
    }
    Json att{{"id", id}};
    for (const auto& [key, member] : item.items()) {
      if (key != "id") {
        att[key] = member;
      }
    }
    const std::string url = string_at(item, "url", where, false);
    if (string_at(item, "filename", where, false).empty()) {
      const size_t slash = url.rfind('/');
      const std::string tail = slash == std::string::npos ? url : url.substr(slash + 1);
      att["filename"] = tail.empty() ? "attachment" : tail;
    }
    if (!item.contains("size")) {
      att["size"] = static_cast<int64_t>(url.size() * 97);
    } else if (!item["size"].is_number_unsigned()) {
      fail(where + ".size", "must be a non-negative integer");
    }
    if (string_at(item, "type", where, false).empty()) {
      att["type"] = guess_mime(att["filename"].get<std::string>());
    }
    out.push_back(std::move(att));
  }
  return out;
}

}  // namespace

Base base_from_json(const Json& json, Workspace& workspace, IdGenerator& ids, int64_t now_ms) {
  if (!json.is_object()) {
    fail("base", "must be a JSON object");
  }
  std::set<std::string> seen;
  Base base;
  base.id = id_or_new(json, "app", ids, "base", seen);
  base.name = string_at(json, "name", "base", true);
  if (json.contains("permissionLevel")) {
    base.permission_level = string_at(json, "permissionLevel", "base", false);
  }
  if (json.contains("users")) {
    for (const Json& u : json["users"]) {
      const std::string uid = string_at(u, "id", "users[]", true);
      if (workspace.find_user(uid) == nullptr) {
        workspace.users.push_back(
            {uid, string_at(u, "email", "users[]", false), string_at(u, "name", "users[]", false)});
      }
    }
  }
  if (!json.contains("tables") || !json["tables"].is_array() || json["tables"].empty()) {
    fail("base.tables", "needs a non-empty list of tables");
  }
  // Pass 1: tables and fields (links may point forward).
  base.tables.reserve(json["tables"].size());
  for (size_t t = 0; t < json["tables"].size(); ++t) {
    const Json& tj = json["tables"][t];
    const std::string where = "tables[" + std::to_string(t) + "]";
    Table table;
    table.id = id_or_new(tj, "tbl", ids, where, seen);
    table.name = string_at(tj, "name", where, true);
    table.description = string_at(tj, "description", where, false);
    if (!tj.contains("fields") || !tj["fields"].is_array() || tj["fields"].empty()) {
      fail(where + ".fields", "needs a non-empty list of fields");
    }
    for (size_t f = 0; f < tj["fields"].size(); ++f) {
      const Json& fj = tj["fields"][f];
      const std::string fw = where + ".fields[" + std::to_string(f) + "]";
      Field field;
      field.id = id_or_new(fj, "fld", ids, fw, seen);
      field.name = string_at(fj, "name", fw, true);
      field.type = string_at(fj, "type", fw, true);
      field.description = string_at(fj, "description", fw, false);
      field.options = fj.contains("options") ? fj["options"] : Json(nullptr);
      if (table.field_by_name(field.name) != nullptr) {
        fail(fw + ".name", "duplicate field name '" + field.name + "'");
      }
      field.slot = table.next_slot++;
      table.fields.push_back(std::move(field));
    }
    table.primary_field_id = string_at(tj, "primaryFieldId", where, false);
    if (table.primary_field_id.empty()) {
      table.primary_field_id = table.fields.front().id;
    } else if (table.field_by_id(table.primary_field_id) == nullptr) {
      fail(where + ".primaryFieldId", "no field has id '" + table.primary_field_id + "'");
    }
    const Json views = tj.value("views", Json::array({Json{{"name", "Grid view"}}}));
    for (size_t v = 0; v < views.size(); ++v) {
      const std::string vw = where + ".views[" + std::to_string(v) + "]";
      View view;
      view.id = id_or_new(views[v], "viw", ids, vw, seen);
      view.name = string_at(views[v], "name", vw, true);
      view.type = views[v].value("type", "grid");
      view.filter_formula = string_at(views[v], "filterFormula", vw, false);
      view.sort = views[v].value("sort", Json::array());
      table.views.push_back(std::move(view));
    }
    base.tables.push_back(std::move(table));
  }
  // Pass 2: records.
  for (size_t t = 0; t < json["tables"].size(); ++t) {
    const Json& tj = json["tables"][t];
    Table& table = base.tables[t];
    const std::string where = "tables[" + std::to_string(t) + "].records";
    for (size_t i = 0; i < tj.value("records", Json::array()).size(); ++i) {
      const Json& rj = tj["records"][i];
      const std::string rw = where + "[" + std::to_string(i) + "]";
      Record record;
      record.id = id_or_new(rj, "rec", ids, rw, seen);
      record.seq = table.next_seq++;
      record.auto_number = table.next_auto_number++;
      record.created_ms = now_ms;
      if (rj.contains("createdTime")) {
        const auto at = parse_iso(string_at(rj, "createdTime", rw, true));
        if (!at) {
          fail(rw + ".createdTime", "is not an ISO-8601 time");
        }
        record.created_ms = *at;
      }
      record.created_by =
          rj.value("createdBy", workspace.users.empty() ? "" : workspace.users.front().id);
      record.cells.resize(table.next_slot);
      record.modified_ms.resize(table.next_slot, 0);
      const Json fields = rj.value("fields", Json::object());
      if (!fields.is_object()) {
        fail(rw + ".fields", "must be an object");
      }
      for (const auto& [key, value] : fields.items()) {
        const Field* field = table.find_field(key);
        if (field == nullptr) {
          fail(rw + ".fields", "unknown field '" + key + "'");
        }
        if (is_empty_cell(value)) {
          continue;
        }
        record.cells[field->slot] =
            field->type == "multipleAttachments"
                ? complete_attachments(value, ids, rw + ".fields." + field->name)
                : value;
        record.modified_ms[field->slot] = record.created_ms;
      }
      table.seq_by_id[record.id] = record.seq;
      table.records.emplace(record.seq, std::move(record));
    }
  }
  // Links must point at records that exist.
  for (const Table& table : base.tables) {
    for (const Field& field : table.fields) {
      if (field.type != "multipleRecordLinks") {
        continue;
      }
      const Table* target = base.table_by_id(field.options.value("linkedTableId", ""));
      if (target == nullptr) {
        fail(table.name + "." + field.name, "options.linkedTableId names no table of this base");
      }
      for (const auto& [seq, record] : table.records) {
        const Json& cell = record.cells[field.slot];
        if (cell.is_null()) {
          continue;
        }
        if (!cell.is_array()) {
          fail(table.name + "." + field.name + " of " + record.id,
               "a link cell must be a list of record ids");
        }
        for (const Json& id : cell) {
          if (!id.is_string() || target->find_record(id.get<std::string>()) == nullptr) {
            fail(table.name + "." + field.name + " of " + record.id,
                 "links to unknown record " + id.dump());
          }
        }
      }
    }
  }
  return base;
}

Json base_to_json(const Workspace& workspace, const Base& base) {
  Json users = Json::array();
  for (const Collaborator& u : workspace.users) {
    users.push_back(Json{{"id", u.id}, {"email", u.email}, {"name", u.name}});
  }
  Json tables = Json::array();
  for (const Table& table : base.tables) {
    Json fields = Json::array();
    for (const Field& f : table.fields) {
      Json fj{{"id", f.id}, {"name", f.name}, {"type", f.type}};
      if (!f.description.empty()) {
        fj["description"] = f.description;
      }
      if (!f.options.is_null()) {
        fj["options"] = f.options;
      }
      fields.push_back(fj);
    }
    Json views = Json::array();
    for (const View& v : table.views) {
      Json vj{{"id", v.id}, {"name", v.name}, {"type", v.type}};
      if (!v.filter_formula.empty()) {
        vj["filterFormula"] = v.filter_formula;
      }
      if (!v.sort.empty()) {
        vj["sort"] = v.sort;
      }
      views.push_back(vj);
    }
    Json records = Json::array();
    for (const auto& [seq, record] : table.records) {
      Json cells = Json::object();
      for (const Field& f : table.fields) {
        if (f.slot < record.cells.size() && !record.cells[f.slot].is_null()) {
          cells[f.id] = record.cells[f.slot];
        }
      }
      records.push_back(Json{{"id", record.id},
                             {"createdTime", format_iso_ms(record.created_ms)},
                             {"createdBy", record.created_by},
                             {"fields", cells}});
    }
    Json tj{{"id", table.id}, {"name", table.name}};
    if (!table.description.empty()) {
      tj["description"] = table.description;
    }
    tj["primaryFieldId"] = table.primary_field_id;
    tj["fields"] = fields;
    tj["views"] = views;
    tj["records"] = records;
    tables.push_back(tj);
  }
  return Json{{"id", base.id},
              {"name", base.name},
              {"permissionLevel", base.permission_level},
              {"users", users},
              {"tables", tables}};
}

Workspace load_data_dir(const std::string& dir, IdGenerator& ids, int64_t now_ms) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error("--data " + dir + ": not a directory");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    throw std::runtime_error("--data " + dir + ": no .json files (one file per base)");
  }
  Workspace workspace;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    try {
      const Json json = Json::parse(text.str());
      Base base = base_from_json(json, workspace, ids, now_ms);
      if (workspace.find_base(base.id) != nullptr) {
        fail("id", "base " + base.id + " appears in two files");
      }
      workspace.bases.push_back(std::move(base));
    } catch (const Json::parse_error& e) {
      throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
    } catch (const std::exception& e) {
      throw std::runtime_error(file.string() + ": " + e.what());
    }
  }
  return workspace;
}

}  // namespace emu
