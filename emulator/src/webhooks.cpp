#include "webhooks.hpp"

#include <algorithm>
#include <deque>

#include "api_error.hpp"
#include "time_format.hpp"
#include "webhook_notifier.hpp"
#include "webhook_payload.hpp"

namespace emu {

namespace {

constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;
constexpr size_t kMaxHooksPerBase = 10;
constexpr int64_t kMaxPayloadsPerPage = 50;

struct Payload {
  int64_t number = 0;
  int64_t time_ms = 0;
  Json body;
};

struct Hook {
  std::string id;
  std::string base_id;
  std::string mac_key;  // raw bytes
  std::string mac_secret_base64;
  Json notification_url;  // string or null
  Json specification;
  bool notifications_enabled = true;
  int64_t expires_ms = 0;
  int64_t next_number = 1;
  std::deque<Payload> payloads;
  Json last_notification_result;  // null or object
  Json last_success_time;         // null or ISO string
  bool ping_in_flight = false;
  bool invalid = false;  // disabled for good: its specification names something deleted

  [[nodiscard]] bool enabled(int64_t now_ms) const { return !invalid && now_ms < expires_ms; }
};

ApiError bad_spec(const std::string& message) {
  return errors::invalid_webhook_specification(message);
}

void check_string_list(const Json& filters, const char* key,
                       const std::vector<std::string>& allowed) {
  if (!filters.contains(key)) {
    return;
  }
  const Json& list = filters[key];
  if (!list.is_array()) {
    throw bad_spec(std::string("specification.options.filters.") + key + " must be a list");
  }
  for (const Json& item : list) {
    if (!item.is_string() ||
        (!allowed.empty() &&
         std::find(allowed.begin(), allowed.end(), item.get<std::string>()) == allowed.end())) {
      std::string names;
      for (const std::string& a : allowed) {
        names += (names.empty() ? "" : ", ") + a;
      }
      throw bad_spec(std::string("specification.options.filters.") + key + " has " + item.dump() +
                     (allowed.empty() ? "" : "; allowed: " + names));
    }
  }
}

bool base_has_field(const Base& base, const std::string& field_id) {
  return std::any_of(base.tables.begin(), base.tables.end(),
                     [&](const Table& t) { return t.field_by_id(field_id) != nullptr; });
}

void validate(const Base& base, const Json& spec) {
  if (!spec.is_object() || !spec.contains("options") || !spec["options"].is_object()) {
    throw bad_spec("specification.options is required");
  }
  const Json& options = spec["options"];
  for (const auto& [key, value] : options.items()) {
    if (key != "filters" && key != "includes") {
      throw bad_spec("unknown key specification.options." + key);
    }
  }
  if (!options.contains("filters") || !options["filters"].is_object()) {
    throw bad_spec("specification.options.filters is required");
  }
  const Json& filters = options["filters"];
  if (!filters.contains("dataTypes") || !filters["dataTypes"].is_array() ||
      filters["dataTypes"].empty()) {
    throw bad_spec(
        "specification.options.filters.dataTypes needs at least one of tableData, "
        "tableFields, tableMetadata");
  }
  check_string_list(filters, "dataTypes", {"tableData", "tableFields", "tableMetadata"});
  check_string_list(filters, "changeTypes", {"add", "remove", "update"});
  check_string_list(filters, "fromSources", {});
  check_string_list(filters, "watchDataInFieldIds", {});
  check_string_list(filters, "watchSchemasOfFieldIds", {});
  for (const char* key : {"watchDataInFieldIds", "watchSchemasOfFieldIds"}) {
    for (const Json& id : filters.value(key, Json::array())) {
      if (!base_has_field(base, id.get<std::string>())) {
        throw bad_spec(std::string("specification.options.filters.") + key + ": no field " +
                       id.get<std::string>() + " in this base");
      }
    }
  }
  if (filters.contains("recordChangeScope")) {
    const Json& scope = filters["recordChangeScope"];
    bool found = false;
    if (scope.is_string()) {
      for (const Table& t : base.tables) {
        found = found || t.id == scope.get<std::string>() ||
                std::any_of(t.views.begin(), t.views.end(),
                            [&](const View& v) { return v.id == scope.get<std::string>(); });
      }
    }
    if (!found) {
      throw bad_spec(
          "specification.options.filters.recordChangeScope must be a table or view id "
          "of this base");
    }
  }
  for (const auto& [key, value] : filters.items()) {
    static const std::vector<std::string> kKnown = {
        "dataTypes",     "recordChangeScope",   "changeTypes",           "fromSources",
        "sourceOptions", "watchDataInFieldIds", "watchSchemasOfFieldIds"};
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      throw bad_spec("unknown key specification.options.filters." + key);
    }
  }
  if (options.contains("includes")) {
    const Json& includes = options["includes"];
    if (!includes.is_object()) {
      throw bad_spec("specification.options.includes must be an object");
    }
    for (const auto& [key, value] : includes.items()) {
      if (key != "includeCellValuesInFieldIds" && key != "includePreviousCellValues" &&
          key != "includePreviousFieldDefinitions") {
        throw bad_spec("unknown key specification.options.includes." + key);
      }
    }
    const Json cells = includes.value("includeCellValuesInFieldIds", Json::array());
    if (cells != "all") {
      check_string_list(includes, "includeCellValuesInFieldIds", {});
      for (const Json& id : cells) {
        if (!base_has_field(base, id.get<std::string>())) {
          throw bad_spec("specification.options.includes.includeCellValuesInFieldIds: no field " +
                         id.get<std::string>() + " in this base");
        }
      }
    }
  }
}

// A specification stays valid while every table, view and field it names exists; a hook whose
// specification stops being valid is disabled with an INVALID_HOOK payload.
bool still_valid(const Base& base, const Json& spec) {
  try {
    validate(base, spec);
    return true;
  } catch (const ApiError&) {
    return false;
  }
}

// Reading a hook's data needs the scopes of its dataTypes: data.records:read for tableData,
// schema.bases:read for tableFields and tableMetadata (webhooks overview, "Authorization").
void require_data_scopes(const TokenGrant& grant, const Json& spec) {
  const Json types = spec.value("options", Json::object())
                         .value("filters", Json::object())
                         .value("dataTypes", Json::array());
  for (const Json& type : types) {
    const std::string scope =
        type == "tableData" ? "data.records:read" : std::string("schema.bases:read");
    if (!grant.has_scope(scope)) {
      throw errors::invalid_permissions_or_model_not_found();
    }
  }
}

// What a payload's actionMetadata says about the action behind `event`.
Json action_metadata(const ChangeEvent& event) {
  const Json user{{"id", event.user_id.empty() ? "usrEmulatorUser01" : event.user_id},
                  {"permissionLevel", "create"}};
  return Json{{"source", event.source}, {"sourceMetadata", Json{{"user", user}}}};
}

}  // namespace

struct WebhookRegistry::Impl {
  explicit Impl(IdGenerator& id_generator) : ids(id_generator) {}

  IdGenerator& ids;
  std::mutex mutex;
  std::vector<Hook> hooks;   // creation order, all bases
  size_t split = 0;          // records per payload before an action is split; 0 = never
  WebhookNotifier notifier;  // last: stops (joins) before the hooks go away

  Hook& find(const Base& base, const std::string& id) {
    for (Hook& hook : hooks) {
      if (hook.id == id && hook.base_id == base.id) {
        return hook;
      }
    }
    throw errors::invalid_permissions_or_model_not_found();
  }

  // Forgets hooks whose metadata retention (7 days after expiry) has passed and old payloads.
  void sweep(int64_t now_ms) {
    hooks.erase(std::remove_if(hooks.begin(), hooks.end(),
                               [&](const Hook& h) { return now_ms >= h.expires_ms + kWeekMs; }),
                hooks.end());
    for (Hook& hook : hooks) {
      while (!hook.payloads.empty() && hook.payloads.front().time_ms + kWeekMs <= now_ms) {
        hook.payloads.pop_front();
      }
    }
  }

  void ping(Hook& hook, int64_t now_ms) {
    if (!hook.notification_url.is_string() || !hook.notifications_enabled || hook.ping_in_flight) {
      return;
    }
    hook.ping_in_flight = true;
    const std::string body = Json{
        {"base", Json{{"id", hook.base_id}}},
        {"webhook", Json{{"id", hook.id}}},
        {"timestamp",
         format_iso_ms(now_ms)}}.dump();
    const std::string id = hook.id;
    notifier.enqueue(PingJob{hook.notification_url.get<std::string>(), body, hook.mac_key,
                             [this, id, now_ms](const PingResult& result) {
                               const std::lock_guard lock(mutex);
                               for (Hook& h : hooks) {
                                 if (h.id != id) {
                                   continue;
                                 }
                                 h.ping_in_flight = false;
                                 Json outcome{{"success", result.success},
                                              {"completionTimestamp", format_iso_ms(now_ms)},
                                              {"durationMs", result.duration_ms},
                                              {"retryNumber", 0}};
                                 if (!result.success) {
                                   outcome["error"] = Json{{"message", result.error}};
                                   outcome["willBeRetried"] = false;
                                 } else {
                                   h.last_success_time = format_iso_ms(now_ms);
                                 }
                                 h.last_notification_result = outcome;
                               }
                             }});
  }
};

WebhookRegistry::WebhookRegistry(IdGenerator& ids) : impl_(std::make_unique<Impl>(ids)) {}
WebhookRegistry::~WebhookRegistry() = default;

Json WebhookRegistry::create(const Base& base, const Json& body, const TokenGrant& grant,
                             int64_t now_ms) {
  if (!grant.role_at_least("create")) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  if (!body.is_object() || !body.contains("specification")) {
    throw bad_spec("the request needs a \"specification\"");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "specification" && key != "notificationUrl") {
      throw bad_spec("unknown key " + key);
    }
  }
  validate(base, body["specification"]);
  require_data_scopes(grant, body["specification"]);
  Json url = body.value("notificationUrl", Json(nullptr));
  if (!url.is_null() && !url.is_string()) {
    throw bad_spec("notificationUrl must be a string or null");
  }
  const std::lock_guard lock(impl_->mutex);
  impl_->sweep(now_ms);
  const auto count = std::count_if(impl_->hooks.begin(), impl_->hooks.end(),
                                   [&](const Hook& h) { return h.base_id == base.id; });
  if (static_cast<size_t>(count) >= kMaxHooksPerBase) {
    throw errors::too_many_webhooks();
  }
  Hook hook;
  hook.id = impl_->ids.next("ach");
  hook.base_id = base.id;
  const std::string hex = impl_->ids.hex(64);
  for (size_t i = 0; i < hex.size(); i += 2) {
    hook.mac_key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  hook.mac_secret_base64 = base64_encode(hook.mac_key);
  hook.notification_url = url;
  hook.specification = body["specification"];
  hook.expires_ms = now_ms + kWeekMs;
  impl_->hooks.push_back(hook);
  return Json{{"id", hook.id},
              {"macSecretBase64", hook.mac_secret_base64},
              {"expirationTime", format_iso_ms(hook.expires_ms)}};
}

Json WebhookRegistry::list(const Base& base, int64_t now_ms) {
  const std::lock_guard lock(impl_->mutex);
  impl_->sweep(now_ms);
  Json out = Json::array();
  for (const Hook& hook : impl_->hooks) {
    if (hook.base_id != base.id) {
      continue;
    }
    out.push_back(Json{{"id", hook.id},
                       {"areNotificationsEnabled", hook.notifications_enabled},
                       {"cursorForNextPayload", hook.next_number},
                       {"isHookEnabled", hook.enabled(now_ms)},
                       {"lastSuccessfulNotificationTime", hook.last_success_time},
                       {"notificationUrl", hook.notification_url},
                       {"lastNotificationResult", hook.last_notification_result},
                       {"expirationTime", format_iso_ms(hook.expires_ms)},
                       {"specification", hook.specification}});
  }
  return Json{{"webhooks", out}};
}

void WebhookRegistry::remove(const Base& base, const std::string& webhook_id) {
  const std::lock_guard lock(impl_->mutex);
  Hook& hook = impl_->find(base, webhook_id);
  const std::string id = hook.id;
  impl_->hooks.erase(std::remove_if(impl_->hooks.begin(), impl_->hooks.end(),
                                    [&](const Hook& h) { return h.id == id; }),
                     impl_->hooks.end());
}

Json WebhookRegistry::refresh(const Base& base, const std::string& webhook_id,
                              const TokenGrant& grant, int64_t now_ms) {
  if (!grant.role_at_least("create")) {
    throw errors::invalid_permissions_or_model_not_found();
  }
  const std::lock_guard lock(impl_->mutex);
  impl_->sweep(now_ms);
  Hook& hook = impl_->find(base, webhook_id);
  if (hook.invalid) {
    throw errors::cannot_refresh_webhook(
        "The webhook was disabled because its specification is no longer valid; create a new "
        "one");
  }
  if (now_ms >= hook.expires_ms) {
    throw errors::cannot_refresh_webhook(
        "The webhook has expired and can no longer be "
        "refreshed; create a new one");
  }
  hook.expires_ms = now_ms + kWeekMs;
  return Json{{"expirationTime", format_iso_ms(hook.expires_ms)}};
}

void WebhookRegistry::enable_notifications(const Base& base, const std::string& webhook_id,
                                           bool enable) {
  const std::lock_guard lock(impl_->mutex);
  impl_->find(base, webhook_id).notifications_enabled = enable;
}

Json WebhookRegistry::payloads(const Base& base, const std::string& webhook_id,
                               const TokenGrant& grant, std::optional<int64_t> cursor,
                               std::optional<int64_t> limit, int64_t now_ms) {
  const int64_t page = limit.value_or(kMaxPayloadsPerPage);
  if (page < 1 || page > kMaxPayloadsPerPage) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data. (limit must "
        "be between 1 and 50)");
  }
  const int64_t from = cursor.value_or(1);
  if (from < 1) {
    throw errors::invalid_request_unknown(
        "Invalid request: parameter validation failed. Check your request data. (cursor must "
        "be positive)");
  }
  const std::lock_guard lock(impl_->mutex);
  impl_->sweep(now_ms);
  Hook& hook = impl_->find(base, webhook_id);
  require_data_scopes(grant, hook.specification);
  if (hook.enabled(now_ms)) {
    hook.expires_ms = now_ms + kWeekMs;  // reading payloads keeps an active hook alive
  }
  // Payloads older than 7 days are gone: a cursor before the oldest kept one starts there, so
  // the answer's cursor minus the request's exceeds the payload count (unverified: Airtable
  // documents no error for it).
  Json out = Json::array();
  int64_t next = from;
  bool more = false;
  for (const Payload& payload : hook.payloads) {
    if (payload.number < from) {
      continue;
    }
    if (static_cast<int64_t>(out.size()) >= page) {
      more = true;
      break;
    }
    out.push_back(payload.body);
    next = payload.number + 1;
  }
  return Json{{"payloads", out}, {"cursor", next}, {"mightHaveMore", more}};
}

void WebhookRegistry::on_change(const Base& base, const ChangeEvent& event) {
  const bool schema_lost = event.kind == ChangeEvent::Kind::kFieldDestroyed ||
                           event.kind == ChangeEvent::Kind::kTableDestroyed;
  const std::lock_guard lock(impl_->mutex);
  for (Hook& hook : impl_->hooks) {
    if (hook.base_id != base.id || !hook.enabled(event.time_ms)) {
      continue;
    }
    const Json header{{"timestamp", format_iso_ms(event.time_ms)},
                      {"baseTransactionNumber", base.transaction_number},
                      {"actionMetadata", action_metadata(event)},
                      {"payloadFormat", "v0"}};
    if (schema_lost && !still_valid(base, hook.specification)) {
      // The action that invalidates the hook yields one error payload and nothing after it.
      hook.invalid = true;
      Json body = header;
      body["error"] = true;
      body["code"] = "INVALID_HOOK";
      hook.payloads.push_back(Payload{hook.next_number++, event.time_ms, std::move(body)});
      impl_->ping(hook, event.time_ms);
      continue;
    }
    const Json options = hook.specification.value("options", Json::object());
    const Json sources =
        options.value("filters", Json::object()).value("fromSources", Json::array());
    if (!sources.empty() &&
        std::find(sources.begin(), sources.end(), event.source) == sources.end()) {
      continue;
    }
    const Json changes = payload_changes(base, event, options);
    if (changes.empty()) {
      continue;
    }
    Json body = header;
    body.update(changes);
    for (Json& part : split_payload(body, impl_->split)) {
      hook.payloads.push_back(Payload{hook.next_number++, event.time_ms, std::move(part)});
    }
    impl_->ping(hook, event.time_ms);
  }
}

void WebhookRegistry::set_split(size_t records_per_payload) {
  const std::lock_guard lock(impl_->mutex);
  impl_->split = records_per_payload;
}

size_t WebhookRegistry::split() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->split;
}

void WebhookRegistry::reset() {
  const std::lock_guard lock(impl_->mutex);
  impl_->hooks.clear();
}

}  // namespace emu
