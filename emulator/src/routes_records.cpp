#include <mutex>
#include <shared_mutex>

#include "api_error.hpp"
#include "cell_resolver.hpp"
#include "emulator.hpp"
#include "ids.hpp"
#include "list_records.hpp"
#include "record_json.hpp"
#include "routes.hpp"

namespace emu {

namespace {

constexpr size_t kMaxRecordsPerWrite = 10;

void require_role(const TokenGrant& grant, const std::string& level) {
  if (!grant.role_at_least(level)) {
    throw errors::invalid_permissions("You are not permitted to perform this operation");
  }
}

RenderOptions write_render_options(const Json& body, const HttpRequest& request) {
  RenderOptions render;
  if (body.contains("returnFieldsByFieldId")) {
    render.by_field_id =
        body["returnFieldsByFieldId"].is_boolean() && body["returnFieldsByFieldId"].get<bool>();
  }
  const std::string param = request.param("returnFieldsByFieldId");
  if (param == "true" || param == "1") {
    render.by_field_id = true;
  }
  return render;
}

bool typecast_of(const Json& body) {
  return body.contains("typecast") && body["typecast"].is_boolean() && body["typecast"].get<bool>();
}

std::string records_array(const CellResolver& resolver, const Table& table,
                          const std::vector<std::string>& ids, const RenderOptions& render) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    append_record_json(out, resolver, *table.find_record(ids[i]), render);
  }
  return out + "]";
}

const Json& records_of(const Json& body) {
  if (!body.contains("records") || !body["records"].is_array() || body["records"].empty()) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data.");
  }
  if (body["records"].size() > kMaxRecordsPerWrite) {
    throw errors::invalid_records(
        "You can only create, update or delete up to 10 records per "
        "request");
  }
  return body["records"];
}

WriteOptions write_options(Emulator& emulator, const RouteMatch& match, const Json& body) {
  WriteOptions opts;
  opts.typecast = typecast_of(body);
  opts.user_id = match.grant.user_id;
  opts.now_ms = emulator.clock().now_ms();
  return opts;
}

HttpResponse list(Emulator& emulator, const RouteMatch& match, const HttpRequest& request,
                  bool post) {
  require_scope(match.grant, "data.records:read");
  const ListOptions options = post ? list_options_from_body(parse_body(request), request.query)
                                   : list_options_from_query(request.query);
  const std::shared_lock lock(emulator.store().mutex());
  Base& base = visible_base(emulator, match);
  const Table& table = find_table(base, match.segments[1]);
  const int64_t now = emulator.clock().now_ms();
  const CellResolver resolver(emulator.store().workspace(), base, table, now);
  const AttachmentUrlContext urls = emulator.attachment_urls(request);
  const ListContext ctx{resolver, emulator.iterators(), emulator.ids(), now, &urls};
  return json_response(200, list_records(ctx, options));
}

HttpResponse get_record(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  require_scope(match.grant, "data.records:read");
  const ListOptions options = record_options_from_query(request.query);
  const std::shared_lock lock(emulator.store().mutex());
  Base& base = visible_base(emulator, match);
  const Table& table = find_table(base, match.segments[1]);
  const std::string& record_id = match.segments[2];
  // Airtable's known quirk: a record of another table of the same base is returned too.
  const Table* owner = &table;
  const Record* record = table.find_record(record_id);
  for (const Table& other : base.tables) {
    if (record == nullptr) {
      record = other.find_record(record_id);
      owner = &other;
    }
  }
  if (record == nullptr) {
    throw errors::record_not_found(record_id);
  }
  RenderOptions render;
  render.by_field_id = options.by_field_id;
  render.string_format = options.string_format;
  render.time_zone = options.time_zone;
  render.user_locale = options.user_locale;
  const AttachmentUrlContext urls = emulator.attachment_urls(request);
  render.attachment_urls = &urls;
  const CellResolver resolver(emulator.store().workspace(), base, *owner,
                              emulator.clock().now_ms());
  return json_response(200, record_json(resolver, *record, render));
}

HttpResponse create(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  require_scope(match.grant, "data.records:write");
  require_role(match.grant, "edit");
  const Json body = parse_body(request);
  const bool single = body.contains("fields") && !body.contains("records");
  const Json items = single ? Json::array({Json{{"fields", body["fields"]}}}) : records_of(body);
  const std::unique_lock lock(emulator.store().mutex());
  Base& base = visible_base(emulator, match);
  Table& table = find_table(base, match.segments[1]);
  const WriteOptions opts = write_options(emulator, match, body);
  const auto ids = emulator.store().create_records(base, table, items, opts);
  const CellResolver resolver(emulator.store().workspace(), base, table, opts.now_ms);
  const RenderOptions render = write_render_options(body, request);
  if (single) {
    return json_response(200, record_json(resolver, *table.find_record(ids.front()), render));
  }
  return json_response(200, R"({"records":)" + records_array(resolver, table, ids, render) + "}");
}

HttpResponse update(Emulator& emulator, const RouteMatch& match, const HttpRequest& request,
                    bool replace_all) {
  require_scope(match.grant, "data.records:write");
  require_role(match.grant, "edit");
  const Json body = parse_body(request);
  const std::unique_lock lock(emulator.store().mutex());
  Base& base = visible_base(emulator, match);
  Table& table = find_table(base, match.segments[1]);
  const WriteOptions opts = write_options(emulator, match, body);
  const RenderOptions render = write_render_options(body, request);
  if (match.segments.size() == 3) {
    if (!body.contains("fields")) {
      throw errors::invalid_request_unknown(
          "Invalid request: parameter validation failed. Check your request data.");
    }
    if (table.find_record(match.segments[2]) == nullptr) {
      throw errors::record_not_found(match.segments[2]);  // one record: 404, not 422
    }
    const Json items = Json::array({Json{{"id", match.segments[2]}, {"fields", body["fields"]}}});
    const auto ids = emulator.store().update_records(base, table, items, replace_all, opts);
    const CellResolver resolver(emulator.store().workspace(), base, table, opts.now_ms);
    return json_response(200, record_json(resolver, *table.find_record(ids.front()), render));
  }
  const Json& items = records_of(body);
  if (body.contains("performUpsert")) {
    // Upsert: match on fieldsToMergeOn; update matches, create the rest.
    const Json& merge_on = body["performUpsert"].value("fieldsToMergeOn", Json::array());
    if (!merge_on.is_array() || merge_on.empty() || merge_on.size() > 3) {
      throw errors::invalid_request_unknown(
          "Invalid request: parameter validation failed. Check your request data.");
    }
    const CellResolver before(emulator.store().workspace(), base, table, opts.now_ms);
    Json to_create = Json::array();
    Json to_update = Json::array();
    for (const Json& item : items) {
      const Json& fields = item.value("fields", Json::object());
      std::string found;
      for (const auto& [seq, record] : table.records) {
        bool all = true;
        for (const Json& key : merge_on) {
          const Field* field = table.find_field(key.get<std::string>());
          if (field == nullptr) {
            throw errors::unknown_field_name(key.get<std::string>());
          }
          const Json wanted = fields.contains(field->name) ? fields[field->name]
                              : fields.contains(field->id) ? fields[field->id]
                                                           : Json(nullptr);
          if (before.cell(record, *field) != wanted) {
            all = false;
            break;
          }
        }
        if (all) {
          found = record.id;
          break;
        }
      }
      if (found.empty()) {
        to_create.push_back(item);
      } else {
        to_update.push_back(Json{{"id", found}, {"fields", fields}});
      }
    }
    std::vector<std::string> updated;
    std::vector<std::string> created;
    if (!to_update.empty()) {
      updated = emulator.store().update_records(base, table, to_update, replace_all, opts);
    }
    if (!to_create.empty()) {
      created = emulator.store().create_records(base, table, to_create, opts);
    }
    std::vector<std::string> all = updated;
    all.insert(all.end(), created.begin(), created.end());
    const CellResolver resolver(emulator.store().workspace(), base, table, opts.now_ms);
    return json_response(200, R"({"records":)" + records_array(resolver, table, all, render) +
                                  R"(,"createdRecords":)" + Json(created).dump() +
                                  R"(,"updatedRecords":)" + Json(updated).dump() + "}");
  }
  const auto ids = emulator.store().update_records(base, table, items, replace_all, opts);
  const CellResolver resolver(emulator.store().workspace(), base, table, opts.now_ms);
  return json_response(200, R"({"records":)" + records_array(resolver, table, ids, render) + "}");
}

HttpResponse remove(Emulator& emulator, const RouteMatch& match, const HttpRequest& request) {
  require_scope(match.grant, "data.records:write");
  require_role(match.grant, "edit");
  std::vector<std::string> ids;
  if (match.segments.size() == 3) {
    ids.push_back(match.segments[2]);
  } else {
    ids = request.params("records[]");
    const auto plain = request.params("records");
    ids.insert(ids.end(), plain.begin(), plain.end());
    if (ids.empty() || ids.size() > kMaxRecordsPerWrite) {
      throw errors::invalid_records(ids.empty() ? "No records to delete"
                                                : "You can only delete up to 10 records per "
                                                  "request");
    }
  }
  const std::unique_lock lock(emulator.store().mutex());
  Base& base = visible_base(emulator, match);
  Table& table = find_table(base, match.segments[1]);
  WriteOptions opts;
  opts.user_id = match.grant.user_id;
  opts.now_ms = emulator.clock().now_ms();
  emulator.store().delete_records(base, table, ids, opts);
  if (match.segments.size() == 3) {
    return json_response(200, Json{{"id", ids.front()}, {"deleted", true}}.dump());
  }
  Json out = Json::array();
  for (const std::string& id : ids) {
    out.push_back(Json{{"id", id}, {"deleted", true}});
  }
  return json_response(200, Json{{"records", out}}.dump());
}

}  // namespace

HttpResponse route_records(Emulator& emulator, const RouteMatch& match,
                           const HttpRequest& request) {
  const auto& seg = match.segments;
  const std::string& method = request.method;
  if (seg.size() < 2 || seg.size() > 3 || !is_airtable_id(seg[0], "app")) {
    throw errors::not_found();
  }
  if (seg.size() == 2) {
    if (method == "GET") {
      return list(emulator, match, request, false);
    }
    if (method == "POST") {
      return create(emulator, match, request);
    }
    if (method == "PATCH" || method == "PUT") {
      return update(emulator, match, request, method == "PUT");
    }
    if (method == "DELETE") {
      return remove(emulator, match, request);
    }
    throw errors::not_found();
  }
  if (seg[2] == "listRecords") {
    if (method == "POST") {
      return list(emulator, match, request, true);
    }
    throw errors::not_found();
  }
  if (method == "GET") {
    return get_record(emulator, match, request);
  }
  if (method == "PATCH" || method == "PUT") {
    return update(emulator, match, request, method == "PUT");
  }
  if (method == "DELETE") {
    return remove(emulator, match, request);
  }
  throw errors::not_found();
}

}  // namespace emu
