#include "store.hpp"

#include <gtest/gtest.h>

#include "api_error.hpp"
#include "cell_resolver.hpp"
#include "test_workspace.hpp"
#include "time_format.hpp"

namespace emu {
namespace {

using testing::TestWorkspace;

constexpr int64_t kT0 = 1'700'000'000'000;

Json cell(TestWorkspace& w, Table& table, const std::string& record_id, const std::string& name,
          int64_t now = kT0) {
  const CellResolver resolver(w.store.workspace(), w.base(), table, now);
  return resolver.cell(*table.find_record(record_id), *table.field_by_name(name));
}

int error_status(const std::function<void()>& action, std::string* type = nullptr) {
  try {
    action();
  } catch (const ApiError& e) {
    if (type != nullptr) {
      const Json& error = e.body()["error"];
      *type = error.is_string() ? error.get<std::string>() : error["type"].get<std::string>();
    }
    return e.status();
  }
  return 0;
}

TEST(Store, CreateAssignsIdsAutoNumbersAndTimes) {
  TestWorkspace w;
  const auto a = w.create(w.tasks(), Json{{"Name", "A"}, {"Points", 3}}, kT0);
  const auto b = w.create(w.tasks(), Json::object(), kT0 + 5);
  EXPECT_TRUE(is_airtable_id(a[0], "rec"));
  EXPECT_EQ(cell(w, w.tasks(), a[0], "Auto"), 1);
  EXPECT_EQ(cell(w, w.tasks(), b[0], "Auto"), 2);
  EXPECT_EQ(cell(w, w.tasks(), a[0], "Last Modified"), format_iso_ms(kT0));
  // A blank record still has a last-modified time: its creation.
  EXPECT_EQ(cell(w, w.tasks(), b[0], "Last Modified"), format_iso_ms(kT0 + 5));
  EXPECT_TRUE(cell(w, w.tasks(), b[0], "Name").is_null());
}

TEST(Store, LastModifiedMovesOnlyForRealEditsOfEditableFields) {
  TestWorkspace w;
  const auto campaign = w.create(w.campaigns(), Json{{"Name", "Spring"}, {"Budget", 100}}, kT0);
  const auto task =
      w.create(w.tasks(), Json{{"Name", "T"}, {"Campaign", Json::array({campaign[0]})}}, kT0);
  EXPECT_EQ(cell(w, w.tasks(), task[0], "Budget (from Campaign)"), Json::array({100}));
  // Writing the same value is not a modification.
  w.update(w.tasks(), task[0], Json{{"Name", "T"}}, kT0 + 1000);
  EXPECT_EQ(cell(w, w.tasks(), task[0], "Last Modified"), format_iso_ms(kT0));
  // A change in the linked table changes the lookup but not the task's last-modified time.
  w.update(w.campaigns(), campaign[0], Json{{"Budget", 250}}, kT0 + 2000);
  EXPECT_EQ(cell(w, w.tasks(), task[0], "Budget (from Campaign)"), Json::array({250}));
  EXPECT_EQ(cell(w, w.tasks(), task[0], "Last Modified"), format_iso_ms(kT0));
  w.update(w.tasks(), task[0], Json{{"Points", 8}}, kT0 + 3000);
  EXPECT_EQ(cell(w, w.tasks(), task[0], "Last Modified"), format_iso_ms(kT0 + 3000));
}

TEST(Store, LinksAreKeptOnBothSides) {
  TestWorkspace w;
  const auto c1 = w.create(w.campaigns(), Json{{"Name", "C1"}}, kT0);
  const auto c2 = w.create(w.campaigns(), Json{{"Name", "C2"}}, kT0);
  const auto t = w.create(w.tasks(), Json{{"Campaign", Json::array({c1[0], c2[0]})}}, kT0);
  EXPECT_EQ(cell(w, w.campaigns(), c1[0], "Tasks"), Json::array({t[0]}));
  w.update(w.tasks(), t[0], Json{{"Campaign", Json::array({c2[0]})}}, kT0 + 1);
  EXPECT_TRUE(cell(w, w.campaigns(), c1[0], "Tasks").is_null());
  EXPECT_EQ(cell(w, w.campaigns(), c2[0], "Tasks"), Json::array({t[0]}));
  WriteOptions opts;
  opts.now_ms = kT0 + 2;
  w.store.delete_records(w.base(), w.tasks(), {t[0]}, opts);
  EXPECT_TRUE(cell(w, w.campaigns(), c2[0], "Tasks").is_null());
  // Deleting a campaign removes it from tasks that link to it.
  const auto t2 = w.create(w.tasks(), Json{{"Campaign", Json::array({c1[0]})}}, kT0 + 3);
  w.store.delete_records(w.base(), w.campaigns(), {c1[0]}, opts);
  EXPECT_TRUE(cell(w, w.tasks(), t2[0], "Campaign").is_null());
  std::string type;
  EXPECT_EQ(error_status(
                [&] {
                  w.create(w.tasks(), Json{{"Campaign", Json::array({"recNOPE0000000000"})}}, kT0);
                },
                &type),
            422);
  EXPECT_EQ(type, "ROW_DOES_NOT_EXIST");
}

TEST(Store, PutClearsFieldsPatchKeepsThem) {
  TestWorkspace w;
  const auto t = w.create(w.tasks(), Json{{"Name", "A"}, {"Points", 1}, {"Done", true}}, kT0);
  w.update(w.tasks(), t[0], Json{{"Points", 2}}, kT0 + 1);
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Name"), "A");
  w.update(w.tasks(), t[0], Json{{"Points", 3}}, kT0 + 2, true);
  EXPECT_TRUE(cell(w, w.tasks(), t[0], "Name").is_null());
  EXPECT_TRUE(cell(w, w.tasks(), t[0], "Done").is_null());
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Points"), 3);
}

TEST(Store, ValidationAndTypecast) {
  TestWorkspace w;
  std::string type;
  EXPECT_EQ(error_status([&] { w.create(w.tasks(), Json{{"Points", "7"}}, kT0); }, &type), 422);
  EXPECT_EQ(type, "INVALID_VALUE_FOR_COLUMN");
  const auto t = w.create(w.tasks(), Json{{"Points", "7"}}, kT0, true);
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Points"), 7);
  EXPECT_EQ(error_status([&] { w.create(w.tasks(), Json{{"Status", "Doing"}}, kT0); }, &type), 422);
  EXPECT_EQ(type, "INVALID_MULTIPLE_CHOICE_OPTIONS");
  w.create(w.tasks(), Json{{"Status", "Doing"}}, kT0, true);
  EXPECT_EQ(w.tasks().field_by_name("Status")->options["choices"].size(), 2U);
  EXPECT_EQ(error_status([&] { w.create(w.tasks(), Json{{"Auto", 5}}, kT0); }, &type), 422);
  EXPECT_EQ(type, "INVALID_VALUE_FOR_COLUMN");
  EXPECT_EQ(error_status([&] { w.create(w.tasks(), Json{{"Nope", 5}}, kT0); }, &type), 422);
  EXPECT_EQ(type, "UNKNOWN_FIELD_NAME");
  // Nothing was stored by the failed writes (all-or-nothing).
  EXPECT_EQ(w.tasks().records.size(), 2U);
  // Empty values are stored as empty: "", [], false.
  const auto e =
      w.create(w.tasks(), Json{{"Name", ""}, {"Done", false}, {"Campaign", Json::array()}}, kT0);
  EXPECT_TRUE(cell(w, w.tasks(), e[0], "Name").is_null());
  EXPECT_TRUE(cell(w, w.tasks(), e[0], "Done").is_null());
  EXPECT_TRUE(cell(w, w.tasks(), e[0], "Campaign").is_null());
}

TEST(Store, FieldCreateRenameConvertDelete) {
  TestWorkspace w;
  WriteOptions opts;
  opts.now_ms = kT0;
  const auto t = w.create(w.tasks(), Json{{"Name", "A"}, {"Points", 12}}, kT0);
  const Field& created = w.store.create_field(
      w.base(), w.tasks(), Json{{"name", "Notes"}, {"type", "multilineText"}}, opts);
  EXPECT_TRUE(is_airtable_id(created.id, "fld"));
  const std::string points_id = w.tasks().field_by_name("Points")->id;
  std::string type;
  EXPECT_EQ(error_status(
                [&] {
                  w.store.create_field(w.base(), w.tasks(),
                                       Json{{"name", "notes"}, {"type", "number"}}, opts);
                },
                &type),
            422);
  w.store.update_field(w.base(), w.tasks(), points_id, Json{{"name", "Story points"}}, opts);
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Story points"), 12);
  w.store.convert_field(w.base(), w.tasks(), points_id, "singleLineText", nullptr, opts);
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Story points"), "12");
  w.store.convert_field(w.base(), w.tasks(), points_id, "number", Json{{"precision", 1}}, opts);
  EXPECT_EQ(cell(w, w.tasks(), t[0], "Story points"), 12);
  const std::string link_id = w.tasks().field_by_name("Campaign")->id;
  w.store.delete_field(w.base(), w.tasks(), link_id, opts);
  EXPECT_EQ(w.tasks().field_by_name("Campaign"), nullptr);
  EXPECT_FALSE(w.tasks().field_by_name("Budget (from Campaign)")->options["isValid"].get<bool>());
  EXPECT_EQ(error_status([&] {
              w.store.delete_field(w.base(), w.tasks(), w.tasks().primary_field_id, opts);
            }),
            422);
}

TEST(Store, ChangeEventsCarryCurrentAndPreviousValues) {
  TestWorkspace w;
  const auto t = w.create(w.tasks(), Json{{"Name", "A"}}, kT0);
  w.update(w.tasks(), t[0], Json{{"Name", "B"}}, kT0 + 1);
  w.update(w.tasks(), t[0], Json{{"Name", "B"}}, kT0 + 2);  // no change, no event
  ASSERT_EQ(w.events.size(), 2U);
  EXPECT_EQ(w.events[0].kind, ChangeEvent::Kind::kRecordsCreated);
  const std::string name_id = w.tasks().field_by_name("Name")->id;
  const RecordChange& change = w.events[1].records.at(0);
  EXPECT_EQ(change.current[name_id], "B");
  EXPECT_EQ(change.previous[name_id], "A");
}

}  // namespace
}  // namespace emu
