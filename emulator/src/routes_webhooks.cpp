#include <mutex>
#include <shared_mutex>

#include "api_error.hpp"
#include "attachment_urls.hpp"
#include "emulator.hpp"
#include "routes.hpp"

namespace emu {

namespace {

std::optional<int64_t> int_param(const HttpRequest& request, const std::string& name) {
  if (!request.has_param(name)) {
    return std::nullopt;
  }
  try {
    size_t used = 0;
    const std::string text = request.param(name);
    const int64_t value = std::stoll(text, &used);
    if (used == text.size()) {
      return value;
    }
  } catch (const std::exception&) {
  }
  throw errors::invalid_request_unknown(
      "Invalid request: parameter validation failed. Check your request data. (" + name +
      " must be an integer)");
}

}  // namespace

HttpResponse route_webhooks(Emulator& emulator, const RouteMatch& match,
                            const HttpRequest& request) {
  const auto& seg = match.segments;
  const std::string& method = request.method;
  if (seg.size() < 3 || seg[2] != "webhooks") {
    throw errors::not_found();
  }
  require_scope(match.grant, "webhook:manage");
  const int64_t now = emulator.clock().now_ms();
  const std::shared_lock lock(emulator.store().mutex());
  const Base* base = emulator.store().workspace().find_base(match.base_id);
  if (base == nullptr || !match.grant.can_see_base(base->id)) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  WebhookRegistry& hooks = emulator.webhooks();
  if (seg.size() == 3) {
    if (method == "GET") {
      return json_response(200, hooks.list(*base, now).dump());
    }
    if (method == "POST") {
      return json_response(200, hooks.create(*base, parse_body(request), match.grant, now).dump());
    }
  }
  if (seg.size() == 4 && method == "DELETE") {
    hooks.remove(*base, seg[3]);
    return json_response(200, "{}");
  }
  if (seg.size() == 5) {
    if (seg[4] == "payloads" && method == "GET") {
      Json page = hooks.payloads(*base, seg[3], match.grant, int_param(request, "cursor"),
                                 int_param(request, "limit"), now);
      // Cell values keep the stored attachments; URLs are made when payloads are read.
      sign_attachment_urls(page, emulator.attachment_urls(request));
      return json_response(200, page.dump());
    }
    if (seg[4] == "refresh" && method == "POST") {
      return json_response(200, hooks.refresh(*base, seg[3], match.grant, now).dump());
    }
    if (seg[4] == "enableNotifications" && method == "POST") {
      const Json body = parse_body(request);
      if (!body.contains("enable") || !body["enable"].is_boolean()) {
        throw errors::invalid_request_unknown(
            "Invalid request: parameter validation failed. Check your request data.");
      }
      hooks.enable_notifications(*base, seg[3], body["enable"].get<bool>());
      return json_response(200, "{}");
    }
  }
  throw errors::not_found();
}

}  // namespace emu
