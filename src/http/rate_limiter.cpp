#include "airtable_lakeflow/http/rate_limiter.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "host_rate_table.hpp"

namespace airtable_lakeflow::http {

namespace {

using Window = RateLimiter::Window;

// The first instant >= at where one more send keeps every window of `span` over `sent`
// (sorted) within `limit`: the window ending at that instant, and the windows ending at later
// sends that it would fall into too (a pause or another base's full window puts sends ahead of
// now, and a slot can open before them).
TimePoint earliest(const std::vector<TimePoint>& sent, size_t limit, Duration span, TimePoint at) {
  for (;;) {
    const auto end = std::upper_bound(sent.begin(), sent.end(), at);
    const auto in_window =
        static_cast<size_t>(end - std::upper_bound(sent.begin(), end, at - span));
    if (in_window >= limit) {
      at = *(end - static_cast<std::ptrdiff_t>(limit)) + span;
      continue;
    }
    auto later = end;
    for (; later != sent.end() && *later < at + span; ++later) {
      const auto through = std::upper_bound(later, sent.end(), *later);
      if (static_cast<size_t>(through - std::upper_bound(sent.begin(), later, *later - span)) >=
          limit) {
        break;
      }
    }
    if (later == sent.end() || *later >= at + span) {
      return at;
    }
    at = *later;  // that window is full: the next turn moves past it
  }
}

void insert_sorted(Window& window, TimePoint at) {
  window.sent.insert(std::upper_bound(window.sent.begin(), window.sent.end(), at), at);
}

void forget(Window& window, TimePoint at) {
  const auto found = std::lower_bound(window.sent.begin(), window.sent.end(), at);
  if (found != window.sent.end() && *found == at) {
    window.sent.erase(found);
  }
}

TimePoint from_ns(int64_t ns) { return TimePoint(Duration(ns)); }
int64_t to_ns(TimePoint at) { return at.time_since_epoch().count(); }

Window load(const detail::HostEntry& entry) {
  Window window;
  window.sent.reserve(entry.count + 1);
  for (uint32_t i = 0; i < entry.count; ++i) {
    window.sent.push_back(from_ns(entry.sent[i]));
  }
  if (!std::is_sorted(window.sent.begin(), window.sent.end())) {
    std::sort(window.sent.begin(), window.sent.end());  // damaged: sorted again, never trusted
  }
  window.paused_until = from_ns(entry.paused_until);
  window.not_before = from_ns(entry.not_before);
  window.hold_until = from_ns(entry.hold_until);
  return window;
}

void store(const Window& window, detail::HostEntry& entry, Duration span) {
  // A full entry forgets its oldest sends; no later send may then land in a window that held
  // one of them, or that window could hold one too many.
  const size_t dropped =
      window.sent.size() > detail::kSends ? window.sent.size() - detail::kSends : 0;
  TimePoint not_before = window.not_before;
  if (dropped > 0) {
    not_before = std::max(not_before, window.sent[dropped - 1] + span);
  }
  entry.count = static_cast<uint32_t>(window.sent.size() - dropped);
  for (uint32_t i = 0; i < entry.count; ++i) {
    entry.sent[i] = to_ns(window.sent[dropped + i]);
  }
  entry.paused_until = to_ns(window.paused_until);
  entry.not_before = to_ns(not_before);
  entry.hold_until = to_ns(window.hold_until);
}

// Base ids, token keys and quota keys never collide in the shared table.
std::string base_log_key(const std::string& base) { return "base:" + base; }
std::string token_log_key(const std::string& token) { return "token:" + token; }
std::string quota_log_key(const std::string& quota) { return "quota:" + quota; }

TimePoint steady_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

bool turned_off(std::string_view setting) {
  return setting == "0" || setting == "false" || setting == "off" || setting == "no";
}

}  // namespace

RateLimiter::RateLimiter(RateLimit limit) : limit_(limit) {}

RateLimiter::RateLimiter(RateLimit limit, const std::string& shared_file) : limit_(limit) {
  if (!shared_file.empty() && std::max(limit.per_base, limit.per_token) <= detail::kSends) {
    host_ = detail::HostRateTable::open(shared_file);
  }
}

RateLimiter::~RateLimiter() = default;

detail::HostRateTable* RateLimiter::host_table() {
  if (host_ && !host_->opened_here()) {
    host_ = detail::HostRateTable::open(host_->path());  // null: in-process from now on
  }
  return host_.get();
}

std::string RateLimiter::shared_file() {
  const std::lock_guard lock(mutex_);
  const detail::HostRateTable* table = host_table();
  return table == nullptr ? std::string() : table->path();
}

Duration RateLimiter::share_spacing(double base_rate) const {
  if (!(base_rate > 0) || base_rate >= static_cast<double>(limit_.per_base)) {
    return Duration::zero();  // the base's own limit (a rate <= 0 never passes the config)
  }
  // With the margin, as the base's limit has it: a share of 5 would space sends as 5 per window.
  const double span_ns = static_cast<double>((limit_.window + limit_.margin).count());
  return Duration(static_cast<Duration::rep>(std::ceil(span_ns / base_rate)));
}

TimePoint RateLimiter::reserve_in(Window& by_base, Window& by_token, TimePoint now,
                                  Duration spacing, bool count_base) const {
  // Forget sends that can no longer matter to anyone asking from `now` on, but the last one
  // before the window: a share's spacing may reach further back.
  const Duration span = limit_.window + limit_.margin;
  for (Window* window : {&by_base, &by_token}) {
    const auto old = std::upper_bound(window->sent.begin(), window->sent.end(), now - span);
    if (old != window->sent.begin()) {
      window->sent.erase(window->sent.begin(), old - 1);
    }
  }
  TimePoint at = std::max(
      {now, by_base.paused_until, by_base.not_before, by_token.paused_until, by_token.not_before});
  // Every rule must accept the same instant; each step only moves forward. A share is one send
  // per `spacing` window of the base's log.
  for (;;) {
    TimePoint next = earliest(by_token.sent, limit_.per_token, span, at);
    if (limit_.token_pacing > Duration::zero()) {
      next = std::max(next, earliest(by_token.sent, 1, limit_.token_pacing, next));
    }
    if (count_base) {
      next = std::max(next, earliest(by_base.sent, limit_.per_base, span, at));
    }
    if (count_base && spacing > Duration::zero()) {
      next = std::max(next, earliest(by_base.sent, 1, spacing, next));
    }
    if (next == at) {
      break;
    }
    at = next;
  }
  // Requests for different bases can reserve out of order: keep each log sorted.
  insert_sorted(by_token, at);
  if (!count_base) {
    return at;
  }
  if (&by_token != &by_base) {
    insert_sorted(by_base, at);
  }
  if (spacing > span) {
    by_base.hold_until = std::max(by_base.hold_until, at + spacing);
  }
  return at;
}

TimePoint RateLimiter::reserve(const std::string& token_key, const std::string& base, TimePoint now,
                               double base_rate) {
  // A request of no base (whoami, the base list) counts only against the token's limit, as
  // Airtable counts it; a pause after its 429 still holds it.
  const bool count_base = !base.empty();
  const Duration spacing = count_base ? share_spacing(base_rate) : Duration::zero();
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    if (!count_base) {
      const auto paused = bases_.find(base);
      Window none;
      return reserve_in(paused == bases_.end() ? none : paused->second, tokens_[token_key], now,
                        spacing, false);
    }
    return reserve_in(bases_[base], tokens_[token_key], now, spacing, true);
  }
  const Duration span = limit_.window + limit_.margin;
  const auto file_lock = table->lock();
  // No entry claimed for the sends of no base: only a pause of it is looked at.
  detail::HostEntry* base_entry = table->entry(base_log_key(base), now, span, count_base);
  detail::HostEntry* token_entry =
      table->entry(token_log_key(token_key), now, span, true, base_entry);
  if (token_entry == base_entry) {  // one shared slot: one log counts for both
    Window shared = load(*token_entry);
    const TimePoint at = reserve_in(shared, shared, now, spacing, count_base);
    store(shared, *token_entry, span);
    return at;
  }
  Window by_base = base_entry == nullptr ? Window{} : load(*base_entry);
  Window by_token = load(*token_entry);
  const TimePoint at = reserve_in(by_base, by_token, now, spacing, count_base);
  if (count_base) {
    store(by_base, *base_entry, span);
  }
  store(by_token, *token_entry, span);
  return at;
}

void RateLimiter::release(const std::string& token_key, const std::string& base, TimePoint at) {
  const bool count_base = !base.empty();
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    forget(tokens_[token_key], at);
    if (count_base) {
      forget(bases_[base], at);
    }
    return;
  }
  const Duration span = limit_.window + limit_.margin;
  const auto file_lock = table->lock();
  // The entries reserve() logged the slot in (never claimed here: no entry, nothing to forget).
  detail::HostEntry* base_entry =
      count_base ? table->entry(base_log_key(base), at, span, false) : nullptr;
  detail::HostEntry* token_entry =
      table->entry(token_log_key(token_key), at, span, false, base_entry);
  // One shared slot (a hash collision): the send was logged there once.
  for (detail::HostEntry* entry : {base_entry, token_entry == base_entry ? nullptr : token_entry}) {
    if (entry != nullptr) {
      Window window = load(*entry);
      forget(window, at);
      store(window, *entry, span);
    }
  }
}

void RateLimiter::mark_quota_exhausted(const std::string& quota_key, TimePoint now) {
  const QuotaMark mark{now, now + limit_.quota_stop};
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    quotas_[quota_key] = mark;
    return;
  }
  const std::string key = quota_log_key(quota_key);
  const auto file_lock = table->lock();
  detail::HostEntry* entry = table->entry(key, steady_now(), limit_.window + limit_.margin, true);
  // A slot shared with another key holds this key's mark: the other key's checks skip it.
  entry->quota_key = detail::host_key_hash(key);
  entry->quota_found = to_ns(mark.found);
  entry->quota_until = to_ns(mark.until);
}

std::optional<QuotaMark> RateLimiter::quota_exhausted(const std::string& quota_key, TimePoint now) {
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    const auto mark = quotas_.find(quota_key);
    if (mark == quotas_.end() || mark->second.until <= now) {
      return std::nullopt;
    }
    return mark->second;
  }
  const std::string key = quota_log_key(quota_key);
  const auto file_lock = table->lock();
  const detail::HostEntry* entry =
      table->entry(key, steady_now(), limit_.window + limit_.margin, false);
  if (entry == nullptr || entry->quota_key != detail::host_key_hash(key) ||
      entry->quota_until <= to_ns(now)) {
    return std::nullopt;
  }
  return QuotaMark{from_ns(entry->quota_found), from_ns(entry->quota_until)};
}

void RateLimiter::pause_base(const std::string& base, TimePoint until) {
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    Window& window = bases_[base];
    window.paused_until = std::max(window.paused_until, until);
    return;
  }
  const auto file_lock = table->lock();
  detail::HostEntry* entry =
      table->entry(base_log_key(base), steady_now(), limit_.window + limit_.margin, true);
  entry->paused_until = std::max(entry->paused_until, to_ns(until));
}

TimePoint RateLimiter::paused_until(const std::string& base) {
  const std::lock_guard lock(mutex_);
  detail::HostRateTable* table = host_table();
  if (table == nullptr) {
    const auto window = bases_.find(base);
    return window == bases_.end() ? TimePoint{} : window->second.paused_until;
  }
  const auto file_lock = table->lock();
  const detail::HostEntry* entry =
      table->entry(base_log_key(base), steady_now(), limit_.window + limit_.margin, false);
  return entry == nullptr ? TimePoint{} : from_ns(entry->paused_until);
}

std::string host_rate_file(const std::string& tmpdir) {
  const std::string directory = (tmpdir.empty() ? std::string("/tmp") : tmpdir) +
                                "/airtable-lakeflow-" + std::to_string(::getuid());
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return {};
  }
  struct stat info {};
  if (::lstat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
      info.st_uid != ::getuid()) {
    return {};  // someone else's path: never share through it
  }
  return directory + "/rate-limits-v2";
}

RateLimiter& shared_rate_limiter() {
  // Never destroyed: a reader thread still running while the process exits keeps its table.
  static RateLimiter* limiter = []() {
    const char* setting = std::getenv("AIRTABLE_LAKEFLOW_HOST_LIMITER");
    if (setting != nullptr && turned_off(setting)) {
      return new RateLimiter(RateLimit::paced());
    }
    const char* tmpdir = std::getenv("TMPDIR");
    // An empty path (the directory cannot be used) leaves the logs in-process.
    return new RateLimiter(RateLimit::paced(), host_rate_file(tmpdir == nullptr ? "" : tmpdir));
  }();
  return *limiter;
}

std::string host_limiter_path() { return shared_rate_limiter().shared_file(); }

}  // namespace airtable_lakeflow::http
