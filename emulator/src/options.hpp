// Command-line options of airtable-emulator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace emu {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string port_file;
  std::string data_dir;
  bool demo = false;
  std::string generate;  // "TABLESxRECORDS" or "BASESxTABLESxRECORDS"
  uint64_t seed = 42;
  std::string token;  // default: kDefaultToken
  bool rate_limit = true;
  double penalty_seconds = 30;
  std::string latency;  // "MS[:JITTER]"
  std::string faults;   // see faults.hpp
  double iterator_ttl_seconds = 60;
  int64_t monthly_quota = 0;
  size_t webhook_split = 0;  // records per webhook payload before an action is split; 0 = never
  double attachment_url_ttl_seconds = 7200;  // attachment URLs stop working this long after
  std::string download_latency;              // "MS[:JITTER]" per attachment download
  bool quiet = false;
};

// The token a --demo / --generate emulator accepts unless --token says otherwise. It has
// Airtable's personal-access-token shape so clients that check the format accept it.
inline constexpr const char* kDefaultToken =
    "patEmulatorToken1.0000000000000000000000000000000000000000000000000000000000000001";

struct ParseResult {
  std::optional<Options> options;  // nullopt: exit with `exit_code` after printing `message`
  int exit_code = 0;
  std::string message;
};

ParseResult parse_options(int argc, const char* const* argv);
std::string usage();

}  // namespace emu
