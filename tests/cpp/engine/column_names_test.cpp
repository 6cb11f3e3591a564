#include "airtable_lakeflow/schema/column_names.hpp"

#include <gtest/gtest.h>

namespace airtable_lakeflow::schema {
namespace {

TEST(ColumnNames, ReadableAndSafe) {
  EXPECT_EQ(column_name("Due Date (UTC)"), "due_date_utc");
  EXPECT_EQ(column_name("Budget ($)"), "budget");
  EXPECT_EQ(column_name("  __Already_snake__ "), "already_snake");
  EXPECT_EQ(column_name("Región"), "región");
  EXPECT_EQ(column_name("Channel 📣"), "channel");
  EXPECT_EQ(column_name("日本語 名前"), "日本語_名前");
  EXPECT_EQ(column_name("a,b;c{d}e(f)g\nh\ti=j"), "a_b_c_d_e_f_g_h_i_j");
  EXPECT_EQ(column_name("🚀🚀"), "field");
  EXPECT_EQ(column_name(""), "field");
  EXPECT_EQ(column_name("2024 Budget"), "2024_budget");
  const std::string long_name(300, 'x');
  EXPECT_EQ(column_name(long_name).size(), kMaxColumnName);
  // A cut never splits a UTF-8 sequence.
  const std::string accents(200, 'a');
  const std::string cut = column_name(accents.substr(0, 127) + "é");
  EXPECT_EQ(cut, accents.substr(0, 127));
}

TEST(ColumnNames, CollisionsResolvedInOrderIgnoringCase) {
  NameAllocator names;
  EXPECT_EQ(names.take("id"), "id");
  EXPECT_EQ(names.take("name"), "name");
  EXPECT_EQ(names.take("Name"), "Name_2");
  EXPECT_EQ(names.take("name"), "name_3");
  EXPECT_EQ(names.take("ID"), "ID_2");
  EXPECT_EQ(names.take("name_2"), "name_2_2");
}

TEST(ColumnNames, AFieldNamedLikeAColumnKeepsItWhateverComesFirst) {
  // The case: "a-b" and "a b" came first and the field literally named "a_b" got
  // "a_b_3". Now it keeps "a_b"; the others follow in field-id order.
  const std::vector<NamedField> fields = {
      {"fldC", "a-b"}, {"fldB", "a b"}, {"fldZ", "a_b"}, {"fldA", "Name"}};
  EXPECT_EQ(column_names(fields, {"id"}),
            (std::vector<std::string>{"a_b_3", "a_b_2", "a_b", "name"}));
  // The same names whatever order the fields come in.
  const std::vector<NamedField> reordered = {fields[2], fields[3], fields[0], fields[1]};
  EXPECT_EQ(column_names(reordered, {"id"}),
            (std::vector<std::string>{"a_b", "name", "a_b_3", "a_b_2"}));
  // Reserved names come first: a field named "id" is "id_2".
  EXPECT_EQ(column_names({{"fldQ", "id"}, {"fldR", "ID"}}, {"id"}),
            (std::vector<std::string>{"id_2", "id_3"}));
}

}  // namespace
}  // namespace airtable_lakeflow::schema
