// Emulated time: wall clock plus an offset that tests can advance (webhook expiry, iterator
// idle timeouts, rate-limit penalties), so nothing in a test has to sleep.
#pragma once

#include <atomic>
#include <cstdint>

namespace emu {

class Clock {
 public:
  // Milliseconds since the Unix epoch, emulated.
  [[nodiscard]] int64_t now_ms() const;
  void advance_ms(int64_t delta_ms) { offset_ms_ += delta_ms; }
  [[nodiscard]] int64_t offset_ms() const { return offset_ms_; }
  // Pin emulated time to a fixed instant (0 = follow the wall clock again).
  void freeze_at_ms(int64_t at_ms) { frozen_ms_ = at_ms; }

 private:
  std::atomic<int64_t> offset_ms_{0};
  std::atomic<int64_t> frozen_ms_{0};
};

}  // namespace emu
