// Where the emulator's data comes from: the demo base, a seeded generator, or a directory of
// JSON files (one per base). All produce a Workspace with deterministic ids for a given seed.
#pragma once

#include <cstdint>
#include <string>

#include "ids.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

// The demo base shaped like the seed issue's: "Packaging Tasks", "Campaigns",
// "Creative Requests", linked, with names containing spaces, punctuation, non-ASCII and emoji.
Workspace make_demo_workspace(IdGenerator& ids, int64_t now_ms);

// One base of `tables` tables × `records` records covering every field type, with links
// between tables. 1,000,000 records in seconds.
Workspace generate_workspace(IdGenerator& ids, int tables, int64_t records, int64_t now_ms);
// `bases` such bases ("Generated base 1", …; one base keeps the name "Generated base"),
// sharing the workspace's users: one token, many bases, as benchmarks of many bases need.
Workspace generate_workspace(IdGenerator& ids, int bases, int tables, int64_t records,
                             int64_t now_ms);

// "3x1000" → {3, 1000}; throws std::invalid_argument.
std::pair<int, int64_t> parse_generate_spec(const std::string& spec);

inline constexpr int64_t kMaxGeneratedBases = 1000;

struct GenerateSpec {
  int bases = 1;
  int tables = 0;
  int64_t records = 0;
};
// The --generate value: "TxR" (one base) or "BxTxR" (B bases); throws std::invalid_argument.
GenerateSpec parse_generate_option(const std::string& spec);

// Loads DIR/*.json (the format written by base_to_json). Throws std::runtime_error naming the
// file and the key that is wrong.
Workspace load_data_dir(const std::string& dir, IdGenerator& ids, int64_t now_ms);
// A base (schema, records by field id, users) in the data-directory format.
Json base_to_json(const Workspace& workspace, const Base& base);
// Loads one base from that format (used by load_data_dir and the control API).
Base base_from_json(const Json& json, Workspace& workspace, IdGenerator& ids, int64_t now_ms);

}  // namespace emu
