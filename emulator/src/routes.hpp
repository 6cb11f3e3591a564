// The API's routes, grouped by area. Each takes the matched request and returns the response
// body (or throws ApiError); the dispatcher in emulator.cpp does auth, limits, faults and logs.
#pragma once

#include <string>
#include <vector>

#include "auth.hpp"
#include "http_types.hpp"

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

// Shared helpers for route files.
HttpResponse json_response(int status, const std::string& body);
Json parse_body(const HttpRequest& request);  // throws the 400 Airtable sends for bad JSON
void require_scope(const TokenGrant& grant, const std::string& scope);

}  // namespace emu
