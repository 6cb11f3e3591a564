// Readable, unique column names that Delta, Unity Catalog and Spark SQL accept.
#pragma once

#include <set>
#include <string>

namespace airtable_lakeflow::schema {

inline constexpr size_t kMaxColumnName = 128;

// "Due Date (UTC)" → "due_date_utc", "Región 📣" → "región": ASCII letters lowercased, letters
// of other scripts kept, every run of anything else (spaces, punctuation, symbols, emoji)
// becomes one "_", no "_" at either end, at most kMaxColumnName bytes (cut on a UTF-8
// boundary); "field" when nothing is left.
std::string column_name(const std::string& airtable_name);

// Hands out names in call order: the first taker keeps a name, later ones get "_2", "_3", …
// Comparison ignores ASCII case, as Spark and Unity Catalog do.
class NameAllocator {
 public:
  std::string take(const std::string& wanted);

 private:
  std::set<std::string> taken_;  // lowercased
};

}  // namespace airtable_lakeflow::schema
