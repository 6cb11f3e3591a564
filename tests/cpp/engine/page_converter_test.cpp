#include "airtable_lakeflow/convert/page_converter.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "arrow_json.hpp"

namespace airtable_lakeflow::convert {
namespace {

std::string slurp(const std::string& name) {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/convert/" + name);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<nlohmann::json> lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

schema::TableLayout everything() {
  const auto tables = api::parse_tables(slurp("all_types.schema.json"), "fixture");
  return schema::plan_table(schema::find_table(tables, "Everything", "fixture"), {});
}

// Golden file shared with tests/python/engine/test_golden.py.
TEST(PageConverter, EveryTypeMatchesTheGoldenRows) {
  PageConverter converter(everything());
  const auto first = converter.append_page(slurp("all_types.page1.json"));
  EXPECT_EQ(first.records, 2);
  EXPECT_EQ(first.offset, "itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAA2");
  const auto second = converter.append_page(slurp("all_types.page2.json"));
  EXPECT_EQ(second.records, 2);
  EXPECT_EQ(second.offset, "");
  ArrowArray batch{};
  converter.finish(&batch);
  ASSERT_EQ(batch.length, 4);
  EXPECT_EQ(testing::batch_problem(converter.layout().arrow_fields(), batch), "");
  const auto got = lines(testing::render_rows(converter.layout().arrow_fields(), batch));
  const auto want = lines(slurp("all_types.expected.jsonl"));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "row " << i << "\n got: " << got[i].dump()
                               << "\nwant: " << want[i].dump();
  }
  batch.release(&batch);
  EXPECT_EQ(converter.rows(), 0);
  EXPECT_EQ(converter.rescued_cells(), 10);
}

// Lists and structs are appended member by member, column by column: a value deep inside one
// row that does not fit must take that whole cell out (null, kept verbatim in _rescued_data)
// and leave every other row's items and members where they belong.
TEST(PageConverter, AValueDeepInAListOrStructTakesOnlyItsOwnCellOut) {
  const std::string good_file =
      R"({"id":"attG","url":"u","filename":"g.png","size":10,"type":"image/png","width":2,)"
      R"("height":1,"thumbnails":{"small":{"url":"s","width":2,"height":1}}})";
  const std::string bad_file =
      R"({"id":"attB","url":"u","filename":"b.png","size":10,"type":"image/png",)"
      R"("thumbnails":{"small":{"url":"s","width":"wide","height":1}}})";
  const std::string ana = R"({"id":"usrA","email":"ana@example.com","name":"Ana"})";
  const std::string bad_owner = R"({"id":"usrB","email":42,"name":"Bo"})";
  const std::string bad_member = R"({"id":"usrC","email":null,"name":7})";
  const std::string page = R"({"records":[)"
                           R"({"id":"recA","fields":{"fldAtta0000000001":[)" +
                           good_file + "," + bad_file + R"(],"fldColl0000000001":)" + bad_owner +
                           R"(,"fldColl0000000002":[)" + ana + "," + ana +
                           R"(]}},)"
                           R"({"id":"recB","fields":{"fldAtta0000000001":[)" +
                           good_file + R"(],"fldColl0000000001":)" + ana +
                           R"(,"fldColl0000000002":[)" + ana + "," + bad_member +
                           R"(]}},)"
                           R"({"id":"recC","fields":{"fldAtta0000000001":{"error":"#ERROR!"},)"
                           R"("fldColl0000000002":[)" +
                           ana +
                           R"(]}},)"
                           R"({"id":"recD","fields":{"fldAtta0000000001":[)" +
                           good_file + "," + good_file + R"(],"fldColl0000000001":)" + ana + "}}]}";
  PageConverter converter(everything());
  EXPECT_EQ(converter.append_page(page).records, 4);
  EXPECT_EQ(converter.rescued_cells(), 4);
  ArrowArray batch{};
  converter.finish(&batch);
  EXPECT_EQ(testing::batch_problem(converter.layout().arrow_fields(), batch), "");
  const auto got = lines(testing::render_rows(converter.layout().arrow_fields(), batch));
  ASSERT_EQ(got.size(), 4U);
  const nlohmann::json owner = {{"id", "usrA"}, {"email", "ana@example.com"}, {"name", "Ana"}};
  const auto file = [](const nlohmann::json& row, size_t i) { return row["files"].at(i); };

  EXPECT_TRUE(got[0]["files"].is_null());
  EXPECT_TRUE(got[0]["owner"].is_null());
  EXPECT_EQ(got[0]["team"], nlohmann::json::array({owner, owner}));
  EXPECT_EQ(nlohmann::json::parse(got[0]["_rescued_data"].get<std::string>()),
            nlohmann::json::parse(R"({"files":[)" + good_file + "," + bad_file + R"(],"owner":)" +
                                  bad_owner + "}"));

  ASSERT_EQ(got[1]["files"].size(), 1U);
  EXPECT_EQ(file(got[1], 0)["id"], "attG");
  EXPECT_EQ(file(got[1], 0)["thumbnails"]["small"]["width"], 2);
  EXPECT_EQ(got[1]["owner"], owner);
  EXPECT_TRUE(got[1]["team"].is_null());
  EXPECT_EQ(nlohmann::json::parse(got[1]["_rescued_data"].get<std::string>()),
            nlohmann::json::parse(R"({"team":[)" + ana + "," + bad_member + "]}"));

  EXPECT_TRUE(got[2]["files"].is_null());
  EXPECT_TRUE(got[2]["owner"].is_null());
  EXPECT_EQ(got[2]["team"], nlohmann::json::array({owner}));
  EXPECT_EQ(nlohmann::json::parse(got[2]["_rescued_data"].get<std::string>()),
            nlohmann::json::parse(R"({"files":{"error":"#ERROR!"}})"));

  ASSERT_EQ(got[3]["files"].size(), 2U);
  EXPECT_EQ(file(got[3], 0), file(got[3], 1));
  EXPECT_EQ(file(got[3], 1)["filename"], "g.png");
  EXPECT_EQ(got[3]["owner"], owner);
  EXPECT_TRUE(got[3]["_rescued_data"].is_null());
  batch.release(&batch);
}

// Members are matched by key whatever the order: the converter first tries the member that
// followed the previous key in the last object, so orders that change from row to row, keys
// missing, repeated or unknown must still land each value in its own member.
TEST(PageConverter, StructMembersAreFoundWhateverTheKeyOrder) {
  const std::vector<std::string> owners = {
      R"({"id":"usr1","email":"a@x","name":"A"})",
      R"({"name":"B","id":"usr2","email":"b@x"})",
      R"({"email":"c@x","name":"C","id":"usr3"})",
      R"({"name":"D","id":"usr4"})",
      R"({"id":"usr5","name":"E","name":"not E","extra":1,"email":"e@x"})",
      R"({"id":"usr6","email":"f@x","name":"F"})",
  };
  std::string page = R"({"records":[)";
  for (size_t i = 0; i < owners.size(); ++i) {
    page += (i == 0 ? "" : ",") + std::string(R"({"id":"rec)") + std::to_string(i) +
            R"(","fields":{"fldColl0000000001":)" + owners[i] + "}}";
  }
  page += "]}";
  PageConverter converter(everything());
  EXPECT_EQ(converter.append_page(page).records, 6);
  ArrowArray batch{};
  converter.finish(&batch);
  EXPECT_EQ(testing::batch_problem(converter.layout().arrow_fields(), batch), "");
  const auto got = lines(testing::render_rows(converter.layout().arrow_fields(), batch));
  ASSERT_EQ(got.size(), 6U);
  const auto owner = [](const char* id, const nlohmann::json& email, const char* name) {
    return nlohmann::json{{"id", id}, {"email", email}, {"name", name}};
  };
  EXPECT_EQ(got[0]["owner"], owner("usr1", "a@x", "A"));
  EXPECT_EQ(got[1]["owner"], owner("usr2", "b@x", "B"));
  EXPECT_EQ(got[2]["owner"], owner("usr3", "c@x", "C"));
  EXPECT_EQ(got[3]["owner"], owner("usr4", nullptr, "D"));
  EXPECT_EQ(got[4]["owner"], owner("usr5", "e@x", "E"));
  EXPECT_EQ(got[5]["owner"], owner("usr6", "f@x", "F"));
  batch.release(&batch);
}

TEST(PageConverter, ABadPageAppendsNothing) {
  PageConverter converter(everything());
  converter.append_page(slurp("all_types.page1.json"));
  const std::string page = slurp("all_types.page2.json");
  EXPECT_THROW(converter.append_page(page.substr(0, page.size() / 2)), MalformedPage);
  EXPECT_THROW(converter.append_page(R"({"records":[{"id":"recA"},{"fields":{}}]})"),
               MalformedPage);
  EXPECT_THROW(converter.append_page(R"({"error":"NOT_FOUND"})"), MalformedPage);
  EXPECT_EQ(converter.rows(), 2);
}

TEST(PageConverter, KeepFilterSkipsRecords) {
  PageConverter converter(everything());
  const auto result = converter.append_page(
      slurp("all_types.page1.json"), [](std::string_view id) { return id != "recAAAAAAAAAAAAA1"; });
  EXPECT_EQ(result.records, 1);
  EXPECT_EQ(result.skipped, 1);
  ArrowArray batch{};
  converter.finish(&batch);
  const auto got = lines(testing::render_rows(converter.layout().arrow_fields(), batch));
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0]["id"], "recAAAAAAAAAAAAA2");
  EXPECT_EQ(got[0]["done"], false);  // a blank record is a row; an absent checkbox is false
  batch.release(&batch);
}

TEST(PageConverter, TheFirstOfDuplicatedKeysCounts) {
  PageConverter converter(everything());
  converter.append_page(
      R"({"records":[{"id":"recA","fields":{"fldChek0000000001":true,"fldChek0000000001":false},)"
      R"("id":"recB","fields":{}}]})");
  ArrowArray batch{};
  converter.finish(&batch);
  const auto got = lines(testing::render_rows(converter.layout().arrow_fields(), batch));
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0]["id"], "recA");
  EXPECT_EQ(got[0]["done"], true);
  batch.release(&batch);
}

TEST(PageConverter, ABadPageIsNotShownToTheKeepFilter) {
  PageConverter converter(everything());
  int asked = 0;
  const auto keep = [&asked](std::string_view) {
    ++asked;  // the reader's filter remembers every id it lets through
    return true;
  };
  EXPECT_THROW(converter.append_page(R"({"records":[{"id":"recA"},{"fields":{}}]})", keep),
               MalformedPage);
  EXPECT_EQ(asked, 0);
  EXPECT_EQ(converter.rows(), 0);
}

TEST(PageConverter, SelectedFieldsOnly) {
  const auto tables = api::parse_tables(slurp("all_types.schema.json"), "fixture");
  const auto& table = schema::find_table(tables, "tblEverything0001", "fixture");
  auto layout = schema::plan_table(table, {"Amount", "fldChek0000000001"});
  ASSERT_EQ(layout.columns.size(), 5U);
  EXPECT_EQ(layout.columns[2].name, "amount");
  EXPECT_EQ(layout.columns[3].name, "done");
  EXPECT_THROW(schema::plan_table(table, {"Nope"}), Error);
  EXPECT_THROW(schema::find_table(tables, "Nope", "fixture"), Error);
}

TEST(PageConverter, SchemaExportCarriesMetadata) {
  PageConverter converter(everything());
  ArrowSchema schema{};
  converter.export_schema(&schema);
  EXPECT_STREQ(schema.format, "+s");
  ASSERT_EQ(schema.n_children, 36);
  EXPECT_STREQ(schema.children[0]->name, "id");
  EXPECT_EQ(schema.children[0]->flags & ARROW_FLAG_NULLABLE, 0);
  EXPECT_STREQ(schema.children[5]->format, "d:38,2");
  ASSERT_NE(schema.children[5]->metadata, nullptr);
  EXPECT_STREQ(schema.children[35]->name, "_rescued_data");
  schema.release(&schema);
}

}  // namespace
}  // namespace airtable_lakeflow::convert
