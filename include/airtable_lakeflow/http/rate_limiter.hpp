// Proactive throttling to Airtable's published limits: at most 5 requests in any one-second
// window per base and 50 per token. A sliding-window log (not a token bucket, whose burst can
// put 6 requests into one second) keeps the client inside a server that counts over sliding
// windows. A 429 pauses the base for the penalty; a token's monthly-quota 429 stops every
// reader of the token for a while. A reader may also ask for less than a base's 5/s (its share
// of a budget split between hosts that cannot see each other).
//
// The logs live in this process, or in a file that every process of the user on the host maps
// (host_rate_table.hpp): Airtable counts per base and per token across all of them.
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "airtable_lakeflow/http/clock.hpp"

namespace airtable_lakeflow::http {

namespace detail {
class HostRateTable;
}

struct RateLimit {
  size_t per_base = 5;
  size_t per_token = 50;
  Duration window = std::chrono::milliseconds(1000);
  // Added to the window so clock skew between us and the server never costs a 429.
  Duration margin = std::chrono::milliseconds(25);
  // How long a connection just opened waits before its first request: the server must accept
  // the connection before it reads the request, so a request sent at once reaches it late by
  // more than the margin when many connections open together (the emulator on a loaded
  // machine: 40-60 ms, and the first requests of a window counted beside the window after
  // it); after the wait the server is reading, as on a reused connection. Once per connection.
  Duration settle = std::chrono::milliseconds(100);
  // The least time between two sends of a token (zero: none, a window's worth may go at one
  // instant). The server counts a request when it reads it, and dozens let go at one instant
  // (the first or next pages of many tables) reach it spread over tens of milliseconds on a
  // busy machine, the first of a window later than one sent a window after it: 51 in a second
  // at the server, never at the client (24 tables of 12 bases: 20 answers 429 in half the
  // runs). The engine's limiter paces them (`paced()`): no window holds more sends for it,
  // and a token's 50 in a window take the window as before.
  Duration token_pacing{};

  // Airtable's limits as the engine keeps them: a token's sends paced evenly over its window.
  static RateLimit paced() {
    RateLimit limit;
    limit.token_pacing =
        (limit.window + limit.margin) / static_cast<Duration::rep>(limit.per_token);
    return limit;
  }
  // How long a token's monthly-quota mark stops its readers (mark_quota_exhausted). Longer than
  // any running reader goes without looking (an answer takes at most the read timeout, 60 s;
  // waits look every 50 ms), so each of them stops; long enough that restarts of the same work
  // (Spark's task retries, a re-run) fail without asking again; short, because a user who has
  // just raised the plan's quota is kept waiting that long. Airtable resets it monthly.
  Duration quota_stop = std::chrono::minutes(2);
};

// A token's monthly quota, found used up by one of its readers: when, and until when no
// reader of the token sends.
struct QuotaMark {
  TimePoint found;
  TimePoint until;
};

class RateLimiter {
 public:
  // Logs in this process only (tests drive it with a FakeClock).
  explicit RateLimiter(RateLimit limit = {});
  // Logs in the table at `shared_file` (created if missing), shared with every limiter of any
  // process that opens the same file. Its times must be steady_clock times, which every process
  // on the host compares directly. A file that cannot be used (another layout, not ours, limits
  // above what an entry holds) leaves this limiter in-process: shared_file() is then empty.
  RateLimiter(RateLimit limit, const std::string& shared_file);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Reserves the next slot for a request to `base` with `token_key` (a hash, never the token)
  // and returns when it may be sent; the caller sleeps until then.
  //
  // `base_rate` is this reader's share of the base in requests per second (below per_base;
  // larger values leave only the base's limit). It is a spacing: the slot is at least
  // (window + margin) / base_rate from every other send in the base's log, so any n + 1 sends
  // span n / base_rate or more (5 / 3 on each of three hosts: 5/s together on average). It is
  // checked against the whole log, every reader's sends on the host, so the readers of one
  // host share one share, and a reader with a smaller share than others is held to its own.
  // An empty `base` (whoami, the base list) counts against the token's limit only.
  TimePoint reserve(const std::string& token_key, const std::string& base, TimePoint now,
                    double base_rate = std::numeric_limits<double>::infinity());
  // Gives back a slot reserve() returned whose request has not been sent: the logs forget one
  // send at `at`. Never looser for anyone: every other slot was taken with that send counted.
  void release(const std::string& token_key, const std::string& base, TimePoint at);
  // After a 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED for `quota_key` (a token at one API server):
  // quota_exhausted() reports it to every reader until now + quota_stop.
  void mark_quota_exhausted(const std::string& quota_key, TimePoint now);
  // The mark of `quota_key` when one is running at `now`.
  [[nodiscard]] std::optional<QuotaMark> quota_exhausted(const std::string& quota_key,
                                                         TimePoint now);
  // After a 429 RATE_LIMIT_REACHED: nothing goes to `base` before `until`.
  void pause_base(const std::string& base, TimePoint until);
  // The end of `base`'s current pause (the epoch when it was never paused).
  [[nodiscard]] TimePoint paused_until(const std::string& base);
  [[nodiscard]] const RateLimit& limit() const { return limit_; }
  // The shared file the logs are kept in; empty when they are in this process.
  [[nodiscard]] std::string shared_file();

  // One base's or one token's log: sends sorted by time.
  struct Window {
    std::vector<TimePoint> sent;
    TimePoint paused_until{};
    // No send before this: a shared log that was full forgot a send still inside a window.
    TimePoint not_before{};
    // The log is kept until then: a reader's share spaces its sends further apart than the
    // window, and the newest send must outlive the window for that.
    TimePoint hold_until{};
  };

 private:
  // The slot for one send counted in both windows (the same object when they share a log), at
  // least `spacing` from every other send of the base (zero: no share). Without `count_base`
  // only the token's window counts it; the base's pause still holds it.
  TimePoint reserve_in(Window& by_base, Window& by_token, TimePoint now, Duration spacing,
                       bool count_base) const;
  // The spacing of a share of `base_rate` requests per second; zero when it is no share.
  [[nodiscard]] Duration share_spacing(double base_rate) const;
  // The host table, opened again in a forked child (a file lock belongs to the open file,
  // which parent and child would otherwise share); null when the logs are in-process.
  detail::HostRateTable* host_table();

  RateLimit limit_;
  std::mutex mutex_;  // a file lock does not exclude threads sharing one open file
  std::map<std::string, Window> bases_;
  std::map<std::string, Window> tokens_;
  std::map<std::string, QuotaMark> quotas_;
  std::unique_ptr<detail::HostRateTable> host_;
};

// The file this user's processes share on this host: $TMPDIR (default /tmp)
// /airtable-lakeflow-<uid>/rate-limits-v2, the directory the webhook locks use (created 0700).
// Empty when that directory is not a directory of ours.
std::string host_rate_file(const std::string& tmpdir);

// The limiter every engine object in this process shares: host-wide (host_rate_file) unless
// AIRTABLE_LAKEFLOW_HOST_LIMITER=0 or the file cannot be used, then this process's own.
RateLimiter& shared_rate_limiter();
// The file shared_rate_limiter() keeps its logs in; empty when they are in-process.
std::string host_limiter_path();

}  // namespace airtable_lakeflow::http
