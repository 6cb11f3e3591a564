// Delivers webhook notification pings: a POST of {"base", "webhook", "timestamp"} signed with
// X-Airtable-Content-MAC (HMAC-SHA256 keyed with the hook's secret), from one background
// thread so that no API request waits on a receiver.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace emu {

struct PingResult {
  bool success = false;
  int64_t duration_ms = 0;
  std::string error;
};

struct PingJob {
  std::string url;
  std::string body;
  std::string mac_key;  // raw bytes
  std::function<void(const PingResult&)> done;
};

class WebhookNotifier {
 public:
  WebhookNotifier();
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  void enqueue(PingJob job);

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<PingJob> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

// hex(HMAC-SHA256(key, message))
std::string hmac_sha256_hex(const std::string& key, const std::string& message);
std::string base64_encode(const std::string& bytes);
// POSTs `body` to an http:// URL; throws std::runtime_error on failure.
int http_post(const std::string& url, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace emu
