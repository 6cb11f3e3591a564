#include "json_io.hpp"

#include "airtable_lakeflow/arrow/data_type.hpp"

namespace airtable_lakeflow::capi {

namespace {

Error config_error(const std::string& message) { return {ErrorKind::kConfig, message}; }

std::string get_string(const Json& object, const char* key, const std::string& fallback = {}) {
  if (!object.contains(key) || object[key].is_null()) {
    return fallback;
  }
  if (!object[key].is_string()) {
    throw config_error(std::string("Option '") + key + "' must be a string.");
  }
  return object[key].get<std::string>();
}

int64_t get_int(const Json& object, const char* key, int64_t fallback, int64_t low, int64_t high) {
  if (!object.contains(key) || object[key].is_null()) {
    return fallback;
  }
  if (!object[key].is_number_integer()) {
    throw config_error(std::string("Option '") + key + "' must be a whole number.");
  }
  const auto value = object[key].get<int64_t>();
  if (value < low || value > high) {
    throw config_error(std::string("Option '") + key + "' must be between " + std::to_string(low) +
                       " and " + std::to_string(high) + ", not " + std::to_string(value) + ".");
  }
  return value;
}

void reject_unknown(const Json& object, std::initializer_list<const char*> known,
                    const char* what) {
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    std::string allowed;
    for (const char* k : known) {
      ok = ok || key == k;
      allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    }
    if (!ok) {
      std::string message = std::string("Unknown ") + what + " option '" + key;
      message += "'. Allowed: " + allowed + ".";
      throw config_error(message);
    }
  }
}

}  // namespace

std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string valid_utf8(const std::string& text) {
  return Json::parse(dump(Json(text))).get<std::string>();
}

Json parse_json(const char* text, const char* what) {
  Json out = Json::parse(text == nullptr ? "{}" : text, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    throw config_error(std::string("The ") + what + " is not a JSON object.");
  }
  return out;
}

SessionConfig session_config(const Json& config) {
  reject_unknown(
      config,
      {"token", "base_url", "ca_bundle", "connect_timeout_ms", "read_timeout_s", "max_attempts",
       "rate_limit_pause_s", "user_agent", "throttle", "schema_cache_s", "requests_per_second"},
      "connection");
  SessionConfig out;
  out.client.token = get_string(config, "token");
  if (out.client.token.empty()) {
    throw Error(ErrorKind::kAuthentication,
                "No Airtable token: set AIRTABLE_TOKEN (or pass a token file). Create a personal "
                "access token at https://airtable.com/create/tokens.");
  }
  out.client.base_url = get_string(config, "base_url", out.client.base_url);
  out.transport.ca_bundle = get_string(config, "ca_bundle");
  out.transport.user_agent = get_string(config, "user_agent");
  out.transport.connect_timeout_ms =
      get_int(config, "connect_timeout_ms", out.transport.connect_timeout_ms, 1, 600'000);
  out.transport.read_timeout_s =
      get_int(config, "read_timeout_s", out.transport.read_timeout_s, 1, 3600);
  out.client.policy.max_attempts =
      static_cast<int>(get_int(config, "max_attempts", out.client.policy.max_attempts, 1, 100));
  out.schema_cache = std::chrono::seconds(get_int(config, "schema_cache_s", 5, 0, 3600));
  if (config.contains("throttle")) {
    if (!config["throttle"].is_boolean()) {
      throw config_error("Option 'throttle' must be true or false.");
    }
    out.client.throttle = config["throttle"].get<bool>();
  }
  if (config.contains("rate_limit_pause_s") && !config["rate_limit_pause_s"].is_null()) {
    // Airtable's penalty is 30 s; shorter pauses only make sense against the emulator.
    const Json& pause = config["rate_limit_pause_s"];
    if (!pause.is_number() || pause.get<double>() < 0.05 || pause.get<double>() > 3600) {
      throw config_error(
          "Option 'rate_limit_pause_s' must be a number of seconds from 0.05 to "
          "3600 (Airtable's own penalty is 30).");
    }
    out.client.policy.rate_limit_pause = std::chrono::duration_cast<http::Duration>(
        std::chrono::duration<double>(pause.get<double>()));
  }
  if (config.contains("requests_per_second") && !config["requests_per_second"].is_null()) {
    // This reader's share of each base's 5/s (5 / hosts when hosts cannot see each other).
    const Json& rate = config["requests_per_second"];
    if (!rate.is_number() || !(rate.get<double>() > 0) || rate.get<double>() > 5) {
      throw config_error(
          "Option 'requests_per_second' must be a number of requests per second per base above "
          "0 and at most 5 (Airtable's limit), not " +
          dump(rate) +
          ". On a cluster whose hosts read one base at once, give each host 5 divided by the "
          "number of hosts.");
    }
    out.client.requests_per_second = rate.get<double>();
  }
  return out;
}

read::ReadRequest read_request(const Json& request) {
  reject_unknown(request,
                 {"base_id", "table", "fields", "view", "formula", "sort", "max_records",
                  "batch_rows", "page_size"},
                 "read");
  read::ReadRequest out;
  out.base_id = get_string(request, "base_id");
  out.table = get_string(request, "table");
  out.view = get_string(request, "view");
  out.formula = get_string(request, "formula");
  if (request.contains("fields") && !request["fields"].is_null()) {
    if (!request["fields"].is_array()) {
      throw config_error("Option 'fields' must be a list of field names or ids.");
    }
    for (const Json& field : request["fields"]) {
      if (!field.is_string()) {
        throw config_error("Option 'fields' must be a list of field names or ids.");
      }
      out.fields.push_back(field.get<std::string>());
    }
  }
  if (request.contains("sort") && !request["sort"].is_null()) {
    for (const Json& key : request["sort"]) {
      if (!key.is_object() || !key.contains("field") || !key["field"].is_string()) {
        throw config_error("Option 'sort' must be a list of {\"field\", \"direction\"}.");
      }
      const std::string direction = get_string(key, "direction", "asc");
      if (direction != "asc" && direction != "desc") {
        throw config_error("A sort direction must be 'asc' or 'desc', not '" + direction + "'.");
      }
      out.sort.push_back({key["field"].get<std::string>(), direction == "desc"});
    }
  }
  if (request.contains("max_records") && !request["max_records"].is_null()) {
    out.max_records = get_int(request, "max_records", 0, 1, INT64_MAX);
  }
  out.batch_rows = get_int(request, "batch_rows", out.batch_rows, 1, 1'000'000);
  out.page_size = static_cast<int>(get_int(request, "page_size", out.page_size, 1, 100));
  return out;
}

Json to_json(const api::Whoami& whoami) {
  Json out = {{"id", whoami.id}};
  if (!whoami.email.empty()) {
    out["email"] = whoami.email;
  }
  return out;
}

Json to_json(const std::vector<api::BaseInfo>& bases) {
  Json list = Json::array();
  for (const api::BaseInfo& base : bases) {
    list.push_back(
        {{"id", base.id}, {"name", base.name}, {"permission_level", base.permission_level}});
  }
  return {{"bases", list}};
}

Json to_json(const std::vector<api::TableInfo>& tables) {
  Json list = Json::array();
  for (const api::TableInfo& table : tables) {
    Json fields = Json::array();
    for (const api::FieldInfo& field : table.fields) {
      fields.push_back({{"id", field.id},
                        {"name", field.name},
                        {"type", field.type},
                        {"options", Json::parse(field.options_json, nullptr, false)}});
    }
    Json views = Json::array();
    for (const api::ViewInfo& view : table.views) {
      views.push_back({{"id", view.id}, {"name", view.name}, {"type", view.type}});
    }
    list.push_back({{"id", table.id},
                    {"name", table.name},
                    {"primary_field_id", table.primary_field_id},
                    {"description", table.description},
                    {"fields", fields},
                    {"views", views}});
  }
  return {{"tables", list}};
}

Json to_json(const schema::TableLayout& layout) {
  Json columns = Json::array();
  for (const schema::Column& column : layout.columns) {
    const arrow::DataType type = schema::arrow_type(column.cell);
    columns.push_back({{"name", column.name},
                       {"field_id", column.field_id},
                       {"field_name", column.field_name},
                       {"airtable_type", column.airtable_type},
                       {"result_type", column.result_type},
                       {"arrow_type", arrow::display_name(type)},
                       {"spark_type", arrow::spark_ddl(type)},
                       {"note", column.note}});
  }
  return {{"table_id", layout.table_id},
          {"table_name", layout.table_name},
          {"columns", columns},
          {"spark_schema", Json::parse(arrow::spark_schema_json(layout.arrow_fields()))}};
}

Json to_json(const read::ReadProgress& progress, const http::ClientStats& stats) {
  return {{"pages", progress.pages.load()},
          {"records", progress.records.load()},
          {"restarts", progress.restarts.load()},
          {"malformed_pages", progress.malformed_pages.load()},
          {"rescued_cells", progress.rescued_cells.load()},
          {"requests", stats.requests.load()},
          {"retries", stats.retries.load()},
          {"rate_limited", stats.rate_limited.load()},
          {"throttle_wait_ms", stats.throttle_wait_ms.load()}};
}

std::string error_text(const Error& error, const std::string& token) {
  // Redacted value by value: redacting the JSON text would break it wherever the token
  // matches its syntax (a quote) or its keys.
  Json out = {{"kind", error_kind_name(error.kind())},
              {"message", http::redact(error.what(), token)}};
  if (error.http_status() != 0) {
    out["http_status"] = error.http_status();
  }
  if (!error.airtable_type().empty()) {
    out["airtable_type"] = http::redact(error.airtable_type(), token);
  }
  return dump(out);
}

}  // namespace airtable_lakeflow::capi
