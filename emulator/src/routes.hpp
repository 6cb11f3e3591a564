// The API's routes, grouped by area. Each takes the matched request and returns the response
// body (or throws ApiError); the dispatcher in emulator.cpp does auth, limits, faults and logs.
#pragma once

#include <string>
#include <vector>

#include "auth.hpp"
#include "http_types.hpp"
#include "model.hpp"
#include "request_log.hpp"

namespace emu {

class Emulator;

struct RouteMatch {
  std::vector<std::string> segments;  // decoded path segments after /v0/
  TokenGrant grant;
  std::string base_id;
};

// /v0/{base}/{table}[/{record}|/listRecords]
HttpResponse route_records(Emulator& emulator, const RouteMatch& match, const HttpRequest& request);
// /v0/meta/…
HttpResponse route_meta(Emulator& emulator, const RouteMatch& match, const HttpRequest& request);
// /v0/bases/{base}/webhooks…
HttpResponse route_webhooks(Emulator& emulator, const RouteMatch& match,
                            const HttpRequest& request);
// /_emulator/… (no auth)
HttpResponse route_control(Emulator& emulator, const HttpRequest& request);
// GET / HEAD /_attachments/… (no auth, no rate limit): an attachment's file or thumbnail.
// Fills the log entry's attachment id and fault.
HttpResponse route_download(Emulator& emulator, const HttpRequest& request, LoggedRequest& entry);

// Shared helpers for route files.
HttpResponse json_response(int status, const std::string& body);
Json parse_body(const HttpRequest& request);  // throws the 400 Airtable sends for bad JSON
void require_scope(const TokenGrant& grant, const std::string& scope);
// The route's base, if the token may see it (else 403, as Airtable answers for both cases).
// Caller holds the store lock.
Base& visible_base(Emulator& emulator, const RouteMatch& match);
// A table of the base by id or name, else 404 TABLE_NOT_FOUND.
Table& find_table(Base& base, const std::string& id_or_name);

}  // namespace emu
