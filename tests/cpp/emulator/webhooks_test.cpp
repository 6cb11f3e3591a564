#include "webhooks.hpp"

#include <gtest/gtest.h>

#include "api_error.hpp"
#include "test_workspace.hpp"

namespace emu {
namespace {

using testing::TestWorkspace;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kDay = 86'400'000;

struct Hooks {
  TestWorkspace w;
  WebhookRegistry registry{w.ids};
  TokenGrant grant;
  Hooks() {
    grant.scopes = all_scopes();
    w.store.set_listener([this](const Base& b, const ChangeEvent& e) { registry.on_change(b, e); });
  }
  std::string create(const Json& filters, const Json& includes = Json::object()) {
    Json options{{"filters", filters}};
    if (!includes.empty()) {
      options["includes"] = includes;
    }
    return registry.create(w.base(), Json{{"specification", Json{{"options", options}}}}, grant,
                           kT0)["id"];
  }
  Json payloads(const std::string& id, int64_t now = kT0) {
    return registry.payloads(w.base(), id, std::nullopt, std::nullopt, now)["payloads"];
  }
};

TEST(Webhooks, FiltersChooseWhichChangesBecomePayloads) {
  Hooks h;
  const std::string name_id = h.w.tasks().field_by_name("Name")->id;
  const std::string all = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string adds = h.create(Json{{"dataTypes", {"tableData"}}, {"changeTypes", {"add"}}});
  const std::string campaigns =
      h.create(Json{{"dataTypes", {"tableData"}}, {"recordChangeScope", h.w.campaigns_id}});
  const std::string watch =
      h.create(Json{{"dataTypes", {"tableData"}}, {"watchDataInFieldIds", {name_id}}});
  const std::string fields = h.create(Json{{"dataTypes", {"tableFields"}}});
  const auto t = h.w.create(h.w.tasks(), Json{{"Points", 1}}, kT0);
  h.w.update(h.w.tasks(), t[0], Json{{"Points", 2}}, kT0 + 1);
  h.w.update(h.w.tasks(), t[0], Json{{"Name", "x"}}, kT0 + 2);
  EXPECT_EQ(h.payloads(all).size(), 3U);
  EXPECT_EQ(h.payloads(adds).size(), 1U);
  EXPECT_EQ(h.payloads(campaigns).size(), 0U);
  EXPECT_EQ(h.payloads(watch).size(), 2U);  // the create and the Name change
  EXPECT_EQ(h.payloads(fields).size(), 0U);
}

TEST(Webhooks, PreviousValuesOnlyWhenAskedAndV2Selects) {
  Hooks h;
  const std::string plain = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string with_previous =
      h.create(Json{{"dataTypes", {"tableData"}}}, Json{{"includePreviousCellValues", true}});
  const auto t = h.w.create(h.w.tasks(), Json{{"Status", "Todo"}}, kT0);
  h.w.update(h.w.tasks(), t[0], Json{{"Points", 5}}, kT0 + 1);
  const std::string status_id = h.w.tasks().field_by_name("Status")->id;
  const Json created =
      h.payloads(plain)[0]["changedTablesById"][h.w.tasks_id]["createdRecordsById"][t[0]];
  EXPECT_EQ(created["cellValuesByFieldId"][status_id],
            (Json{{"id", "selAAAAAAAAAAAAAA"}, {"name", "Todo"}, {"color", "blueLight2"}}));
  const Json changed =
      h.payloads(plain)[1]["changedTablesById"][h.w.tasks_id]["changedRecordsById"][t[0]];
  EXPECT_FALSE(changed.contains("previous"));
  const Json changed2 =
      h.payloads(with_previous)[1]["changedTablesById"][h.w.tasks_id]["changedRecordsById"][t[0]];
  EXPECT_TRUE(changed2.contains("previous"));
}

TEST(Webhooks, LimitsExpiryAndRetention) {
  Hooks h;
  for (int i = 0; i < 10; ++i) {
    h.create(Json{{"dataTypes", {"tableData"}}});
  }
  EXPECT_THROW(h.create(Json{{"dataTypes", {"tableData"}}}), ApiError);
  TokenGrant reader;
  reader.permission_level = "read";
  EXPECT_THROW(
      h.registry.create(
          h.w.base(),
          Json{{"specification", {{"options", {{"filters", {{"dataTypes", {"tableData"}}}}}}}}},
          reader, kT0),
      ApiError);
  const std::string id = h.registry.list(h.w.base(), kT0)["webhooks"][0]["id"];
  h.w.create(h.w.tasks(), Json::object(), kT0 + 1);
  EXPECT_EQ(h.payloads(id, kT0 + 2).size(), 1U);            // reading extends expiry to +7 days
  h.w.create(h.w.tasks(), Json::object(), kT0 + 6 * kDay);  // before the extended expiry
  const Json page = h.registry.payloads(h.w.base(), id, 1, std::nullopt, kT0 + 7 * kDay + 100);
  EXPECT_EQ(page["payloads"].size(), 1U);  // the first payload is more than 7 days old
  EXPECT_EQ(page["cursor"], 3);            // numbering never resets
  EXPECT_THROW(h.registry.payloads(h.w.base(), id, std::nullopt, 51, kT0), ApiError);
  h.w.create(h.w.tasks(), Json::object(), kT0 + 9 * kDay);  // after expiry: no payload
  const Json listed = h.registry.list(h.w.base(), kT0 + 10 * kDay)["webhooks"][0];
  EXPECT_FALSE(listed["isHookEnabled"].get<bool>());
  EXPECT_EQ(
      h.registry.payloads(h.w.base(), id, 3, std::nullopt, kT0 + 10 * kDay)["payloads"].size(), 0U);
  EXPECT_THROW(h.registry.refresh(h.w.base(), id, kT0 + 10 * kDay), ApiError);
  // Seven days after expiry the hook is gone altogether.
  EXPECT_EQ(h.registry.list(h.w.base(), kT0 + 15 * kDay)["webhooks"].size(), 0U);
  EXPECT_THROW(h.registry.remove(h.w.base(), "achAAAAAAAAAAAAAA"), ApiError);
}

TEST(Webhooks, InvalidSpecificationsAreRefused) {
  Hooks h;
  for (const Json& filters :
       {Json::object(), Json{{"dataTypes", Json::array()}}, Json{{"dataTypes", {"rows"}}},
        Json{{"dataTypes", {"tableData"}}, {"recordChangeScope", "tblNOPE"}},
        Json{{"dataTypes", {"tableData"}}, {"watchDataInFieldIds", {"fldNOPE"}}},
        Json{{"dataTypes", {"tableData"}}, {"colour", "red"}}}) {
    EXPECT_THROW(h.create(filters), ApiError) << filters.dump();
  }
}

}  // namespace
}  // namespace emu
