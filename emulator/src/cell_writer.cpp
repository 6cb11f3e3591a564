#include "cell_writer.hpp"

#include <cmath>
#include <string>

#include "api_error.hpp"
#include "attachment_urls.hpp"
#include "field_types.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

ApiError cannot_accept(const Field& field, const Json& value) {
  return errors::invalid_value_for_column("Field \"" + field.name +
                                          "\" cannot accept the provided value: " + value.dump());
}

std::optional<double> as_number(const Json& value, bool typecast) {
  if (value.is_number()) {
    return value.get<double>();
  }
  if (typecast && value.is_string()) {
    try {
      size_t used = 0;
      const std::string text = value.get<std::string>();
      const double out = std::stod(text, &used);
      if (used == text.size()) {
        return out;
      }
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

std::string as_text(const Field& field, const Json& value, bool typecast) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (typecast && (value.is_number() || value.is_boolean())) {
    return value.dump();
  }
  throw cannot_accept(field, value);
}

Json select_choice(WriteContext& ctx, Field& field, const Json& value) {
  const std::string name = as_text(field, value, ctx.typecast);
  if (!field.options.is_object()) {
    field.options = Json::object();
  }
  if (!field.options.contains("choices")) {
    field.options["choices"] = Json::array();
  }
  for (const Json& choice : field.options["choices"]) {
    if (choice.value("name", "") == name || choice.value("id", "") == name) {
      return choice["name"];
    }
  }
  if (!ctx.typecast) {
    throw ApiError(422, Json{{"error", Json{{"type", "INVALID_MULTIPLE_CHOICE_OPTIONS"},
                                            {"message",
                                             "Insufficient permissions to create new "
                                             "select option \"\"" +
                                                 name + "\"\""}}}});
  }
  field.options["choices"].push_back(
      Json{{"id", ctx.ids.next("sel")}, {"name", name}, {"color", "blueLight2"}});
  return name;
}

Json collaborator(WriteContext& ctx, const Field& field, const Json& value) {
  const Collaborator* user = nullptr;
  if (value.is_object() && value.contains("id")) {
    user = ctx.workspace.find_user(value["id"].get<std::string>());
  } else if (value.is_object() && value.contains("email")) {
    for (const Collaborator& u : ctx.workspace.users) {
      if (u.email == value["email"].get<std::string>()) {
        user = &u;
      }
    }
  } else if (ctx.typecast && value.is_string()) {
    for (const Collaborator& u : ctx.workspace.users) {
      if (u.email == value.get<std::string>() || u.name == value.get<std::string>()) {
        user = &u;
      }
    }
  }
  if (user == nullptr) {
    throw cannot_accept(field, value);
  }
  Json out{{"id", user->id}, {"email", user->email}};
  if (!user->name.empty()) {
    out["name"] = user->name;
  }
  return out;
}

ApiError invalid_attachment(const Field& field) {
  return {422, Json{{"error", Json{{"type", "INVALID_ATTACHMENT_OBJECT"},
                                   {"message", "Invalid attachment object for field \"" +
                                                   field.name + "\""}}}}};
}

// An attachment named by id only: the one already in the record's cell is kept as it is;
// otherwise one the emulator knows (an upload, or one of another cell) is copied in.
Json existing_attachment(WriteContext& ctx, const Field& field, const std::string& id) {
  if (ctx.record != nullptr && field.slot < ctx.record->cells.size() &&
      ctx.record->cells[field.slot].is_array()) {
    for (const Json& item : ctx.record->cells[field.slot]) {
      if (is_attachment_object(item) && item["id"] == id) {
        return item;
      }
    }
  }
  if (ctx.attachments != nullptr) {
    if (const auto file = ctx.attachments->find(id)) {
      return attachment_cell_object(id, *file);
    }
  }
  throw invalid_attachment(field);  // unknown id: refused (the conservative reading)
}

Json attachment(WriteContext& ctx, const Field& field, const Json& value) {
  if (!value.is_object() || (!value.contains("url") && !value.contains("id"))) {
    throw invalid_attachment(field);
  }
  if (value.contains("id") && !value.contains("url")) {
    if (!value["id"].is_string()) {
      throw invalid_attachment(field);
    }
    return existing_attachment(ctx, field, value["id"].get<std::string>());
  }
  if (!value["url"].is_string() || (value.contains("filename") && !value["filename"].is_string())) {
    throw invalid_attachment(field);
  }
  const std::string url = value["url"].get<std::string>();
  std::string filename = value.value("filename", "");
  if (filename.empty()) {
    const size_t slash = url.rfind('/');
    filename = slash == std::string::npos ? url : url.substr(slash + 1);
  }
  // The emulator cannot fetch the URL (it never reaches the internet), so the size is made up,
  // deterministically; the download route serves that many bytes.
  Json out{{"id", ctx.ids.next("att")},
           {"url", url},
           {"filename", filename},
           {"size", static_cast<int64_t>(url.size() * 97)},
           {"type", guess_mime(filename)}};
  if (ctx.attachments != nullptr) {
    ctx.attachments->learn(out);
  }
  return out;
}

}  // namespace

Json normalize_cell(WriteContext& ctx, Field& field, const Json& value) {
  if (is_computed_type(field.type)) {
    throw errors::invalid_value_for_column("Field \"" + field.name +
                                           "\" cannot accept a value because the field is "
                                           "computed");
  }
  if (is_empty_cell(value)) {
    return nullptr;
  }
  const std::string& type = field.type;
  if (type == "singleLineText" || type == "multilineText" || type == "richText" ||
      type == "email" || type == "url" || type == "phoneNumber" || type == "simpleText") {
    return as_text(field, value, ctx.typecast);
  }
  if (type == "number" || type == "currency" || type == "percent" || type == "duration") {
    const auto number = as_number(value, ctx.typecast);
    if (!number || !std::isfinite(*number)) {
      throw cannot_accept(field, value);
    }
    const double rounded = std::round(*number);
    if (rounded == *number && std::fabs(*number) < 9.0e15) {
      return static_cast<int64_t>(rounded);
    }
    return *number;
  }
  if (type == "rating") {
    const auto number = as_number(value, ctx.typecast);
    const int64_t max = field.options.is_object() ? field.options.value("max", 5) : 5;
    if (!number || *number != std::round(*number) || *number < 1 ||
        *number > static_cast<double>(max)) {
      throw cannot_accept(field, value);
    }
    return static_cast<int64_t>(*number);
  }
  if (type == "checkbox") {
    if (value.is_boolean()) {
      return value.get<bool>() ? Json(true) : Json(nullptr);
    }
    if (ctx.typecast) {
      return Json(true);
    }
    throw cannot_accept(field, value);
  }
  if (type == "date" || type == "dateTime") {
    if (!value.is_string()) {
      throw cannot_accept(field, value);
    }
    const auto at = parse_iso(value.get<std::string>());
    if (!at) {
      throw cannot_accept(field, value);
    }
    return type == "date" ? format_date(*at) : format_iso_ms(*at);
  }
  if (type == "singleSelect" || type == "externalSyncSource") {
    return select_choice(ctx, field, value);
  }
  if (type == "multipleSelects") {
    Json list = Json::array();
    const Json items = value.is_array() ? value : Json::array({value});
    if (!value.is_array() && !ctx.typecast) {
      throw cannot_accept(field, value);
    }
    for (const Json& item : items) {
      Json name = select_choice(ctx, field, item);
      if (std::find(list.begin(), list.end(), name) == list.end()) {
        list.push_back(std::move(name));
      }
    }
    return list;
  }
  if (type == "multipleRecordLinks") {
    if (!value.is_array()) {
      throw cannot_accept(field, value);
    }
    const std::string linked_id = field.options.value("linkedTableId", "");
    const Table* linked = ctx.base.table_by_id(linked_id);
    if (linked == nullptr && linked_id == ctx.table.id) {
      linked = &ctx.table;
    }
    Json ids = Json::array();
    for (const Json& item : value) {
      const std::string rec = item.is_string()   ? item.get<std::string>()
                              : item.is_object() ? item.value("id", "")
                                                 : "";
      if (linked == nullptr || linked->find_record(rec) == nullptr) {
        throw ApiError(422,
                       Json{{"error", Json{{"type", "ROW_DOES_NOT_EXIST"},
                                           {"message", "Record ID " + rec + " does not exist"}}}});
      }
      if (std::find(ids.begin(), ids.end(), rec) == ids.end()) {
        ids.push_back(rec);
      }
    }
    return ids;
  }
  if (type == "singleCollaborator") {
    return collaborator(ctx, field, value);
  }
  if (type == "multipleCollaborators") {
    if (!value.is_array()) {
      throw cannot_accept(field, value);
    }
    Json list = Json::array();
    for (const Json& item : value) {
      list.push_back(collaborator(ctx, field, item));
    }
    return list;
  }
  if (type == "multipleAttachments") {
    if (!value.is_array()) {
      throw cannot_accept(field, value);
    }
    Json list = Json::array();
    for (const Json& item : value) {
      list.push_back(attachment(ctx, field, item));
    }
    return list;
  }
  if (type == "barcode") {
    if (!value.is_object() || !value.contains("text")) {
      throw cannot_accept(field, value);
    }
    return value;
  }
  return value;  // unknown or future types: stored verbatim
}

}  // namespace emu
