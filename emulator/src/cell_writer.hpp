// Turns a value a client wrote into the cell Airtable would store, or refuses it as Airtable
// does (422 INVALID_VALUE_FOR_COLUMN and friends). `typecast` lets strings become numbers,
// dates and new select choices, as the API's `typecast: true` does.
#pragma once

#include "attachment_files.hpp"
#include "ids.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

struct WriteContext {
  const Workspace& workspace;
  const Base& base;
  Table& table;  // select choices may be added with typecast
  IdGenerator& ids;
  bool typecast = false;
  // Attachments written as {"id": …}: first the record's own (`record`, the one being
  // updated), then any the registry knows (uploads); new ones are registered there.
  AttachmentRegistry* attachments = nullptr;
  const Record* record = nullptr;
};

// Throws ApiError. Returns null for an empty value (the cell is cleared).
Json normalize_cell(WriteContext& ctx, Field& field, const Json& value);

}  // namespace emu
