#include "api_error.hpp"

namespace emu::errors {

namespace {

ApiError typed(int status, const char* type, const std::string& message) {
  return {status, Json{{"error", Json{{"type", type}, {"message", message}}}}};
}

}  // namespace

ApiError authentication_required() {
  return typed(401, "AUTHENTICATION_REQUIRED", "Authentication required");
}

ApiError invalid_permissions_or_model_not_found() {
  return typed(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
               "Invalid permissions, or the requested model was not found. Check that both your "
               "user and your token have the required permissions, and that the model names "
               "and/or ids are correct.");
}

ApiError invalid_permissions(const std::string& message) {
  return typed(403, "INVALID_PERMISSIONS", message);
}

ApiError not_found() { return {404, Json{{"error", "NOT_FOUND"}}}; }

ApiError table_not_found(const std::string& table, const std::string& base_id) {
  return typed(404, "TABLE_NOT_FOUND",
               "Could not find table " + table + " in application " + base_id);
}

ApiError model_id_not_found(const std::string& message) {
  return typed(404, "MODEL_ID_NOT_FOUND", message);
}

ApiError record_not_found(const std::string& record_id) {
  (void)record_id;
  return model_id_not_found("Record not found");
}

ApiError invalid_request_unknown(const std::string& message) {
  return typed(422, "INVALID_REQUEST_UNKNOWN", message);
}

ApiError invalid_request_body() {
  return typed(422, "INVALID_REQUEST_BODY", "Could not parse request body");
}

ApiError invalid_filter_by_formula(const std::string& message) {
  return typed(422, "INVALID_FILTER_BY_FORMULA",
               "The formula for filtering records is invalid: " + message);
}

ApiError unknown_field_name(const std::string& name) {
  return typed(422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"" + name + "\"");
}

ApiError iterator_not_available() {
  return {422, Json{{"error", Json{{"type", "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}}}};
}

ApiError invalid_offset_value(const std::string& offset) {
  return typed(422, "INVALID_OFFSET_VALUE", "The value of offset " + offset + " is invalid");
}

ApiError view_name_not_found(const std::string& view) {
  return typed(422, "VIEW_NAME_NOT_FOUND", "View " + view + " not found");
}

ApiError invalid_value_for_column(const std::string& message) {
  return typed(422, "INVALID_VALUE_FOR_COLUMN", message);
}

ApiError row_does_not_exist(const std::string& record_id) {
  return typed(422, "ROW_DOES_NOT_EXIST",
               "Record ID " + record_id + " does not exist in this table");
}

ApiError invalid_records(const std::string& message) {
  return typed(422, "INVALID_RECORDS", message);
}

ApiError uri_too_long() { return typed(414, "REQUEST_URI_TOO_LONG", "Request-URI Too Large"); }

ApiError request_too_large() {
  return typed(413, "REQUEST_TOO_LARGE", "Request body is too large");
}

ApiError rate_limit_reached() {
  return typed(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later");
}

ApiError billing_limit_exceeded() {
  return typed(429, "PUBLIC_API_BILLING_LIMIT_EXCEEDED",
               "You have exceeded the monthly API call limit of your workspace's billing plan.");
}

ApiError server_error(int status, std::optional<int> retry_after_s) {
  if (status == 503) {
    return {503,
            Json{{"error", Json{{"type", "RETRIABLE_ERROR"},
                                {"message",
                                 "The server is temporarily unavailable. Please "
                                 "try again later."}}}},
            retry_after_s};
  }
  if (status == 502) {
    return typed(502, "BAD_GATEWAY", "Bad gateway");
  }
  return typed(status, "SERVER_ERROR", "Unexpected server error");
}

ApiError method_not_allowed() { return not_found(); }

ApiError too_many_webhooks() {
  return typed(422, "TOO_MANY_WEBHOOKS_IN_BASE",
               "Cannot create webhook: this base already has the maximum of 10 webhooks");
}

ApiError cannot_refresh_webhook(const std::string& message) {
  return typed(422, "CANNOT_REFRESH_DISABLED_WEBHOOK", message);
}

ApiError invalid_webhook_specification(const std::string& message) {
  return typed(422, "INVALID_WEBHOOK_SPECIFICATION", message);
}

ApiError duplicate_or_empty_field_name(const std::string& message) {
  return typed(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", message);
}

ApiError unsupported_field_type(const std::string& type) {
  return typed(422, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
               "Field type \"" + type + "\" cannot be created through the API");
}

}  // namespace emu::errors
