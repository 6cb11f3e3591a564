// Serialises records as the API returns them: {"id", "createdTime", "fields", "commentCount"?},
// empty cells omitted, fields keyed by name or by id, cellFormat json or string.
#pragma once

#include <string>
#include <vector>

#include "attachment_urls.hpp"
#include "cell_resolver.hpp"
#include "model.hpp"

namespace emu {

struct RenderOptions {
  bool by_field_id = false;
  bool string_format = false;
  std::string time_zone;    // IANA name, for cellFormat=string
  std::string user_locale;  // for cellFormat=string
  bool comment_count = false;
  std::vector<const Field*> fields;  // empty = every field, in schema order
  // cellFormat=string writes attachment URLs into text, so it needs the answer's URLs; the json
  // format writes markers that the dispatcher replaces (attachment_urls.hpp).
  const AttachmentUrlContext* attachment_urls = nullptr;
};

// Appends one record's JSON to `out`.
void append_record_json(std::string& out, const CellResolver& resolver, const Record& record,
                        const RenderOptions& options);
std::string record_json(const CellResolver& resolver, const Record& record,
                        const RenderOptions& options);

// cellFormat=string: the text Airtable shows for a cell (approximate; Airtable calls this
// format unstable).
std::string cell_as_string(const CellResolver& resolver, const Field& field, const Json& cell,
                           const RenderOptions& options);

}  // namespace emu
