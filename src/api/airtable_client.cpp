#include "airtable_lakeflow/api/airtable_client.hpp"

#include <simdjson.h>

#include <cstdio>

namespace airtable_lakeflow::api {

namespace {

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& body,
                             const std::string& what) {
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    throw Error(ErrorKind::kServer, "Airtable sent a body that is not JSON for " + what);
  }
  return doc;
}

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view text;
  return e[key].get_string().get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4U]);
      out.push_back(kHex[u & 15U]);
    }
  }
  return out;
}

std::string page_offset(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view offset;
  if (parser.parse(body).get(doc) == simdjson::SUCCESS &&
      doc["offset"].get_string().get(offset) == simdjson::SUCCESS) {
    return std::string(offset);
  }
  return {};
}

Whoami AirtableClient::whoami() {
  const std::string body = http_.call("GET", "/v0/meta/whoami", "", "", "the token's user", "");
  simdjson::dom::parser parser;
  const auto doc = parse(parser, body, "whoami");
  return {str(doc, "id"), str(doc, "email")};
}

std::vector<BaseInfo> AirtableClient::list_bases() {
  std::vector<BaseInfo> out;
  std::string offset;
  simdjson::dom::parser parser;
  do {
    const std::string path =
        "/v0/meta/bases" + (offset.empty() ? "" : "?offset=" + url_encode(offset));
    const std::string body =
        http_.call("GET", path, "", "", "the list of bases", "schema.bases:read");
    const auto doc = parse(parser, body, "the list of bases");
    simdjson::dom::array bases;
    if (doc["bases"].get_array().get(bases) == simdjson::SUCCESS) {
      for (const auto base : bases) {
        out.push_back({str(base, "id"), str(base, "name"), str(base, "permissionLevel")});
      }
    }
    offset = str(doc, "offset");
  } while (!offset.empty());
  return out;
}

std::vector<TableInfo> parse_tables(const std::string& body, const std::string& what) {
  simdjson::dom::parser parser;
  const auto doc = parse(parser, body, what);
  std::vector<TableInfo> out;
  simdjson::dom::array tables;
  if (doc["tables"].get_array().get(tables) != simdjson::SUCCESS) {
    throw Error(ErrorKind::kServer, "Airtable's answer for " + what + " has no tables list");
  }
  for (const auto t : tables) {
    TableInfo table{
        str(t, "id"), str(t, "name"), str(t, "primaryFieldId"), str(t, "description"), {}, {}};
    simdjson::dom::array fields;
    if (t["fields"].get_array().get(fields) == simdjson::SUCCESS) {
      for (const auto f : fields) {
        simdjson::dom::element options;
        const bool has_options = f["options"].get(options) == simdjson::SUCCESS;
        table.fields.push_back({str(f, "id"), str(f, "name"), str(f, "type"),
                                has_options ? simdjson::minify(options) : std::string("null")});
      }
    }
    simdjson::dom::array views;
    if (t["views"].get_array().get(views) == simdjson::SUCCESS) {
      for (const auto v : views) {
        table.views.push_back({str(v, "id"), str(v, "name"), str(v, "type")});
      }
    }
    out.push_back(std::move(table));
  }
  return out;
}

std::vector<TableInfo> AirtableClient::base_schema(const std::string& base_id) {
  const std::string what = "the schema of base " + base_id;
  const std::string body = http_.call("GET", "/v0/meta/bases/" + url_encode(base_id) + "/tables",
                                      base_id, "", what, "schema.bases:read");
  return parse_tables(body, what);
}

Page AirtableClient::list_records_page(const std::string& base_id, const std::string& table_id,
                                       const ListQuery& query, const std::string& offset) {
  const std::string path = "/v0/" + url_encode(base_id) + "/" + url_encode(table_id);
  const std::string what = "table " + table_id + " of base " + base_id;
  std::string qs = "pageSize=" + std::to_string(query.page_size);
  if (query.max_records) {
    qs += "&maxRecords=" + std::to_string(*query.max_records);
  }
  if (!query.view.empty()) {
    qs += "&view=" + url_encode(query.view);
  }
  for (const std::string& f : query.fields) {
    qs += "&fields%5B%5D=" + url_encode(f);
  }
  if (!query.formula.empty()) {
    qs += "&filterByFormula=" + url_encode(query.formula);
  }
  for (size_t i = 0; i < query.sort.size(); ++i) {
    const std::string prefix = "&sort%5B" + std::to_string(i) + "%5D";
    qs += prefix + "%5Bfield%5D=" + url_encode(query.sort[i].field);
    qs += prefix + "%5Bdirection%5D=" + (query.sort[i].descending ? "desc" : "asc");
  }
  if (query.fields_by_id) {
    qs += "&returnFieldsByFieldId=true";
  }
  if (!offset.empty()) {
    qs += "&offset=" + url_encode(offset);
  }
  Page page;
  if (http_.base_url().size() + path.size() + 1 + qs.size() <= kMaxGetUrlLength) {
    page.body = http_.call("GET", path + "?" + qs, base_id, "", what, "data.records:read");
  } else {
    // Same options as a JSON body; the offset goes in the body too.
    std::string body = "{\"pageSize\":" + std::to_string(query.page_size);
    if (query.max_records) {
      body += ",\"maxRecords\":" + std::to_string(*query.max_records);
    }
    if (!query.view.empty()) {
      body += ",\"view\":" + json_string(query.view);
    }
    if (!query.fields.empty()) {
      body += ",\"fields\":[";
      for (size_t i = 0; i < query.fields.size(); ++i) {
        body += (i > 0 ? "," : "") + json_string(query.fields[i]);
      }
      body += "]";
    }
    if (!query.formula.empty()) {
      body += ",\"filterByFormula\":" + json_string(query.formula);
    }
    if (!query.sort.empty()) {
      body += ",\"sort\":[";
      for (size_t i = 0; i < query.sort.size(); ++i) {
        body += std::string(i > 0 ? "," : "") + "{\"field\":" + json_string(query.sort[i].field) +
                ",\"direction\":\"" + (query.sort[i].descending ? "desc" : "asc") + "\"}";
      }
      body += "]";
    }
    if (query.fields_by_id) {
      body += ",\"returnFieldsByFieldId\":true";
    }
    if (!offset.empty()) {
      body += ",\"offset\":" + json_string(offset);
    }
    body += "}";
    page.body = http_.call("POST", path + "/listRecords", base_id, body, what, "data.records:read");
    page.used_post = true;
  }
  return page;
}

std::string AirtableClient::get_record(const std::string& base_id, const std::string& table_id,
                                       const std::string& record_id) {
  return http_.call("GET",
                    "/v0/" + url_encode(base_id) + "/" + url_encode(table_id) + "/" +
                        url_encode(record_id) + "?returnFieldsByFieldId=true",
                    base_id, "", "record " + record_id + " of table " + table_id,
                    "data.records:read");
}

namespace {

constexpr const char* kWebhookScope = "webhook:manage";

std::string hooks_path(const std::string& base_id) {
  return "/v0/bases/" + url_encode(base_id) + "/webhooks";
}

}  // namespace

std::string AirtableClient::list_webhooks(const std::string& base_id) {
  return http_.call("GET", hooks_path(base_id), base_id, "", "the webhooks of base " + base_id,
                    kWebhookScope);
}

std::string AirtableClient::create_webhook(const std::string& base_id,
                                           const std::string& specification_json) {
  return http_.call("POST", hooks_path(base_id), base_id,
                    R"({"specification":)" + specification_json + "}",
                    "a webhook on base " + base_id, kWebhookScope);
}

std::string AirtableClient::refresh_webhook(const std::string& base_id,
                                            const std::string& webhook_id) {
  return http_.call("POST", hooks_path(base_id) + "/" + url_encode(webhook_id) + "/refresh",
                    base_id, "", "webhook " + webhook_id + " of base " + base_id, kWebhookScope);
}

std::string AirtableClient::webhook_payloads(const std::string& base_id,
                                             const std::string& webhook_id, int64_t cursor) {
  return http_.call("GET",
                    hooks_path(base_id) + "/" + url_encode(webhook_id) +
                        "/payloads?cursor=" + std::to_string(cursor),
                    base_id, "", "the payloads of webhook " + webhook_id, kWebhookScope);
}

std::string AirtableClient::delete_webhook(const std::string& base_id,
                                           const std::string& webhook_id) {
  return http_.call("DELETE", hooks_path(base_id) + "/" + url_encode(webhook_id), base_id, "",
                    "webhook " + webhook_id + " of base " + base_id, kWebhookScope);
}

}  // namespace airtable_lakeflow::api
