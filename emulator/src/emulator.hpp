// The emulator: all state behind the API (data, tokens, limits, iterators, webhooks, faults,
// request log, clock) and the request dispatcher the HTTP server calls.
#pragma once

#include <atomic>
#include <string>

#include "attachment_files.hpp"
#include "attachment_urls.hpp"
#include "auth.hpp"
#include "clock.hpp"
#include "faults.hpp"
#include "http_types.hpp"
#include "ids.hpp"
#include "iterators.hpp"
#include "json.hpp"
#include "options.hpp"
#include "rate_limiter.hpp"
#include "request_log.hpp"
#include "store.hpp"
#include "webhooks.hpp"

namespace emu {

class Emulator {
 public:
  // Loads or generates the data; throws std::runtime_error / std::invalid_argument.
  explicit Emulator(const Options& options);

  HttpResponse handle(HttpRequest& request);
  // The first stdout line: {"url", "port", "token", "bases": [{"id", "name"}]}.
  [[nodiscard]] Json startup_info(const std::string& url, uint16_t port);
  // Restores the data the emulator started with and forgets all runtime state.
  void reset();

  const Options& options() const { return options_; }
  Clock& clock() { return clock_; }
  IdGenerator& ids() { return ids_; }
  Store& store() { return store_; }
  TokenRegistry& tokens() { return tokens_; }
  RateLimiter& rate_limiter() { return rate_limiter_; }
  IteratorRegistry& iterators() { return iterators_; }
  WebhookRegistry& webhooks() { return webhooks_; }
  FaultInjector& faults() { return faults_; }
  RequestLog& log() { return log_; }
  AttachmentRegistry& attachments() { return attachments_; }
  const AttachmentSigner& attachment_signer() const { return signer_; }
  [[nodiscard]] int64_t attachment_url_ttl_ms() const { return attachment_url_ttl_ms_; }
  void set_attachment_url_ttl_ms(int64_t ttl_ms) { attachment_url_ttl_ms_ = ttl_ms; }
  // The attachment URLs of an answer to `request`: its Host, expiring TTL from now.
  [[nodiscard]] AttachmentUrlContext attachment_urls(const HttpRequest& request) const;
  // Replaces the data; caller must not hold the store lock.
  void load(Workspace workspace);

 private:
  HttpResponse handle_api(HttpRequest& request, LoggedRequest& entry);
  void install_default_token();
  void configure_from_options();

  Options options_;
  Clock clock_;
  IdGenerator ids_;
  Store store_;
  TokenRegistry tokens_;
  RateLimiter rate_limiter_;
  IteratorRegistry iterators_;
  WebhookRegistry webhooks_;
  FaultInjector faults_;
  RequestLog log_;
  AttachmentSigner signer_;
  AttachmentRegistry attachments_;
  std::atomic<int64_t> attachment_url_ttl_ms_{kDefaultAttachmentUrlTtlMs};
  Workspace initial_;
};

}  // namespace emu
