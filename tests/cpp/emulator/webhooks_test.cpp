#include "webhooks.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "api_error.hpp"
#include "test_workspace.hpp"
#include "time_format.hpp"

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
    return registry.payloads(w.base(), id, grant, std::nullopt, std::nullopt, now)["payloads"];
  }
  Json hook(const std::string& id, int64_t now = kT0) {
    const Json hooks = registry.list(w.base(), now)["webhooks"];
    for (const Json& listed : hooks) {
      if (listed["id"] == id) {
        return listed;
      }
    }
    return nullptr;
  }
  WriteOptions opts(int64_t now) const {
    WriteOptions out;
    out.now_ms = now;
    out.user_id = "usrAAAAAAAAAAAAAA";
    return out;
  }
};

// The ApiError a call throws (status and error type), or {0, ""} when it does not throw.
template <typename F>
std::pair<int, std::string> error_of(F&& call) {
  try {
    call();
  } catch (const ApiError& e) {
    return {e.status(), e.body()["error"].value("type", "")};
  }
  return {0, ""};
}

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
  const Json page =
      h.registry.payloads(h.w.base(), id, h.grant, 1, std::nullopt, kT0 + 7 * kDay + 100);
  EXPECT_EQ(page["payloads"].size(), 1U);  // the first payload is more than 7 days old
  EXPECT_EQ(page["cursor"], 3);            // numbering never resets
  EXPECT_THROW(h.registry.payloads(h.w.base(), id, h.grant, std::nullopt, 51, kT0), ApiError);
  h.w.create(h.w.tasks(), Json::object(), kT0 + 9 * kDay);  // after expiry: no payload
  const Json listed = h.registry.list(h.w.base(), kT0 + 10 * kDay)["webhooks"][0];
  EXPECT_FALSE(listed["isHookEnabled"].get<bool>());
  EXPECT_EQ(
      h.registry.payloads(h.w.base(), id, h.grant, 3, std::nullopt, kT0 + 10 * kDay)["payloads"]
          .size(),
      0U);
  EXPECT_THROW(h.registry.refresh(h.w.base(), id, h.grant, kT0 + 10 * kDay), ApiError);
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

TEST(Webhooks, IncludedCellValuesMustNameFieldsOfTheBase) {
  Hooks h;
  EXPECT_THROW(h.create(Json{{"dataTypes", {"tableData"}}},
                        Json{{"includeCellValuesInFieldIds", {"fldNOPE"}}}),
               ApiError);
  EXPECT_NO_THROW(
      h.create(Json{{"dataTypes", {"tableData"}}}, Json{{"includeCellValuesInFieldIds", "all"}}));
}

TEST(Webhooks, DeletingANamedFieldDisablesTheHookWithOneInvalidHookPayload) {
  Hooks h;
  const std::string points = h.w.tasks().field_by_name("Points")->id;
  const std::string data_watch =
      h.create(Json{{"dataTypes", {"tableData"}}, {"watchDataInFieldIds", {points}}});
  const std::string schema_watch =
      h.create(Json{{"dataTypes", {"tableFields"}}, {"watchSchemasOfFieldIds", {points}}});
  const std::string includes =
      h.create(Json{{"dataTypes", {"tableData"}}}, Json{{"includeCellValuesInFieldIds", {points}}});
  const std::string base_wide = h.create(Json{{"dataTypes", {"tableData", "tableFields"}}});
  h.w.store.delete_field(h.w.base(), h.w.tasks(), points, h.opts(kT0 + 1));
  for (const std::string& id : {data_watch, schema_watch, includes}) {
    const Json payloads = h.payloads(id, kT0 + 2);
    ASSERT_EQ(payloads.size(), 1U) << id;
    EXPECT_EQ(payloads[0],
              (Json{{"timestamp", format_iso_ms(kT0 + 1)},
                    {"baseTransactionNumber", h.w.base().transaction_number},
                    {"actionMetadata",
                     Json{{"source", "publicApi"},
                          {"sourceMetadata", Json{{"user", Json{{"id", "usrAAAAAAAAAAAAAA"},
                                                                {"permissionLevel", "create"}}}}}}},
                    {"payloadFormat", "v0"},
                    {"error", true},
                    {"code", "INVALID_HOOK"}}))
        << id;
    EXPECT_FALSE(h.hook(id, kT0 + 2)["isHookEnabled"].get<bool>()) << id;
  }
  // A hook naming no field stays enabled and sees the field go.
  EXPECT_TRUE(h.hook(base_wide, kT0 + 2)["isHookEnabled"].get<bool>());
  EXPECT_EQ(
      h.payloads(base_wide, kT0 + 2)[0]["changedTablesById"][h.w.tasks_id]["destroyedFieldIds"],
      Json::array({points}));
  // A disabled hook records nothing more, is not extended by reads and cannot be refreshed.
  h.w.create(h.w.tasks(), Json{{"Name", "after"}}, kT0 + 3);
  EXPECT_EQ(h.payloads(data_watch, kT0 + 4).size(), 1U);
  EXPECT_EQ(h.payloads(base_wide, kT0 + 4).size(), 2U);
  EXPECT_EQ(h.hook(data_watch, kT0 + 5)["expirationTime"], format_iso_ms(kT0 + 7 * kDay));
  EXPECT_EQ(error_of([&] { h.registry.refresh(h.w.base(), data_watch, h.grant, kT0 + 5); }),
            (std::pair<int, std::string>{422, "CANNOT_REFRESH_DISABLED_WEBHOOK"}));
}

TEST(Webhooks, DeletingATableReportsItAndDisablesHooksScopedToIt) {
  Hooks h;
  const std::string link = h.w.tasks().field_by_name("Campaign")->id;
  const std::string lookup = h.w.tasks().field_by_name("Budget (from Campaign)")->id;
  const std::string scoped =
      h.create(Json{{"dataTypes", {"tableData"}}, {"recordChangeScope", h.w.campaigns_id}});
  const std::string data = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string fields = h.create(Json{{"dataTypes", {"tableFields"}}});
  const std::string adds = h.create(Json{{"dataTypes", {"tableData"}}, {"changeTypes", {"add"}}});
  h.w.store.delete_table(h.w.base(), h.w.campaigns_id, h.opts(kT0 + 1));
  EXPECT_EQ(h.payloads(scoped)[0]["code"], "INVALID_HOOK");
  EXPECT_FALSE(h.hook(scoped)["isHookEnabled"].get<bool>());
  const Json data_payloads = h.payloads(data);
  ASSERT_EQ(data_payloads.size(), 1U);
  EXPECT_EQ(data_payloads[0]["destroyedTableIds"], Json::array({h.w.campaigns_id}));
  EXPECT_FALSE(data_payloads[0].contains("changedTablesById"));  // field changes: tableFields
  const Json field_payload = h.payloads(fields)[0];
  EXPECT_EQ(field_payload["destroyedTableIds"], Json::array({h.w.campaigns_id}));
  EXPECT_EQ(field_payload["changedTablesById"][h.w.tasks_id]["destroyedFieldIds"],
            Json::array({link}));
  EXPECT_EQ(h.payloads(adds).size(), 0U);
  // The link to the deleted table goes; the lookup through it stops being valid.
  EXPECT_EQ(h.w.tasks().field_by_id(link), nullptr);
  EXPECT_FALSE(h.w.tasks().field_by_id(lookup)->options["isValid"].get<bool>());
}

TEST(Webhooks, CreatedTablesCarryWhatTheDataTypesAskFor) {
  Hooks h;
  const std::string metadata = h.create(Json{{"dataTypes", {"tableMetadata"}}});
  const std::string fields = h.create(Json{{"dataTypes", {"tableFields"}}});
  const std::string data = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string updates =
      h.create(Json{{"dataTypes", {"tableMetadata", "tableFields"}}, {"changeTypes", {"update"}}});
  const Table& created = h.w.store.create_table(
      h.w.base(),
      Json{{"name", "Ideas"},
           {"fields", Json::array({Json{{"name", "Title"}, {"type", "singleLineText"}},
                                   Json{{"name", "Score"}, {"type", "number"}}})}},
      h.opts(kT0 + 1));
  const std::string id = created.id;
  const std::string title = created.fields[0].id;
  const std::string score = created.fields[1].id;
  const Json meta = h.payloads(metadata);
  ASSERT_EQ(meta.size(), 1U);
  EXPECT_EQ(meta[0]["createdTablesById"],
            (Json{{id, Json{{"metadata", Json{{"name", "Ideas"}, {"description", nullptr}}}}}}));
  EXPECT_FALSE(meta[0].contains("changedTablesById"));
  EXPECT_EQ(h.payloads(fields)[0]["createdTablesById"][id],
            (Json{{"fieldsById", Json{{title, Json{{"name", "Title"}, {"type", "singleLineText"}}},
                                      {score, Json{{"name", "Score"}, {"type", "number"}}}}}}));
  EXPECT_EQ(h.payloads(data).size(), 0U);  // created through the API: no records
  EXPECT_EQ(h.payloads(updates).size(), 0U);
  h.w.store.delete_table(h.w.base(), id, h.opts(kT0 + 2));
  EXPECT_EQ(h.payloads(data)[0]["destroyedTableIds"], Json::array({id}));
  EXPECT_EQ(h.payloads(metadata)[1]["destroyedTableIds"], Json::array({id}));
}

TEST(Webhooks, LinkingARecordAlsoReportsTheLinkedRecordsInverseCell) {
  Hooks h;
  const std::string all = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string campaigns_only =
      h.create(Json{{"dataTypes", {"tableData"}}, {"recordChangeScope", h.w.campaigns_id}});
  const std::string inverse = h.w.campaigns().field_by_name("Tasks")->id;
  const auto c = h.w.create(h.w.campaigns(), Json{{"Name", "Spring"}}, kT0);
  const auto t = h.w.create(h.w.tasks(), Json{{"Name", "Print"}, {"Campaign", {c[0]}}}, kT0 + 1);
  const Json linked = h.payloads(all);
  ASSERT_EQ(linked.size(), 2U);
  const Json& both = linked[1]["changedTablesById"];
  EXPECT_TRUE(both[h.w.tasks_id]["createdRecordsById"].contains(t[0]));
  EXPECT_EQ(
      both[h.w.campaigns_id]["changedRecordsById"][c[0]]["current"]["cellValuesByFieldId"][inverse],
      Json::array({Json{{"id", t[0]}, {"name", "Print"}}}));
  // Unlinking empties the inverse cell; a hook scoped to Campaigns sees only that side.
  h.w.update(h.w.tasks(), t[0], Json{{"Campaign", nullptr}}, kT0 + 2);
  const Json scoped = h.payloads(campaigns_only);
  ASSERT_EQ(scoped.size(), 3U);  // campaign created, linked, unlinked
  EXPECT_FALSE(scoped[2]["changedTablesById"].contains(h.w.tasks_id));
  EXPECT_TRUE(scoped[2]["changedTablesById"][h.w.campaigns_id]["changedRecordsById"][c[0]]
                    ["current"]["cellValuesByFieldId"][inverse]
                        .is_null());
  // Deleting a linked task changes the campaign in the same payload.
  h.w.update(h.w.tasks(), t[0], Json{{"Campaign", {c[0]}}}, kT0 + 3);
  h.w.store.delete_records(h.w.base(), h.w.tasks(), {t[0]}, h.opts(kT0 + 4));
  const Json last = h.payloads(all).back()["changedTablesById"];
  EXPECT_EQ(last[h.w.tasks_id]["destroyedRecordIds"], Json::array({t[0]}));
  EXPECT_TRUE(
      last[h.w.campaigns_id]["changedRecordsById"][c[0]]["current"]["cellValuesByFieldId"][inverse]
          .is_null());
}

TEST(Webhooks, EditingALinkedRecordReportsTheLookupsThatMoveWithIt) {
  Hooks h;
  const std::string lookup = h.w.tasks().field_by_name("Budget (from Campaign)")->id;
  const auto c = h.w.create(h.w.campaigns(), Json{{"Name", "Spring"}, {"Budget", 10}}, kT0);
  const auto t = h.w.create(h.w.tasks(), Json{{"Name", "Print"}, {"Campaign", {c[0]}}}, kT0 + 1);
  const std::string id = h.create(Json{{"dataTypes", {"tableData"}}});
  h.w.update(h.w.campaigns(), c[0], Json{{"Budget", 25}}, kT0 + 2);
  const Json payloads = h.payloads(id);
  ASSERT_EQ(payloads.size(), 1U);
  const Json& changed = payloads[0]["changedTablesById"];
  EXPECT_TRUE(changed[h.w.campaigns_id]["changedRecordsById"].contains(c[0]));
  EXPECT_EQ(changed[h.w.tasks_id]["changedRecordsById"][t[0]]["current"]["cellValuesByFieldId"]
                   [lookup]["valuesByLinkedRecordId"],
            (Json{{c[0], Json::array({25})}}));
}

TEST(Webhooks, SplitKnobSpreadsOneWriteOverPayloadsSharingItsTransaction) {
  Hooks h;
  const std::string id = h.create(Json{{"dataTypes", {"tableData"}}});
  Json items = Json::array();
  for (int i = 0; i < 7; ++i) {
    items.push_back(Json{{"fields", Json{{"Name", "r" + std::to_string(i)}}}});
  }
  h.w.store.create_records(h.w.base(), h.w.tasks(), items, h.opts(kT0));  // knob off
  h.registry.set_split(3);
  const auto ids = h.w.store.create_records(h.w.base(), h.w.tasks(), items, h.opts(kT0 + 1));
  const Json payloads = h.payloads(id);
  ASSERT_EQ(payloads.size(), 4U);  // 7, then 3 + 3 + 1
  EXPECT_EQ(payloads[0]["changedTablesById"][h.w.tasks_id]["createdRecordsById"].size(), 7U);
  std::vector<size_t> sizes;
  std::set<std::string> seen;
  for (size_t i = 1; i < payloads.size(); ++i) {
    EXPECT_EQ(payloads[i]["timestamp"], format_iso_ms(kT0 + 1));
    EXPECT_EQ(payloads[i]["baseTransactionNumber"], h.w.base().transaction_number);
    EXPECT_EQ(payloads[i]["actionMetadata"], payloads[1]["actionMetadata"]);
    EXPECT_EQ(payloads[i]["payloadFormat"], "v0");
    const Json& created = payloads[i]["changedTablesById"][h.w.tasks_id]["createdRecordsById"];
    sizes.push_back(created.size());
    for (const auto& [record_id, value] : created.items()) {
      seen.insert(record_id);
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(seen, std::set<std::string>(ids.begin(), ids.end()));
}

TEST(Webhooks, RefreshNeedsTheCreatorRoleAndPayloadsTheScopesOfTheDataTypes) {
  Hooks h;
  const std::string data = h.create(Json{{"dataTypes", {"tableData"}}});
  const std::string schema = h.create(Json{{"dataTypes", {"tableFields"}}});
  const std::pair<int, std::string> denied{403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"};
  const std::pair<int, std::string> ok{0, ""};
  TokenGrant editor = h.grant;
  editor.permission_level = "edit";
  EXPECT_EQ(error_of([&] { h.registry.refresh(h.w.base(), data, editor, kT0); }), denied);
  EXPECT_EQ(error_of([&] { h.registry.refresh(h.w.base(), data, h.grant, kT0); }), ok);
  auto read = [&](const std::string& hook, const TokenGrant& grant) {
    return error_of(
        [&] { h.registry.payloads(h.w.base(), hook, grant, std::nullopt, std::nullopt, kT0); });
  };
  TokenGrant reader = h.grant;
  reader.permission_level = "read";
  EXPECT_EQ(read(data, reader), ok);
  TokenGrant no_schema = h.grant;
  no_schema.scopes.erase("schema.bases:read");
  EXPECT_EQ(read(data, no_schema), ok);
  EXPECT_EQ(read(schema, no_schema), denied);
  TokenGrant no_records = h.grant;
  no_records.scopes.erase("data.records:read");
  EXPECT_EQ(read(data, no_records), denied);
  EXPECT_EQ(read(schema, no_records), ok);
  EXPECT_EQ(
      error_of([&] {
        h.registry.create(
            h.w.base(),
            Json{{"specification",
                  Json{{"options", Json{{"filters", Json{{"dataTypes", {"tableFields"}}}}}}}}},
            no_schema, kT0);
      }),
      denied);
}

TEST(Webhooks, ACursorBeforeTheOldestKeptPayloadStartsThere) {
  Hooks h;
  const std::string id = h.create(Json{{"dataTypes", {"tableData"}}});
  h.w.create(h.w.tasks(), Json::object(), kT0 + 1);             // payload 1
  h.w.create(h.w.tasks(), Json::object(), kT0 + 2);             // payload 2
  h.registry.refresh(h.w.base(), id, h.grant, kT0 + 5 * kDay);  // keep the hook alive
  const auto third = h.w.create(h.w.tasks(), Json::object(), kT0 + 6 * kDay);  // payload 3
  // A week on, payloads 1 and 2 are gone: asked from 1, the answer starts at 3, and its cursor
  // (4) minus the request's (1) exceeds the payload count (1) — how a client sees the gap.
  const Json page =
      h.registry.payloads(h.w.base(), id, h.grant, 1, std::nullopt, kT0 + 7 * kDay + 10);
  ASSERT_EQ(page["payloads"].size(), 1U);
  EXPECT_TRUE(page["payloads"][0]["changedTablesById"][h.w.tasks_id]["createdRecordsById"].contains(
      third[0]));
  EXPECT_EQ(page["cursor"], 4);
  EXPECT_EQ(page["mightHaveMore"], false);
  // Once all are gone an empty page echoes the cursor; cursorForNextPayload shows the gap.
  const Json empty =
      h.registry.payloads(h.w.base(), id, h.grant, 2, std::nullopt, kT0 + 13 * kDay + 10);
  EXPECT_EQ(empty, (Json{{"payloads", Json::array()}, {"cursor", 2}, {"mightHaveMore", false}}));
  EXPECT_EQ(h.hook(id, kT0 + 13 * kDay + 10)["cursorForNextPayload"], 4);
}

}  // namespace
}  // namespace emu
