#include "ids.hpp"

#include <cctype>

namespace emu {

namespace {
constexpr std::string_view kAlphanumerics =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kHex = "0123456789abcdef";
}  // namespace

std::string IdGenerator::next(std::string_view prefix) {
  std::string id(prefix);
  const std::lock_guard lock(mutex_);
  for (int i = 0; i < 14; ++i) {
    id.push_back(kAlphanumerics[rng_() % kAlphanumerics.size()]);
  }
  return id;
}

std::string IdGenerator::hex(size_t length) {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(kHex[rng_() % kHex.size()]);
  }
  return out;
}

uint64_t IdGenerator::next_u64() {
  const std::lock_guard lock(mutex_);
  return rng_();
}

bool is_airtable_id(std::string_view text, std::string_view prefix) {
  if (text.size() != prefix.size() + 14 || text.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (const char c : text.substr(prefix.size())) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

bool is_personal_access_token(std::string_view text) {
  if (text.size() != 17 + 1 + 64 || !is_airtable_id(text.substr(0, 17), "pat") || text[17] != '.') {
    return false;
  }
  for (const char c : text.substr(18)) {
    if (kHex.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace emu
