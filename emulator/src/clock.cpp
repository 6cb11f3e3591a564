#include "clock.hpp"

#include <chrono>

namespace emu {

int64_t Clock::now_ms() const {
  const int64_t frozen = frozen_ms_;
  const int64_t base = frozen != 0 ? frozen
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  return base + offset_ms_;
}

}  // namespace emu
