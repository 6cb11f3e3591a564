#include "datasets.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "field_types.hpp"

namespace emu {
namespace {

// Both sides of every link agree.
void expect_links_symmetric(const Base& base) {
  int checked = 0;
  for (const Table& table : base.tables) {
    for (const Field& field : table.fields) {
      if (field.type != "multipleRecordLinks" || !field.options.contains("inverseLinkFieldId")) {
        continue;
      }
      const Table* other = base.table_by_id(field.options["linkedTableId"].get<std::string>());
      const Field* inverse =
          other->field_by_id(field.options["inverseLinkFieldId"].get<std::string>());
      ASSERT_NE(inverse, nullptr);
      for (const auto& [seq, record] : table.records) {
        const Json& cell = record.cells[field.slot];
        if (cell.is_null()) continue;
        for (const Json& id : cell) {
          const Record* target = other->find_record(id.get<std::string>());
          ASSERT_NE(target, nullptr);
          const Json& back = target->cells[inverse->slot];
          EXPECT_NE(std::find(back.begin(), back.end(), record.id), back.end());
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Datasets, DemoBaseIsShapedLikeTheSeed) {
  IdGenerator ids(42);
  const Workspace ws = make_demo_workspace(ids, 0);
  ASSERT_EQ(ws.bases.size(), 1U);
  const Base& base = ws.bases[0];
  std::vector<std::string> names;
  for (const Table& t : base.tables) {
    names.push_back(t.name);
    EXPECT_NE(t.field_by_id(t.primary_field_id), nullptr);
    EXPECT_EQ(t.views.front().name, "Grid view");
    // A blank record: nothing in any editable field (buttons and AI fields show anyway).
    bool blank = false;
    for (const auto& [seq, r] : t.records) {
      bool empty = true;
      for (const Field& f : t.fields) {
        empty = empty && (is_computed_type(f.type) || r.cells[f.slot].is_null());
      }
      blank = blank || empty;
    }
    EXPECT_TRUE(blank) << t.name << " has a blank record";
    const bool cursor = std::any_of(t.fields.begin(), t.fields.end(), [](const Field& f) {
      return f.type == "lastModifiedTime" && f.options["referencedFieldIds"].empty();
    });
    // Two tables can be read incrementally; Creative Requests' last-modified field watches only
    // some fields, so it is a snapshot table.
    EXPECT_EQ(cursor, t.name != "Creative Requests") << t.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Packaging Tasks", "Campaigns", "Creative Requests"}));
  EXPECT_NE(base.find_table("Packaging Tasks")->field_by_name("Priority ⭐"), nullptr);
  EXPECT_NE(base.find_table("Campaigns")->field_by_name("Región"), nullptr);
  expect_links_symmetric(base);
  IdGenerator same(42);
  IdGenerator other(43);
  EXPECT_EQ(make_demo_workspace(same, 0).bases[0].id, base.id);
  EXPECT_NE(make_demo_workspace(other, 0).bases[0].id, base.id);
}

TEST(Datasets, GeneratorCoversEveryFieldType) {
  IdGenerator ids(7);
  const Workspace ws = generate_workspace(ids, 3, 200, 0);
  const Base& base = ws.bases[0];
  ASSERT_EQ(base.tables.size(), 3U);
  std::set<std::string> types;
  for (const Field& f : base.tables[0].fields) {
    types.insert(f.type);
  }
  for (const char* type : {"singleLineText",
                           "email",
                           "url",
                           "multilineText",
                           "richText",
                           "phoneNumber",
                           "number",
                           "percent",
                           "currency",
                           "duration",
                           "rating",
                           "checkbox",
                           "autoNumber",
                           "count",
                           "date",
                           "dateTime",
                           "createdTime",
                           "lastModifiedTime",
                           "singleCollaborator",
                           "createdBy",
                           "lastModifiedBy",
                           "multipleCollaborators",
                           "singleSelect",
                           "multipleSelects",
                           "externalSyncSource",
                           "multipleRecordLinks",
                           "multipleLookupValues",
                           "rollup",
                           "formula",
                           "multipleAttachments",
                           "barcode",
                           "button",
                           "aiText"}) {
    EXPECT_TRUE(types.count(type)) << type;
  }
  EXPECT_TRUE(std::any_of(types.begin(), types.end(),
                          [](const std::string& t) { return !is_known_type(t); }));
  EXPECT_EQ(base.tables[1].records.size(), 200U);
  expect_links_symmetric(base);
}

TEST(Datasets, GenerateSpecValidation) {
  EXPECT_EQ(parse_generate_spec("3x1000"), (std::pair<int, int64_t>{3, 1000}));
  for (const char* bad : {"0x10", "3x0", "3", "x", "3x-1", "1001x1", "ax1"}) {
    EXPECT_THROW(parse_generate_spec(bad), std::invalid_argument) << bad;
  }
}

TEST(Datasets, DataDirectoryRoundTripAndErrors) {
  IdGenerator ids(1);
  Workspace ws;
  const Base loaded = load_data_dir(TEST_DATA_DIR "/emulator", ids, 0).bases.at(0);
  Workspace holder;
  const Json exported = base_to_json(holder, loaded);
  Workspace again_ws;
  IdGenerator ids2(99);
  const Base again = base_from_json(exported, again_ws, ids2, 0);
  EXPECT_EQ(base_to_json(holder, again), exported);
  const auto dir = std::filesystem::temp_directory_path() / "emu_bad_data";
  std::filesystem::create_directories(dir);
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(dir / "base.json") << text;
    try {
      load_data_dir(dir.string(), ids, 0);
      ADD_FAILURE() << "no error for " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{not json", "not valid JSON");
  expect_error(R"({"name": "B", "tables": []})", "non-empty list of tables");
  expect_error(
      R"({"name": "B", "tables": [{"name": "T", "fields": [{"name": "A", "type": "singleLineText"}],
                  "records": [{"fields": {"Foo": 1}}]}]})",
      "unknown field 'Foo'");
  expect_error(
      R"({"name": "B", "tables": [{"name": "T", "fields": [{"name": "A", "type": "multipleRecordLinks",
                  "options": {"linkedTableId": "tblAAAAAAAAAAAAAA"}}]}]})",
      "linkedTableId");
  std::filesystem::remove_all(dir);
  EXPECT_THROW(load_data_dir("/nonexistent/dir", ids, 0), std::runtime_error);
}

}  // namespace
}  // namespace emu
