// Builds webhook payloads (payloadFormat "v0") from store change events, with cells in the
// payload's "V2" shapes (select objects, {id, name} links, keyed lookups).
#pragma once

#include "change_event.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

// A field's cell as webhook payloads carry it.
Json to_v2_cell(const Base& base, const Table& table, const Field& field, const Json& cell,
                const std::string& record_id);

// The `changedTablesById[tableId]` entry (or empty object when nothing matches `spec`).
// `spec` is the webhook's specification.options.
Json table_changes(const Base& base, const ChangeEvent& event, const Json& spec);

}  // namespace emu
