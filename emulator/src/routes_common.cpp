#include "api_error.hpp"
#include "emulator.hpp"
#include "routes.hpp"

namespace emu {

HttpResponse json_response(int status, const std::string& body) {
  HttpResponse response;
  response.status = status;
  response.body = body;
  return response;
}

Json parse_body(const HttpRequest& request) {
  if (request.body.empty()) {
    return Json::object();
  }
  try {
    return Json::parse(request.body);
  } catch (const Json::exception&) {
    // Not JSON, or a number no double holds (1e400: out_of_range, not parse_error).
    throw errors::invalid_request_body();
  }
}

void require_scope(const TokenGrant& grant, const std::string& scope) {
  if (!grant.has_scope(scope)) {
    throw errors::invalid_permissions_or_model_not_found();
  }
}

Base& visible_base(Emulator& emulator, const RouteMatch& match) {
  Base* base = emulator.store().workspace().mutable_base(match.base_id);
  if (base == nullptr || !match.grant.can_see_base(base->id)) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  return *base;
}

Table& find_table(Base& base, const std::string& id_or_name) {
  Table* table = base.mutable_table(id_or_name);
  if (table == nullptr) {
    throw errors::table_not_found(id_or_name, base.id);
  }
  return *table;
}

}  // namespace emu
