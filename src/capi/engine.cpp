// The C ABI over the engine: every exception stops here and becomes an error JSON.
#include "airtable_lakeflow/capi/engine.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "airtable_lakeflow/version.hpp"
#include "batch_stream.hpp"
#include "json_io.hpp"

using airtable_lakeflow::Error;
using airtable_lakeflow::ErrorKind;
namespace capi = airtable_lakeflow::capi;
namespace http = airtable_lakeflow::http;
namespace api = airtable_lakeflow::api;
namespace reading = airtable_lakeflow::read;

namespace {

http::SystemClock& system_clock() {
  static http::SystemClock clock;
  return clock;
}

// One connection (transport + client) per session or reader: libcurl handles are not shared
// between threads. The rate limiter is shared by the whole process.
struct Connection {
  explicit Connection(const capi::SessionConfig& config)
      : http(config.client, std::make_shared<http::CurlTransport>(config.transport), system_clock(),
             http::shared_rate_limiter()),
        client(http) {}
  http::HttpClient http;
  api::AirtableClient client;
};

char* copy(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, text.c_str(), text.size() + 1);
  }
  return out;
}

// Runs `body`, turning any exception into an error JSON (token redacted).
template <typename Body>
auto guarded(const std::string& token, char** error_json, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& error) {
    if (error_json != nullptr) {
      *error_json = copy(capi::error_text(error, token));
    }
  } catch (const std::exception& error) {
    if (error_json != nullptr) {
      *error_json = copy(capi::error_text(Error(ErrorKind::kInternal, error.what()), token));
    }
  }
  return {};
}

}  // namespace

struct alf_session {
  capi::SessionConfig config;
  std::mutex mutex;  // one call at a time on the session's own connection
  std::unique_ptr<Connection> connection;
  // Base schemas fetched in the last few seconds: concurrent reads of one base share one
  // request (and one view of the schema). Short-lived, so schema changes show up promptly.
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point,
                                  std::vector<airtable_lakeflow::api::TableInfo>>>
      schemas;

  std::vector<airtable_lakeflow::api::TableInfo> schema(const std::string& base_id) {
    const std::lock_guard lock(mutex);
    const auto cached = schemas.find(base_id);
    if (cached != schemas.end() &&
        std::chrono::steady_clock::now() - cached->second.first <= config.schema_cache) {
      return cached->second.second;
    }
    return fresh_schema(base_id);
  }
  // Asks Airtable (the caller holds `mutex`) and keeps the answer for the reads that follow,
  // so a sync's plan and its reads share one request and one view of the schema.
  std::vector<airtable_lakeflow::api::TableInfo> fresh_schema(const std::string& base_id) {
    auto tables = connection->client.base_schema(base_id);
    schemas.insert_or_assign(base_id, std::make_pair(std::chrono::steady_clock::now(), tables));
    return tables;
  }
};

struct ReaderState final : capi::BatchSource {
  Connection connection;
  reading::TableReader reader;

  ReaderState(const capi::SessionConfig& config, reading::ReadRequest request,
              const reading::SchemaSource& schema_source)
      : capi::BatchSource(config.client.token),
        connection(config),
        reader(connection.client, std::move(request), config.client.policy.max_listing_restarts,
               schema_source) {}
  void schema(ArrowSchema* out) override { reader.export_schema(out); }
  bool next(ArrowArray* out) override { return reader.next(out); }
};

struct alf_reader {
  std::shared_ptr<ReaderState> state;
  bool streamed = false;
};

namespace {

// Pages already in memory, one batch each.
struct PageSource final : capi::BatchSource {
  PageSource(airtable_lakeflow::schema::TableLayout layout, std::vector<std::string> bodies)
      : capi::BatchSource(""), converter(std::move(layout)), pages(std::move(bodies)) {}
  void schema(ArrowSchema* out) override { converter.export_schema(out); }
  bool next(ArrowArray* out) override {
    if (index == pages.size()) {
      return false;
    }
    converter.append_page(pages[index++]);
    converter.finish(out);
    return true;
  }
  airtable_lakeflow::convert::PageConverter converter;
  std::vector<std::string> pages;
  size_t index = 0;
};

// An answer passed through to Python as JSON; one that is not a JSON object is a server fault.
capi::Json answer(const std::string& body, const std::string& what) {
  capi::Json out = capi::Json::parse(body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    throw Error(ErrorKind::kServer, "Airtable answered " + what + " with malformed JSON.");
  }
  return out;
}

}  // namespace

extern "C" {

const char* alf_version(void) { return airtable_lakeflow::kVersion; }

void alf_free(char* text) { std::free(text); }

alf_session* alf_session_open(const char* config_json, char** error_json) {
  return guarded("", error_json, [&]() -> alf_session* {
    auto session = std::make_unique<alf_session>();
    session->config = capi::session_config(capi::parse_json(config_json, "connection config"));
    session->connection = std::make_unique<Connection>(session->config);
    return session.release();
  });
}

void alf_session_close(alf_session* session) { delete session; }

char* alf_session_call(alf_session* session, const char* op, const char* args_json,
                       char** error_json) {
  return guarded(session->config.client.token, error_json, [&]() -> char* {
    const capi::Json args = capi::parse_json(args_json, "call arguments");
    const std::string name = op == nullptr ? "" : op;
    const std::lock_guard lock(session->mutex);
    api::AirtableClient& client = session->connection->client;
    capi::Json out;
    if (name == "whoami") {
      out = capi::to_json(client.whoami());
    } else if (name == "bases") {
      out = capi::to_json(client.list_bases());
    } else if (name == "schema") {
      out = capi::to_json(session->fresh_schema(args.value("base_id", "")));
    } else if (name == "layout") {
      const reading::ReadRequest request = capi::read_request(args);
      const auto tables = session->fresh_schema(request.base_id);
      out = capi::to_json(airtable_lakeflow::schema::plan_table(
          airtable_lakeflow::schema::find_table(tables, request.table, request.base_id),
          request.fields));
    } else if (name == "webhooks") {
      out = answer(client.list_webhooks(args.value("base_id", "")), "the list of webhooks");
    } else if (name == "create_webhook") {
      const capi::Json spec = args.value("specification", capi::Json::object());
      out = answer(client.create_webhook(args.value("base_id", ""), spec.dump()), "a new webhook");
    } else if (name == "refresh_webhook") {
      out = answer(client.refresh_webhook(args.value("base_id", ""), args.value("webhook_id", "")),
                   "a webhook refresh");
    } else if (name == "webhook_payloads") {
      out = answer(client.webhook_payloads(args.value("base_id", ""), args.value("webhook_id", ""),
                                           args.value("cursor", int64_t{1})),
                   "webhook payloads");
    } else if (name == "delete_webhook") {
      const std::string body =
          client.delete_webhook(args.value("base_id", ""), args.value("webhook_id", ""));
      out = body.empty() ? capi::Json::object() : answer(body, "a webhook deletion");
    } else if (name == "stats") {
      const http::ClientStats& stats = session->connection->http.stats();
      out = {{"requests", stats.requests.load()},
             {"retries", stats.retries.load()},
             {"rate_limited", stats.rate_limited.load()}};
    } else {
      throw Error(ErrorKind::kInternal, "unknown engine call '" + name + "'");
    }
    return copy(capi::dump(out));
  });
}

alf_reader* alf_reader_open(alf_session* session, const char* request_json, char** error_json) {
  return guarded(session->config.client.token, error_json, [&]() -> alf_reader* {
    reading::ReadRequest request =
        capi::read_request(capi::parse_json(request_json, "read request"));
    auto reader = std::make_unique<alf_reader>();
    reader->state = std::make_shared<ReaderState>(
        session->config, std::move(request),
        [session](const std::string& base_id) { return session->schema(base_id); });
    return reader.release();
  });
}

int alf_reader_stream(alf_reader* reader, struct ArrowArrayStream* out) {
  if (reader->streamed) {
    return EINVAL;
  }
  try {
    capi::make_stream(reader->state, out);
  } catch (const std::exception&) {
    return ENOMEM;  // only an allocation can fail here; `out` is untouched
  }
  reader->streamed = true;
  return 0;
}

char* alf_reader_error(alf_reader* reader) {
  const std::lock_guard lock(reader->state->mutex);
  return reader->state->error_json.empty() ? nullptr : copy(reader->state->error_json);
}

char* alf_reader_progress(alf_reader* reader) {
  ReaderState& state = *reader->state;
  return copy(capi::dump(capi::to_json(state.reader.progress(), state.connection.http.stats())));
}

char* alf_reader_layout(alf_reader* reader) {
  return copy(capi::dump(capi::to_json(reader->state->reader.layout())));
}

void alf_reader_close(alf_reader* reader) { delete reader; }

int alf_convert_pages(const char* schema_json, const char* table, const char* fields_json,
                      const char* const* pages, int64_t n_pages, struct ArrowArrayStream* out,
                      char** error_json) {
  return guarded("", error_json,
                 [&]() -> int {
                   const auto tables = airtable_lakeflow::api::parse_tables(
                       schema_json == nullptr ? "" : schema_json, "the schema");
                   std::vector<std::string> fields;
                   if (fields_json != nullptr) {
                     const capi::Json list = capi::Json::parse(fields_json, nullptr, false);
                     const auto is_name = [](const capi::Json& field) { return field.is_string(); };
                     if (!list.is_array() || !std::all_of(list.begin(), list.end(), is_name)) {
                       throw Error(ErrorKind::kConfig,
                                   "fields must be a JSON list of field ids or names");
                     }
                     for (const capi::Json& field : list) {
                       fields.push_back(field.get<std::string>());
                     }
                   }
                   const std::string name = table == nullptr ? "" : table;
                   auto layout = airtable_lakeflow::schema::plan_table(
                       airtable_lakeflow::schema::find_table(tables, name, "(given schema)"),
                       fields);
                   std::vector<std::string> bodies;
                   for (int64_t i = 0; i < n_pages; ++i) {
                     std::string& body = bodies.emplace_back();
                     const size_t size = std::strlen(pages[i]);
                     body.reserve(size + simdjson::SIMDJSON_PADDING);  // parsed in place
                     body.assign(pages[i], size);
                   }
                   capi::make_stream(
                       std::make_shared<PageSource>(std::move(layout), std::move(bodies)), out);
                   return 1;
                 }) == 1
             ? 0
             : -1;
}

}  // extern "C"
