// List records: the options of GET /v0/{base}/{table} and POST …/listRecords, and the listing
// itself (view, filterByFormula, sort, fields, paging through server-side iterators).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attachment_urls.hpp"
#include "cell_resolver.hpp"
#include "http_types.hpp"
#include "iterators.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

struct SortSpec {
  std::string field;  // name or id as given
  bool descending = false;
};

struct ListOptions {
  int64_t page_size = 100;
  std::optional<int64_t> max_records;
  std::string offset;
  std::string view;
  std::vector<SortSpec> sort;
  std::string formula;
  bool string_format = false;
  std::string time_zone;
  std::string user_locale;
  std::vector<std::string> fields;
  bool by_field_id = false;
  bool comment_count = false;
};

// Throws ApiError (422 INVALID_REQUEST_UNKNOWN and friends) for invalid parameters.
ListOptions list_options_from_query(const QueryParams& query);
// POST …/listRecords: options from the JSON body; timeZone and userLocale from the query.
ListOptions list_options_from_body(const Json& body, const QueryParams& query);
// Parameters of GET one record (cellFormat, returnFieldsByFieldId, timeZone, userLocale).
ListOptions record_options_from_query(const QueryParams& query);

struct ListContext {
  const CellResolver& resolver;
  IteratorRegistry& iterators;
  IdGenerator& ids;
  int64_t now_ms;
  const AttachmentUrlContext* attachment_urls = nullptr;  // cellFormat=string's URLs
};

// Returns the response body {"records": [...], "offset"?}. Throws ApiError.
std::string list_records(const ListContext& ctx, const ListOptions& options);

}  // namespace emu
