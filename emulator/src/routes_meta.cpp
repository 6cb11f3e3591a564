#include <mutex>
#include <shared_mutex>

#include "api_error.hpp"
#include "emulator.hpp"
#include "ids.hpp"
#include "routes.hpp"

namespace emu {

namespace {

constexpr size_t kBasesPerPage = 1000;

Json table_json(const Table& table, bool visible_field_ids) {
  Json fields = Json::array();
  for (const Field& f : table.fields) {
    fields.push_back(field_json(f));
  }
  Json views = Json::array();
  for (const View& v : table.views) {
    Json view{{"id", v.id}, {"name", v.name}, {"type", v.type}};
    if (visible_field_ids && v.type == "grid") {
      Json visible = Json::array();
      for (const Field& f : table.fields) {
        if (v.visible_field_ids.empty() ||
            std::find(v.visible_field_ids.begin(), v.visible_field_ids.end(), f.id) !=
                v.visible_field_ids.end()) {
          visible.push_back(f.id);
        }
      }
      view["visibleFieldIds"] = visible;
    }
    views.push_back(view);
  }
  Json out{{"id", table.id}, {"name", table.name}, {"primaryFieldId", table.primary_field_id}};
  if (!table.description.empty()) {
    out["description"] = table.description;
  }
  out["fields"] = fields;
  out["views"] = views;
  return out;
}

HttpResponse whoami(Emulator& emulator, const RouteMatch& match) {
  Json out{{"id", match.grant.user_id}};
  if (match.grant.has_scope("user.email:read")) {
    const std::shared_lock lock(emulator.store().mutex());
    const Collaborator* user = emulator.store().workspace().find_user(match.grant.user_id);
    out["email"] = user != nullptr && !user->email.empty() ? user->email : "emulator@example.com";
  }
  return json_response(200, out.dump());
}

HttpResponse list_bases(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  require_scope(match.grant, "schema.bases:read");
  const std::string offset = request.param("offset");
  for (const auto& [key, value] : request.query) {
    if (key != "offset") {
      throw errors::invalid_request_unknown(
          "Invalid request: parameter validation failed. Check your request data.");
    }
  }
  const std::shared_lock lock(emulator.store().mutex());
  std::vector<const Base*> visible;
  for (const Base& base : emulator.store().workspace().bases) {
    if (match.grant.can_see_base(base.id)) {
      visible.push_back(&base);
    }
  }
  size_t start = 0;
  if (!offset.empty()) {
    const size_t slash = offset.find('/');
    const std::string after = slash == std::string::npos ? "" : offset.substr(slash + 1);
    if (!is_airtable_id(offset.substr(0, slash), "itr") || !is_airtable_id(after, "app")) {
      throw errors::invalid_offset_value(offset);
    }
    start = visible.size();
    for (size_t i = 0; i < visible.size(); ++i) {
      if (visible[i]->id == after) {
        start = i + 1;
      }
    }
  }
  Json bases = Json::array();
  for (size_t i = start; i < visible.size() && bases.size() < kBasesPerPage; ++i) {
    bases.push_back(Json{{"id", visible[i]->id},
                         {"name", visible[i]->name},
                         {"permissionLevel", match.grant.permission_level}});
  }
  Json out{{"bases", bases}};
  if (start + bases.size() < visible.size()) {
    out["offset"] = emulator.ids().next("itr") + "/" + bases.back()["id"].get<std::string>();
  }
  return json_response(200, out.dump());
}

HttpResponse base_schema(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  require_scope(match.grant, "schema.bases:read");
  bool visible_ids = false;
  for (const auto& [key, value] : request.query) {
    if ((key == "include[]" || key == "include") && value == "visibleFieldIds") {
      visible_ids = true;
    } else {
      throw errors::invalid_request_unknown(
          "Invalid request: parameter validation failed. Check your request data.");
    }
  }
  const std::shared_lock lock(emulator.store().mutex());
  const Base& base = visible_base(emulator, match);
  Json tables = Json::array();
  for (const Table& t : base.tables) {
    tables.push_back(table_json(t, visible_ids));
  }
  return json_response(200, Json{{"tables", tables}}.dump());
}

WriteOptions schema_write(Emulator& emulator, const RouteMatch& match) {
  require_scope(match.grant, "schema.bases:write");
  if (!match.grant.role_at_least("create")) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  WriteOptions opts;
  opts.user_id = match.grant.user_id;
  opts.now_ms = emulator.clock().now_ms();
  return opts;
}

}  // namespace

HttpResponse route_meta(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  const auto& seg = match.segments;
  const std::string& method = request.method;
  if (seg.size() == 2 && seg[1] == "whoami" && method == "GET") {
    return whoami(emulator, match);
  }
  if (seg.size() >= 2 && seg[1] == "bases") {
    if (seg.size() == 2 && method == "GET") {
      return list_bases(emulator, match, request);
    }
    if (seg.size() == 4 && seg[3] == "tables") {
      if (method == "GET") {
        return base_schema(emulator, match, request);
      }
      if (method == "POST") {
        const WriteOptions opts = schema_write(emulator, match);
        const Json body = parse_body(request);
        const std::unique_lock lock(emulator.store().mutex());
        Base& base = visible_base(emulator, match);
        const Table& table = emulator.store().create_table(base, body, opts);
        return json_response(200, table_json(table, false).dump());
      }
    }
    if (seg.size() == 5 && seg[3] == "tables" && method == "PATCH") {
      const WriteOptions opts = schema_write(emulator, match);
      const Json body = parse_body(request);
      const std::unique_lock lock(emulator.store().mutex());
      Base& base = visible_base(emulator, match);
      Table& table = find_table(base, seg[4]);
      emulator.store().update_table(base, table, body, opts);
      return json_response(200, table_json(table, false).dump());
    }
    if (seg.size() == 6 && seg[3] == "tables" && seg[5] == "fields" && method == "POST") {
      const WriteOptions opts = schema_write(emulator, match);
      const Json body = parse_body(request);
      const std::unique_lock lock(emulator.store().mutex());
      Base& base = visible_base(emulator, match);
      Table& table = find_table(base, seg[4]);
      const Field& field = emulator.store().create_field(base, table, body, opts);
      return json_response(200, field_json(field).dump());
    }
    if (seg.size() == 7 && seg[3] == "tables" && seg[5] == "fields" && method == "PATCH") {
      const WriteOptions opts = schema_write(emulator, match);
      const Json body = parse_body(request);
      for (const auto& [key, value] : body.items()) {
        if (key != "name" && key != "description") {
          throw errors::invalid_request_unknown(
              "Invalid request: only a field's name and description can be updated");
        }
      }
      const std::unique_lock lock(emulator.store().mutex());
      Base& base = visible_base(emulator, match);
      Table& table = find_table(base, seg[4]);
      const Field& field = emulator.store().update_field(base, table, seg[6], body, opts);
      return json_response(200, field_json(field).dump());
    }
  }
  throw errors::not_found();
}

}  // namespace emu
