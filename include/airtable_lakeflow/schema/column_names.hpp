// Readable, unique column names that Delta, Unity Catalog and Spark SQL accept.
#pragma once

#include <set>
#include <string>
#include <vector>

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

struct NamedField {
  std::string id;
  std::string name;
};

// The column of every field of a table, aligned with `fields`, the same whatever subset is
// read and however the fields are ordered: `reserved` names are taken first; then a field
// whose name is already a column name ("a_b") keeps it; then the others take their
// column_name() in field-id order, later ones of a clash getting "_2", "_3", ….
std::vector<std::string> column_names(const std::vector<NamedField>& fields,
                                      const std::vector<std::string>& reserved);

}  // namespace airtable_lakeflow::schema
