// An Airtable API error: the HTTP status and the exact JSON body Airtable sends. Every route
// reports failures by throwing one; the router turns it into the response.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "json.hpp"

namespace emu {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, Json body, std::optional<int> retry_after_s = std::nullopt)
      : std::runtime_error(body.dump()),
        status_(status),
        body_(std::move(body)),
        retry_after_s_(retry_after_s) {}
  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const Json& body() const { return body_; }
  [[nodiscard]] std::optional<int> retry_after_s() const { return retry_after_s_; }

 private:
  int status_;
  Json body_;
  std::optional<int> retry_after_s_;
};

// The errors Airtable sends, one factory each (bodies in docs/emulator.md).
namespace errors {
ApiError authentication_required();
ApiError invalid_permissions_or_model_not_found();
ApiError invalid_permissions(const std::string& message);
ApiError not_found();  // bare {"error": "NOT_FOUND"}
ApiError table_not_found(const std::string& table, const std::string& base_id);
ApiError model_id_not_found(const std::string& message);
ApiError record_not_found(const std::string& record_id);
ApiError invalid_request_unknown(const std::string& message);
ApiError invalid_request_body();  // 422 INVALID_REQUEST_BODY, as seen live
ApiError invalid_filter_by_formula(const std::string& message);
ApiError unknown_field_name(const std::string& name);
ApiError iterator_not_available();
ApiError invalid_offset_value(const std::string& offset);
ApiError view_name_not_found(const std::string& view);
ApiError invalid_value_for_column(const std::string& message);
ApiError invalid_records(const std::string& message);
ApiError row_does_not_exist(const std::string& record_id);  // batch update of a missing id
ApiError uri_too_long();
ApiError request_too_large();
ApiError rate_limit_reached();
ApiError billing_limit_exceeded();
ApiError server_error(int status, std::optional<int> retry_after_s);
ApiError method_not_allowed();
ApiError too_many_webhooks();
ApiError cannot_refresh_webhook(const std::string& message);
ApiError invalid_webhook_specification(const std::string& message);
ApiError duplicate_or_empty_field_name(const std::string& message);
ApiError unsupported_field_type(const std::string& type);
}  // namespace errors

}  // namespace emu
