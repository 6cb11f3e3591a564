// JSON in and out of the C ABI: session config and read requests in (errors name the bad key),
// metadata, layouts, progress and errors out.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "airtable_lakeflow/api/airtable_client.hpp"
#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/http/curl_transport.hpp"
#include "airtable_lakeflow/http/http_client.hpp"
#include "airtable_lakeflow/read/table_reader.hpp"
#include "airtable_lakeflow/schema/table_layout.hpp"

namespace airtable_lakeflow::capi {

using Json = nlohmann::ordered_json;

struct SessionConfig {
  http::ClientConfig client;
  http::TransportOptions transport;
  std::chrono::milliseconds schema_cache{5000};  // 0: every read asks for the schema
};

// JSON text for the caller. Bytes that are not UTF-8 (in a name the caller gave, or in a
// server's message quoted in an error) become U+FFFD instead of an exception.
std::string dump(const Json& json);
// `text` with every byte sequence that is not UTF-8 replaced by U+FFFD.
std::string valid_utf8(const std::string& text);

Json parse_json(const char* text, const char* what);
SessionConfig session_config(const Json& config);
read::ReadRequest read_request(const Json& request);

Json to_json(const api::Whoami& whoami);
Json to_json(const std::vector<api::BaseInfo>& bases);
Json to_json(const std::vector<api::TableInfo>& tables);
Json to_json(const schema::TableLayout& layout);
Json to_json(const read::ReadProgress& progress, const http::ClientStats& stats);
// {"kind", "message", "http_status"?, "airtable_type"?} as JSON text, `token` redacted.
std::string error_text(const Error& error, const std::string& token);

}  // namespace airtable_lakeflow::capi
