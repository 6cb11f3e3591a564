// The control API under /_emulator/: test and demo tooling, never part of Airtable's surface.
#include <openssl/evp.h>

#include <mutex>
#include <shared_mutex>

#include "api_error.hpp"
#include "attachment_files.hpp"
#include "datasets.hpp"
#include "emulator.hpp"
#include "routes.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

ApiError bad_control_request(const std::string& message) {
  return {400, Json{{"error", Json{{"type", "EMULATOR_BAD_REQUEST"}, {"message", message}}}}};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = std::string("/_emulator/").size();
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    out.push_back(url_decode(std::string_view(path).substr(start, end - start), false));
    start = end + 1;
  }
  while (!out.empty() && out.back().empty()) {
    out.pop_back();
  }
  return out;
}

Json config_json(Emulator& emulator) {
  const RateLimitConfig limits = emulator.rate_limiter().config();
  return Json{{"rate_limit", limits.enabled},
              {"per_base_per_second", limits.per_base_per_second},
              {"per_token_per_second", limits.per_token_per_second},
              {"penalty_seconds", static_cast<double>(limits.penalty_ms) / 1000.0},
              {"monthly_quota", limits.monthly_quota},
              {"iterator_ttl_seconds", static_cast<double>(emulator.iterators().ttl_ms()) / 1000.0},
              {"faults", emulator.faults().describe()},
              {"webhook_split", emulator.webhooks().split()},
              {"attachment_url_ttl_seconds",
               static_cast<double>(emulator.attachment_url_ttl_ms()) / 1000.0}};
}

HttpResponse configure(Emulator& emulator, const Json& body) {
  RateLimitConfig limits = emulator.rate_limiter().config();
  try {
    for (const auto& [key, value] : body.items()) {
      if (key == "rate_limit") {
        limits.enabled = value.get<bool>();
      } else if (key == "per_base_per_second") {
        limits.per_base_per_second = value.get<int>();
      } else if (key == "per_token_per_second") {
        limits.per_token_per_second = value.get<int>();
      } else if (key == "penalty_seconds") {
        limits.penalty_ms = static_cast<int64_t>(value.get<double>() * 1000);
      } else if (key == "monthly_quota") {
        limits.monthly_quota = value.get<int64_t>();
      } else if (key == "iterator_ttl_seconds") {
        emulator.iterators().set_ttl_ms(static_cast<int64_t>(value.get<double>() * 1000));
      } else if (key == "faults") {
        emulator.faults().set_rules(parse_fault_spec(value.get<std::string>()));
      } else if (key == "latency_ms") {
        emulator.faults().set_latency(parse_latency(value.get<std::string>()));
      } else if (key == "download_latency_ms") {
        emulator.faults().set_download_latency(parse_latency(value.get<std::string>()));
      } else if (key == "attachment_url_ttl_seconds") {
        if (!value.is_number() || value.get<double>() < 0) {
          throw bad_control_request("attachment_url_ttl_seconds needs a non-negative number");
        }
        emulator.set_attachment_url_ttl_ms(static_cast<int64_t>(value.get<double>() * 1000));
      } else if (key == "webhook_split") {
        if (!value.is_number_unsigned()) {
          throw bad_control_request("webhook_split needs a non-negative integer (0 = off)");
        }
        emulator.webhooks().set_split(value.get<size_t>());
      } else {
        throw bad_control_request(
            "unknown config key '" + key +
            "' (known: rate_limit, per_base_per_second, per_token_per_second, penalty_seconds, "
            "monthly_quota, iterator_ttl_seconds, faults, latency_ms, webhook_split, "
            "attachment_url_ttl_seconds, download_latency_ms)");
      }
    }
  } catch (const Json::exception& e) {
    throw bad_control_request(std::string("config value has the wrong type: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw bad_control_request(e.what());
  }
  emulator.rate_limiter().configure(limits);
  emulator.rate_limiter().reset();
  return json_response(200, config_json(emulator).dump());
}

HttpResponse field_control(Emulator& emulator, const std::vector<std::string>& seg,
                           const HttpRequest& request) {
  // bases/{B}/tables/{T}/fields[/{F}]
  const std::unique_lock lock(emulator.store().mutex());
  Base* base = emulator.store().workspace().mutable_base(seg[1]);
  if (base == nullptr) {
    throw bad_control_request("no base " + seg[1]);
  }
  Table* table = base->mutable_table(seg[3]);
  if (table == nullptr) {
    throw bad_control_request("no table " + seg[3] + " in base " + seg[1]);
  }
  WriteOptions opts;
  opts.source = "client";
  opts.now_ms = emulator.clock().now_ms();
  const Json body = parse_body(request);
  if (seg.size() == 5 && request.method == "POST") {
    return json_response(
        200, field_json(emulator.store().create_field(*base, *table, body, opts)).dump());
  }
  if (seg.size() == 6 && request.method == "PATCH") {
    if (!body.contains("type") || !body["type"].is_string()) {
      throw bad_control_request("body needs {\"type\": …, \"options\"?: …}");
    }
    return json_response(200, field_json(emulator.store().convert_field(
                                             *base, *table, seg[5], body["type"].get<std::string>(),
                                             body.value("options", Json(nullptr)), opts))
                                  .dump());
  }
  if (seg.size() == 6 && request.method == "DELETE") {
    emulator.store().delete_field(*base, *table, seg[5], opts);
    return json_response(200, Json{{"id", seg[5]}, {"deleted", true}}.dump());
  }
  throw bad_control_request("unknown field control route");
}

// bases/{B}/tables/{T}: Airtable's public API cannot delete a table; its UI can.
HttpResponse delete_table(Emulator& emulator, const std::string& base_id,
                          const std::string& table_key) {
  const std::unique_lock lock(emulator.store().mutex());
  Base* base = emulator.store().workspace().mutable_base(base_id);
  if (base == nullptr) {
    throw bad_control_request("no base " + base_id);
  }
  const Table* table = base->find_table(table_key);
  if (table == nullptr) {
    throw bad_control_request("no table " + table_key + " in base " + base_id);
  }
  if (base->tables.size() == 1) {
    throw bad_control_request("the last table of a base cannot be deleted");
  }
  const std::string table_id = table->id;
  WriteOptions opts;
  opts.source = "client";
  opts.now_ms = emulator.clock().now_ms();
  emulator.store().delete_table(*base, table_id, opts);
  return json_response(200, Json{{"id", table_id}, {"deleted", true}}.dump());
}

// Standard base64 (padding optional); nullopt when it is not base64.
std::optional<std::string> decode_base64(const std::string& text) {
  std::string padded = text;
  while (padded.size() % 4 != 0) {
    padded.push_back('=');
  }
  std::string out(padded.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(padded.data()),
                                      static_cast<int>(padded.size()));
  if (written < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(written));
  // EVP_DecodeBlock decodes '=' padding as zero bytes.
  for (size_t i = padded.size(); i > 0 && padded[i - 1] == '='; --i) {
    out.pop_back();
  }
  return out;
}

// One attachment of POST attachments: {filename, type?, size?, content_base64?, width?,
// height?}.
AttachmentFile parse_upload(const Json& spec) {
  constexpr int64_t kDefaultSize = 1024;
  if (!spec.is_object() || !spec.contains("filename") || !spec["filename"].is_string() ||
      spec["filename"].get<std::string>().empty()) {
    throw bad_control_request("an attachment needs {\"filename\": non-empty string}");
  }
  for (const auto& [key, value] : spec.items()) {
    if (key != "filename" && key != "type" && key != "size" && key != "content_base64" &&
        key != "width" && key != "height") {
      throw bad_control_request("unknown attachment key '" + key +
                                "' (known: filename, type, size, content_base64, width, height)");
    }
  }
  AttachmentFile file;
  file.uploaded = true;
  file.filename = spec["filename"].get<std::string>();
  if (spec.contains("type") && !spec["type"].is_string()) {
    throw bad_control_request("attachment type must be a string");
  }
  file.type = spec.value("type", guess_mime(file.filename));
  for (const char* key : {"size", "width", "height"}) {
    if (spec.contains(key) && !spec[key].is_number_unsigned()) {
      throw bad_control_request(std::string("attachment ") + key +
                                " must be a non-negative integer");
    }
  }
  if (spec.contains("content_base64")) {
    const auto content = spec["content_base64"].is_string()
                             ? decode_base64(spec["content_base64"].get<std::string>())
                             : std::nullopt;
    if (!content) {
      throw bad_control_request("content_base64 must be a base64 string");
    }
    file.size = static_cast<int64_t>(content->size());
    if (spec.contains("size") && spec["size"].get<int64_t>() != file.size) {
      throw bad_control_request("size " + spec["size"].dump() + " differs from the " +
                                std::to_string(file.size) + " bytes of content_base64");
    }
    file.content = std::make_shared<const std::string>(*content);
  } else {
    file.size = spec.contains("size") ? spec["size"].get<int64_t>() : kDefaultSize;
  }
  if (spec.contains("width") != spec.contains("height")) {
    throw bad_control_request("give both width and height, or neither");
  }
  if (spec.contains("width")) {
    file.width = spec["width"].get<int64_t>();
    file.height = spec["height"].get<int64_t>();
  }
  return file;
}

// Registers attachments that are in no cell yet (all or none) and describes each as a cell
// would hold it; {"id": …} in a write then puts one in a cell.
HttpResponse upload_attachments(Emulator& emulator, const Json& body) {
  const bool many = body.contains("attachments");
  if (many && (!body["attachments"].is_array() || body.size() != 1)) {
    throw bad_control_request("body needs {\"attachments\": [...]} or one attachment");
  }
  std::vector<AttachmentFile> files;
  for (const Json& spec : many ? body["attachments"] : Json::array({body})) {
    files.push_back(parse_upload(spec));
  }
  Json out = Json::array();
  for (AttachmentFile& file : files) {
    const std::string id = emulator.ids().next("att");
    out.push_back(attachment_cell_object(id, file));
    emulator.attachments().add(id, std::move(file));
  }
  return json_response(200, many ? Json{{"attachments", out}}.dump() : out[0].dump());
}

}  // namespace

HttpResponse route_control(Emulator& emulator, const HttpRequest& request) {
  const std::vector<std::string> seg = split_path(request.path);
  const std::string& method = request.method;
  const std::string head = seg.empty() ? "" : seg[0];
  if (head == "health" && method == "GET") {
    return json_response(200, R"({"ok":true})");
  }
  if (head == "requests") {
    if (method == "DELETE") {
      emulator.log().clear();
      return json_response(200, "{}");
    }
    int64_t since = 0;
    size_t limit = 1'000'000;
    try {
      since = request.has_param("since") ? std::stoll(request.param("since")) : 0;
      limit = request.has_param("limit") ? std::stoull(request.param("limit")) : limit;
    } catch (const std::exception&) {
      throw bad_control_request("since and limit must be integers");
    }
    return json_response(200, Json{{"requests", emulator.log().to_json(since, limit)},
                                   {"last_seq", emulator.log().last_seq()}}
                                  .dump());
  }
  if (head == "reset" && method == "POST") {
    emulator.reset();
    return json_response(200, R"({"reset":true})");
  }
  if (head == "config") {
    if (method == "GET") {
      return json_response(200, config_json(emulator).dump());
    }
    return configure(emulator, parse_body(request));
  }
  if (head == "clock") {
    if (seg.size() == 2 && seg[1] == "advance" && method == "POST") {
      const Json body = parse_body(request);
      if (!body.contains("seconds") || !body["seconds"].is_number()) {
        throw bad_control_request("body needs {\"seconds\": N}");
      }
      emulator.clock().advance_ms(static_cast<int64_t>(body["seconds"].get<double>() * 1000));
    }
    const int64_t now = emulator.clock().now_ms();
    return json_response(200, Json{{"now", format_iso_ms(now)},
                                   {"now_ms", now},
                                   {"offset_ms", emulator.clock().offset_ms()}}
                                  .dump());
  }
  if (head == "iterators" && seg.size() == 2 && seg[1] == "expire" && method == "POST") {
    emulator.iterators().expire_all();
    return json_response(200, "{}");
  }
  if (head == "tokens") {
    if (method == "POST") {
      const Json body = parse_body(request);
      try {
        emulator.tokens().put(TokenRegistry::from_json(body, "usrEmulatorUser01"));
      } catch (const Json::exception& e) {
        throw bad_control_request(std::string("token spec: ") + e.what());
      }
      return json_response(200, "{}");
    }
    if (method == "DELETE" && seg.size() == 2) {
      emulator.tokens().remove(seg[1]);
      return json_response(200, "{}");
    }
  }
  if (head == "export" && method == "GET") {
    const std::shared_lock lock(emulator.store().mutex());
    Json bases = Json::array();
    for (const Base& base : emulator.store().workspace().bases) {
      bases.push_back(base_to_json(emulator.store().workspace(), base));
    }
    return json_response(200, Json{{"bases", bases}}.dump());
  }
  if (head == "load" && method == "POST") {
    const Json body = parse_body(request);
    Workspace workspace;
    try {
      const Json bases = body.contains("bases") ? body["bases"] : Json::array({body});
      for (const Json& base : bases) {
        Base loaded = base_from_json(base, workspace, emulator.ids(), emulator.clock().now_ms());
        workspace.bases.push_back(std::move(loaded));
      }
    } catch (const std::exception& e) {
      throw bad_control_request(e.what());
    }
    emulator.load(std::move(workspace));
    return json_response(200, R"({"loaded":true})");
  }
  if (head == "attachments" && seg.size() == 1 && method == "POST") {
    return upload_attachments(emulator, parse_body(request));
  }
  if (head == "bases" && seg.size() >= 5 && seg[2] == "tables" && seg[4] == "fields") {
    return field_control(emulator, seg, request);
  }
  if (head == "bases" && seg.size() == 4 && seg[2] == "tables" && method == "DELETE") {
    return delete_table(emulator, seg[1], seg[3]);
  }
  if (head == "stats" && method == "GET") {
    const std::shared_lock lock(emulator.store().mutex());
    Json tables = Json::array();
    for (const Base& base : emulator.store().workspace().bases) {
      for (const Table& t : base.tables) {
        tables.push_back(Json{
            {"base", base.id}, {"table", t.id}, {"name", t.name}, {"records", t.records.size()}});
      }
    }
    return json_response(200, Json{{"iterators", emulator.iterators().size()},
                                   {"requests", emulator.log().last_seq()},
                                   {"downloads", emulator.log().downloads()},
                                   {"attachments", emulator.attachments().size()},
                                   {"tables", tables}}
                                  .dump());
  }
  throw bad_control_request("unknown control route " + method + " " + request.path);
}

}  // namespace emu
