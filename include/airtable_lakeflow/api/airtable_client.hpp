// The Airtable Web API calls the engine makes: whoami, bases, base schema, list-records pages
// (GET, or POST listRecords when the URL would pass 16,000 characters) and one record.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "airtable_lakeflow/http/http_client.hpp"

namespace airtable_lakeflow::api {

struct Whoami {
  std::string id;
  std::string email;  // empty without the user.email:read scope
};

struct BaseInfo {
  std::string id;
  std::string name;
  std::string permission_level;
};

struct FieldInfo {
  std::string id;
  std::string name;
  std::string type;
  std::string options_json;  // "null" when the field has none
};

struct ViewInfo {
  std::string id;
  std::string name;
  std::string type;
};

struct TableInfo {
  std::string id;
  std::string name;
  std::string primary_field_id;
  std::string description;
  std::vector<FieldInfo> fields;
  std::vector<ViewInfo> views;
};

struct SortKey {
  std::string field;
  bool descending = false;
};

struct ListQuery {
  std::string view;
  std::vector<std::string> fields;  // names or ids; empty = all
  std::string formula;
  std::vector<SortKey> sort;
  int page_size = 100;
  std::optional<int64_t> max_records;
  bool fields_by_id = true;  // rename-proof: cells keyed by fld… ids
};

struct Page {
  std::string body;  // the raw JSON page; its "offset" (page_offset) leads to the next one
  bool used_post = false;
};

// Airtable measures its URL limit on the whole URL; switch to POST before it.
inline constexpr size_t kMaxGetUrlLength = 16000;

class AirtableClient {
 public:
  explicit AirtableClient(http::HttpClient& http) : http_(http) {}

  Whoami whoami();
  std::vector<BaseInfo> list_bases();
  std::vector<TableInfo> base_schema(const std::string& base_id);
  Page list_records_page(const std::string& base_id, const std::string& table_id,
                         const ListQuery& query, const std::string& offset);
  std::string get_record(const std::string& base_id, const std::string& table_id,
                         const std::string& record_id);

  // Webhooks (scope webhook:manage): the raw JSON answers. Deletes reach a reader only
  // through them: a filtered listing cannot see a record that is gone.
  std::string list_webhooks(const std::string& base_id);
  std::string create_webhook(const std::string& base_id, const std::string& specification_json);
  std::string refresh_webhook(const std::string& base_id, const std::string& webhook_id);
  std::string webhook_payloads(const std::string& base_id, const std::string& webhook_id,
                               int64_t cursor);
  // Airtable answers an empty body or `{}`; returned as is.
  std::string delete_webhook(const std::string& base_id, const std::string& webhook_id);
  [[nodiscard]] http::HttpClient& http() { return http_; }

 private:
  http::HttpClient& http_;
};

// The tables of a base-schema answer ({"tables": [...]}); `what` names it in errors.
std::vector<TableInfo> parse_tables(const std::string& body, const std::string& what);
// Percent-encodes one URL component (RFC 3986 unreserved characters pass).
std::string url_encode(const std::string& text);
// The next-page offset of a list-records body ("" when absent).
std::string page_offset(const std::string& body);

}  // namespace airtable_lakeflow::api
