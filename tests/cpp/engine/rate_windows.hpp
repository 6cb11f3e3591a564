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

}  // namespace airtable_lakeflow::http
