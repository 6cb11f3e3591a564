#include "api_error.hpp"
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
  } catch (const Json::parse_error&) {
    throw errors::invalid_request_body();
  }
}

void require_scope(const TokenGrant& grant, const std::string& scope) {
  if (!grant.has_scope(scope)) {
    throw errors::invalid_permissions_or_model_not_found();
  }
}

}  // namespace emu
