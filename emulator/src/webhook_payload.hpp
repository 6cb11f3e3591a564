// Builds webhook payloads (payloadFormat "v0") from store change events, with cells in the
// payload's "V2" shapes (select objects, {id, name} links, keyed lookups).
#pragma once

#include <vector>

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

// The change keys of a payload (`changedTablesById`, `createdTablesById`, `destroyedTableIds`)
// for `event` as a hook with specification.options `spec` sees it, recordChangeScope included;
// an empty object when nothing matches.
Json payload_changes(const Base& base, const ChangeEvent& event, const Json& spec);

// Splits a payload with more than `max_records` record entries (created, changed or destroyed
// records, over all tables) into payloads of at most that many, as Airtable may split a large
// action: each part keeps timestamp, baseTransactionNumber, actionMetadata and payloadFormat;
// the first also carries the field, table and metadata changes. 0 = never split.
std::vector<Json> split_payload(const Json& body, size_t max_records);

}  // namespace emu
