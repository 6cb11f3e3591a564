// Time as the engine sees it. Retries, backoff and throttling ask a Clock instead of the
// system, so tests drive them with a fake clock and never sleep.
#pragma once

#include <chrono>
#include <mutex>

namespace airtable_lakeflow::http {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
  virtual void sleep_until(TimePoint until) = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override;
  void sleep_until(TimePoint until) override;
};

// A clock that only moves when something sleeps on it or a test advances it.
class FakeClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override;
  void sleep_until(TimePoint until) override;
  void advance(Duration by);
  [[nodiscard]] Duration total_slept() const;

 private:
  mutable std::mutex mutex_;
  TimePoint now_{};
  Duration slept_{0};
};

}  // namespace airtable_lakeflow::http
