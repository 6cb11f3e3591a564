// Airtable webhooks: at most 10 per base, each with a specification (which changes it
// watches), a 7-day expiry pushed back by refresh and by reading payloads, and a payload log
// with a monotonic cursor. Payloads older than 7 days are dropped whether read or not. A hook
// whose specification names a deleted field, view or table is disabled with an INVALID_HOOK
// error payload. All times come from the caller (the emulator's injectable clock).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth.hpp"
#include "change_event.hpp"
#include "ids.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

class WebhookRegistry {
 public:
  explicit WebhookRegistry(IdGenerator& ids);
  ~WebhookRegistry();
  WebhookRegistry(const WebhookRegistry&) = delete;
  WebhookRegistry& operator=(const WebhookRegistry&) = delete;

  // POST /v0/bases/{baseId}/webhooks → {"id", "macSecretBase64", "expirationTime"}.
  // Throws ApiError (spec invalid, more than 10 hooks, role below creator).
  Json create(const Base& base, const Json& body, const TokenGrant& grant, int64_t now_ms);
  // GET /v0/bases/{baseId}/webhooks → {"webhooks": [...]}
  Json list(const Base& base, int64_t now_ms);
  // DELETE …/webhooks/{id}; throws ApiError when unknown.
  void remove(const Base& base, const std::string& webhook_id);
  // POST …/webhooks/{id}/refresh → {"expirationTime": …}; needs the creator role.
  Json refresh(const Base& base, const std::string& webhook_id, const TokenGrant& grant,
               int64_t now_ms);
  // POST …/webhooks/{id}/enableNotifications with {"enable": bool}
  void enable_notifications(const Base& base, const std::string& webhook_id, bool enable);
  // GET …/webhooks/{id}/payloads?cursor=&limit= → {"payloads", "cursor", "mightHaveMore"};
  // needs the scopes of the hook's dataTypes.
  Json payloads(const Base& base, const std::string& webhook_id, const TokenGrant& grant,
                std::optional<int64_t> cursor, std::optional<int64_t> limit, int64_t now_ms);
  // Called by the store (under its exclusive lock) after every change to a base.
  void on_change(const Base& base, const ChangeEvent& event);
  // Forgets every hook (not the split knob).
  void reset();
  // Test knob: an action with more than N record changes becomes several payloads sharing
  // timestamp, baseTransactionNumber and actionMetadata, as Airtable may split. 0 = off.
  void set_split(size_t records_per_payload);
  [[nodiscard]] size_t split() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emu
