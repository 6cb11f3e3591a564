// What the rate limiter tests check of a set of send instants.
#pragma once

#include <algorithm>
#include <vector>

#include "airtable_lakeflow/http/clock.hpp"

namespace airtable_lakeflow::http {

// True when no window of `span` holds more than `limit` of the times.
inline bool within_limit(std::vector<TimePoint> times, size_t limit, Duration span) {
  std::sort(times.begin(), times.end());
  for (size_t i = limit; i < times.size(); ++i) {
    if (times[i] - times[i - limit] < span) {
      return false;
    }
  }
  return true;
}

// True when the times never exceed `rate` per `unit`: any n + 1 of them span at least n / rate
// units, so every window of n / rate units holds at most n, for every n.
inline bool within_rate(std::vector<TimePoint> times, double rate, Duration unit) {
  std::sort(times.begin(), times.end());
  for (size_t n = 1; n < times.size(); ++n) {
    const auto least = std::chrono::duration_cast<Duration>(unit * (static_cast<double>(n) / rate));
    for (size_t i = n; i < times.size(); ++i) {
      if (times[i] - times[i - n] < least) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace airtable_lakeflow::http
