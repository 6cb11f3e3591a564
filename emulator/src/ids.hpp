// Airtable ids: a three-letter prefix and 14 alphanumerics ("rec8DwkNhFdnXsiVp"), drawn from
// one seeded generator so a seeded emulator hands out the same ids on every run.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace emu {

class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed) : rng_(seed) {}
  // prefix is "app", "tbl", "fld", "viw", "rec", "itr", "ach", "att", "sel", "usr", …
  std::string next(std::string_view prefix);
  // 64 lowercase hex characters (token secrets, MAC secrets).
  std::string hex(size_t length);
  uint64_t next_u64();

 private:
  std::mutex mutex_;
  std::mt19937_64 rng_;
};

// prefix + exactly 14 ASCII alphanumerics.
bool is_airtable_id(std::string_view text, std::string_view prefix);
// pat + 14 alphanumerics + "." + 64 lowercase hex (Airtable's personal access token format).
bool is_personal_access_token(std::string_view text);

}  // namespace emu
