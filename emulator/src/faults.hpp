// Seeded fault injection and latency. A fault spec is a ';'-separated list of rules, each a
// ','-separated list of key=value:
//   kind=500|502|503|reset|truncate|malformed|delay|iterator_expiry|404|410   (required)
//   route=any|list|get|write|meta|webhooks|download                         (default any)
//   p=0.25 (probability) | every=N (each N-th matching request) | at=3|5|9 (those requests)
//   times=N (fire at most N times)  ms=MS (delay)  retry_after=S (503 Retry-After)
//   attachment=att… (route=download only: downloads of that attachment)
// `any` means every API route, never downloads (attachment files come from Airtable's file
// host, not its API). Downloads take 500, 502, 503, reset, truncate, delay, 404 and 410; the
// last two only downloads.
// e.g. "kind=503,route=list,p=0.1,retry_after=1;kind=reset,every=7;kind=410,route=download"
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "json.hpp"

namespace emu {

enum class RouteClass { kList, kGet, kWrite, kMeta, kWebhooks, kDownload, kOther };

struct FaultRule {
  std::string kind;
  std::string route = "any";
  double probability = 0;
  int64_t every = 0;
  std::vector<int64_t> at;
  int64_t times = -1;  // unlimited
  int64_t delay_ms = 0;
  std::optional<int> retry_after_s;
  std::string attachment;  // route=download: only this attachment's downloads
  // runtime counters
  int64_t seen = 0;
  int64_t fired = 0;
};

struct Fault {
  std::string kind;
  int64_t delay_ms = 0;
  std::optional<int> retry_after_s;
};

struct LatencyModel {
  int64_t fixed_ms = 0;
  int64_t jitter_ms = 0;
};

// Throws std::invalid_argument naming the bad rule or key.
std::vector<FaultRule> parse_fault_spec(const std::string& spec);
// "150" or "150:350" → fixed 150 ms plus uniform jitter in [0, 350].
LatencyModel parse_latency(const std::string& spec);

class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed) : rng_(seed) {}
  void configure(std::vector<FaultRule> rules, LatencyModel latency);
  void set_rules(std::vector<FaultRule> rules);
  void set_latency(LatencyModel latency);
  // Latency of attachment downloads (the API's latency never applies to them).
  void set_download_latency(LatencyModel latency);
  // The first rule that fires for this request, if any. `attachment_id`: downloads only.
  std::optional<Fault> decide(RouteClass route, bool has_offset,
                              const std::string& attachment_id = "");
  int64_t latency_ms();
  int64_t download_latency_ms();
  [[nodiscard]] Json describe() const;

 private:
  mutable std::mutex mutex_;
  std::mt19937_64 rng_;
  std::vector<FaultRule> rules_;
  LatencyModel latency_;
  LatencyModel download_latency_;
};

std::string route_class_name(RouteClass route);

}  // namespace emu
