/* The engine's C ABI, loaded from Python with ctypes (no CPython API, so one library serves
 * every Python version). Configuration, metadata and errors cross as JSON strings; record data
 * as an Arrow C stream. Every function that can fail returns NULL (or non-zero) and, when
 * `error_json` is not NULL, stores a JSON error there:
 *   {"kind": "authentication", "message": "...", "http_status": 401, "airtable_type": "..."}
 * Strings the engine returns are freed with alf_free. The token never appears in any output. */
#ifndef AIRTABLE_LAKEFLOW_ENGINE_H
#define AIRTABLE_LAKEFLOW_ENGINE_H

#include "airtable_lakeflow/arrow/c_data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ALF_EXPORT __attribute__((visibility("default")))

typedef struct alf_session alf_session;
typedef struct alf_reader alf_reader;

/* The engine version ("0.1.0"); static storage. */
ALF_EXPORT const char* alf_version(void);
ALF_EXPORT void alf_free(char* text);

/* config: {"token", "base_url"?, "ca_bundle"?, "connect_timeout_ms"?, "read_timeout_s"?,
 *          "max_attempts"?, "rate_limit_pause_s"?, "user_agent"?, "throttle"?,
 *          "schema_cache_s"? (default 5: reads of one base opened within 5 s share the schema),
 *          "requests_per_second"? (0 < r <= 5, default 5: this reader's share of each base's
 *          5 requests/s, e.g. 5/3 on each host of a three-host cluster)} */
ALF_EXPORT alf_session* alf_session_open(const char* config_json, char** error_json);
ALF_EXPORT void alf_session_close(alf_session* session);
/* op: "whoami" | "bases" | "schema" {"base_id"} | "layout" {"base_id", "table", "fields"?} |
 *     "stats". Returns the answer as JSON. */
ALF_EXPORT char* alf_session_call(alf_session* session, const char* op, const char* args_json,
                                  char** error_json);

/* request: {"base_id", "table", "fields"?, "view"?, "formula"?, "sort"?: [{"field",
 *           "direction"}], "max_records"?, "batch_rows"?, "page_size"?}
 * Plans the columns (one schema request) and returns a reader; records flow once its stream
 * is read. */
ALF_EXPORT alf_reader* alf_reader_open(alf_session* session, const char* request_json,
                                       char** error_json);
/* Fills `out` with a stream of record batches. Call once. */
ALF_EXPORT int alf_reader_stream(alf_reader* reader, struct ArrowArrayStream* out);
/* The error that ended the stream, as JSON, or NULL. */
ALF_EXPORT char* alf_reader_error(alf_reader* reader);
/* Progress so far: {"pages", "records", "requests", "retries", "rate_limited", ...}. */
ALF_EXPORT char* alf_reader_progress(alf_reader* reader);
/* The columns: the same JSON as the "layout" op. */
ALF_EXPORT char* alf_reader_layout(alf_reader* reader);
ALF_EXPORT void alf_reader_close(alf_reader* reader);

/* Converts list-records pages already in memory (no network): `schema_json` is a base-schema
 * answer ({"tables": [...]}), `table` an id or name in it, `fields_json` a JSON list of field
 * ids or names (or NULL for all). Fills `out` with one record batch per page. For golden tests,
 * benchmarks and replaying captured pages. Returns 0, or non-zero with `error_json` set. */
ALF_EXPORT int alf_convert_pages(const char* schema_json, const char* table,
                                 const char* fields_json, const char* const* pages, int64_t n_pages,
                                 struct ArrowArrayStream* out, char** error_json);

#ifdef __cplusplus
}
#endif

#endif /* AIRTABLE_LAKEFLOW_ENGINE_H */
