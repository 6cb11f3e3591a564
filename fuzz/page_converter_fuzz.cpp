// Random list-records pages against random schemas. The input's tail (FuzzedDataProvider reads
// integers from the end) picks the schema: the golden fixture's table, or fields of random
// types and options whose ids come from the fixture (so its pages hit them) or nowhere; the
// input's head is one to three page bodies. A page may only be converted or refused as
// MalformedPage; every batch must have a valid layout, valid UTF-8 text and `_rescued_data`
// that is a JSON object.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "airtable_lakeflow/arrow/c_owner.hpp"
#include "airtable_lakeflow/convert/page_converter.hpp"
#include "airtable_lakeflow/schema/table_layout.hpp"
#include "arrow_json.hpp"

namespace {

using airtable_lakeflow::api::FieldInfo;
using airtable_lakeflow::api::TableInfo;
using airtable_lakeflow::arrow::UniqueArray;
using airtable_lakeflow::arrow::UniqueSchema;
using airtable_lakeflow::convert::MalformedPage;
using airtable_lakeflow::convert::PageConverter;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "page converter invariant broken: %s\n", what.c_str());
  std::abort();
}

const TableInfo& golden_table() {
  static const TableInfo table = [] {
    std::ifstream in(std::string(TEST_DATA_DIR) + "/convert/all_types.schema.json");
    std::stringstream text;
    text << in.rdbuf();
    const auto tables = airtable_lakeflow::api::parse_tables(text.str(), "fixture");
    return airtable_lakeflow::schema::find_table(tables, "Everything", "fixture");
  }();
  return table;
}

// Every type the mapping knows, and two it does not.
constexpr const char* kTypes[] = {"singleLineText",
                                  "email",
                                  "url",
                                  "multilineText",
                                  "richText",
                                  "phoneNumber",
                                  "singleSelect",
                                  "externalSyncSource",
                                  "simpleText",
                                  "multipleSelects",
                                  "multipleRecordLinks",
                                  "number",
                                  "currency",
                                  "percent",
                                  "autoNumber",
                                  "count",
                                  "rating",
                                  "duration",
                                  "checkbox",
                                  "date",
                                  "dateTime",
                                  "createdTime",
                                  "lastModifiedTime",
                                  "singleCollaborator",
                                  "createdBy",
                                  "lastModifiedBy",
                                  "multipleCollaborators",
                                  "multipleAttachments",
                                  "barcode",
                                  "button",
                                  "aiText",
                                  "formula",
                                  "rollup",
                                  "multipleLookupValues",
                                  "lookup",
                                  "manualSort",
                                  "futureType",
                                  ""};

// Names that column naming finds awkward: clashes with system columns and each other, case,
// punctuation only, non-ASCII, emoji, long.
constexpr const char* kNames[] = {
    "Name", "name", "id", "ID",       "created_time", "_rescued_data",  "a-b", "a b",
    "a_b",  "!!!",  "",   "Región 📣", "field",        "Due Date (UTC)", "x",   "X"};

std::string field_id(FuzzedDataProvider& input) {
  const auto& fields = golden_table().fields;
  const auto pick = input.ConsumeIntegralInRange<size_t>(0, fields.size() + 3);
  if (pick < fields.size()) {
    return fields[pick].id;
  }
  switch (pick - fields.size()) {
    case 0: return "fldNotOnAnyPage01";
    case 1: return "";
    case 2: return "fldAnIdLongerThanAShortKeyHolds00000001";
    default: return "id";
  }
}

nlohmann::json options(FuzzedDataProvider& input, int depth);

nlohmann::json result_config(FuzzedDataProvider& input, int depth) {
  nlohmann::json result = nlohmann::json::object();
  if (input.ConsumeIntegralInRange<int>(0, 7) != 0) {
    result["type"] = kTypes[input.ConsumeIntegralInRange<size_t>(0, std::size(kTypes) - 1)];
  }
  if (input.ConsumeBool()) {
    result["options"] = options(input, depth + 1);
  }
  return result;
}

nlohmann::json options(FuzzedDataProvider& input, int depth) {
  switch (input.ConsumeIntegralInRange<int>(0, 6)) {
    case 0: return nullptr;
    case 1: return {{"precision", input.ConsumeIntegralInRange<int>(-2, 12)}};
    case 2: return {{"precision", "2"}};
    case 3: return nlohmann::json::array();
    default:
      if (depth > 6) {
        return nlohmann::json::object();
      }
      return {{"result", result_config(input, depth)},
              {"precision", input.ConsumeIntegralInRange<int>(0, 8)}};
  }
}

TableInfo random_table(FuzzedDataProvider& input) {
  TableInfo table;
  table.id = "tblFuzz";
  table.name = "Fuzz";
  const int fields = input.ConsumeIntegralInRange<int>(0, 12);
  for (int i = 0; i < fields; ++i) {
    FieldInfo field;
    field.id = field_id(input);
    field.name =
        std::string(kNames[input.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)]) +
        kNames[input.ConsumeIntegralInRange<size_t>(0, std::size(kNames) - 1)];
    field.type = kTypes[input.ConsumeIntegralInRange<size_t>(0, std::size(kTypes) - 1)];
    field.options_json = options(input, 0).dump();
    table.fields.push_back(std::move(field));
  }
  return table;
}

// A subset of the table's fields by id or name, or all of them.
std::vector<std::string> selection(FuzzedDataProvider& input, const TableInfo& table) {
  std::vector<std::string> out;
  if (input.ConsumeIntegralInRange<int>(0, 3) != 0) {
    return out;
  }
  for (const FieldInfo& field : table.fields) {
    switch (input.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: out.push_back(field.id); break;
      case 1: out.push_back(field.name); break;
      default: break;
    }
  }
  return out;
}

void check_batch(const airtable_lakeflow::schema::TableLayout& layout, const ArrowArray& batch,
                 int64_t rows) {
  if (batch.length != rows) {
    fail("batch of " + std::to_string(batch.length) + " rows, " + std::to_string(rows) +
         " appended");
  }
  const auto fields = layout.arrow_fields();
  if (const std::string problem = airtable_lakeflow::testing::batch_problem(fields, batch);
      !problem.empty()) {
    fail(problem);
  }
  // Rendering reads every value; dump() throws on text that is not UTF-8.
  const std::string rendered = airtable_lakeflow::testing::render_rows(fields, batch);
  std::istringstream lines(rendered);
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line);
    const auto& rescued = row.at(airtable_lakeflow::schema::kRescuedColumn);
    if (!rescued.is_null() && !nlohmann::json::parse(rescued.get<std::string>()).is_object()) {
      fail("_rescued_data is not a JSON object: " + rescued.dump());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const bool golden = input.ConsumeBool();
  const TableInfo table = golden ? golden_table() : random_table(input);
  airtable_lakeflow::schema::TableLayout layout;
  try {
    layout = airtable_lakeflow::schema::plan_table(table, selection(input, table));
  } catch (const airtable_lakeflow::Error& error) {
    if (error.kind() != airtable_lakeflow::ErrorKind::kConfig) {
      throw;
    }
    return 0;  // a selected field that does not exist (two fields named alike, say)
  }
  PageConverter converter(layout);
  UniqueSchema schema;
  converter.export_schema(schema.get());

  const int pages = input.ConsumeIntegralInRange<int>(1, 3);
  const auto drop = input.ConsumeIntegral<uint8_t>();  // records the keep() filter leaves out
  const bool padded = input.ConsumeBool();
  const bool batch_per_page = input.ConsumeBool();
  std::vector<std::string> bodies;
  for (int i = 0; i < pages; ++i) {
    std::string text = i + 1 == pages ? input.ConsumeRemainingBytesAsString()
                                      : input.ConsumeRandomLengthString(1 << 20);
    std::string& body = bodies.emplace_back();
    if (padded) {
      body.reserve(text.size() + simdjson::SIMDJSON_PADDING);  // as the transport leaves it
    }
    body.assign(text);
  }
  int64_t rows = 0;
  size_t seen = 0;
  std::function<bool(std::string_view)> keep;
  if (drop != 0) {
    keep = [&](std::string_view) { return ((drop >> (seen++ % 8)) & 1U) == 0; };
  }
  for (const std::string& body : bodies) {
    try {
      const auto result = converter.append_page(body, keep);
      rows += result.records;
    } catch (const MalformedPage&) {
    }
    if (converter.rows() != rows) {
      fail("rows() " + std::to_string(converter.rows()) + ", " + std::to_string(rows) +
           " appended");
    }
    if (batch_per_page) {
      UniqueArray batch;
      converter.finish(batch.get());
      check_batch(layout, *batch.get(), rows);
      rows = 0;
    }
  }
  UniqueArray batch;
  converter.finish(batch.get());
  check_batch(layout, *batch.get(), rows);
  return 0;
}
