#include "airtable_lakeflow/http/clock.hpp"

#include <thread>

namespace airtable_lakeflow::http {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

void SystemClock::sleep_until(TimePoint until) { std::this_thread::sleep_until(until); }

TimePoint FakeClock::now() const {
  const std::lock_guard lock(mutex_);
  return now_;
}

void FakeClock::sleep_until(TimePoint until) {
  const std::lock_guard lock(mutex_);
  if (until > now_) {
    slept_ += until - now_;
    now_ = until;
  }
}

void FakeClock::advance(Duration by) {
  const std::lock_guard lock(mutex_);
  now_ += by;
}

Duration FakeClock::total_slept() const {
  const std::lock_guard lock(mutex_);
  return slept_;
}

}  // namespace airtable_lakeflow::http
