// A small hand-built workspace for store and listing tests: Tasks (name, points, done, status,
// campaign link, lookup of the campaign's budget, last-modified) linked to Campaigns.
#pragma once

#include "ids.hpp"
#include "model.hpp"
#include "store.hpp"

namespace emu::testing {

struct TestWorkspace {
  IdGenerator ids{1};
  Store store{ids};
  std::string base_id;
  std::string tasks_id;
  std::string campaigns_id;
  std::vector<ChangeEvent> events;

  TestWorkspace() {
    Workspace ws;
    ws.users.push_back({"usrAAAAAAAAAAAAAA", "ann@example.com", "Ann"});
    Base base;
    base.id = ids.next("app");
    base.name = "Test base";
    Table campaigns;
    campaigns.id = ids.next("tbl");
    campaigns.name = "Campaigns";
    Table tasks;
    tasks.id = ids.next("tbl");
    tasks.name = "Tasks";
    auto add = [&](Table& t, const std::string& name, const std::string& type, Json options) {
      Field f;
      f.id = ids.next("fld");
      f.name = name;
      f.type = type;
      f.options = std::move(options);
      f.slot = t.next_slot++;
      t.fields.push_back(f);
      return f.id;
    };
    add(campaigns, "Name", "singleLineText", nullptr);
    const std::string budget =
        add(campaigns, "Budget", "currency", Json{{"precision", 2}, {"symbol", "$"}});
    const std::string inverse = ids.next("fld");
    add(tasks, "Name", "singleLineText", nullptr);
    add(tasks, "Points", "number", Json{{"precision", 0}});
    add(tasks, "Done", "checkbox", Json{{"icon", "check"}, {"color", "greenBright"}});
    add(tasks, "Status", "singleSelect",
        Json{{"choices",
              Json::array({Json{
                  {"id", "selAAAAAAAAAAAAAA"}, {"name", "Todo"}, {"color", "blueLight2"}}})}});
    const std::string link = add(tasks, "Campaign", "multipleRecordLinks",
                                 Json{{"linkedTableId", campaigns.id},
                                      {"isReversed", false},
                                      {"prefersSingleRecordLink", false},
                                      {"inverseLinkFieldId", inverse}});
    add(tasks, "Budget (from Campaign)", "multipleLookupValues",
        Json{{"recordLinkFieldId", link},
             {"fieldIdInLinkedTable", budget},
             {"isValid", true},
             {"result", Json{{"type", "currency"}}}});
    add(tasks, "Last Modified", "lastModifiedTime",
        Json{{"isValid", true},
             {"referencedFieldIds", Json::array()},
             {"result", Json{{"type", "dateTime"}}}});
    add(tasks, "Auto", "autoNumber", nullptr);
    Field inv;
    inv.id = inverse;
    inv.name = "Tasks";
    inv.type = "multipleRecordLinks";
    inv.options = Json{{"linkedTableId", tasks.id},
                       {"isReversed", false},
                       {"prefersSingleRecordLink", false},
                       {"inverseLinkFieldId", link}};
    inv.slot = campaigns.next_slot++;
    campaigns.fields.push_back(inv);
    for (Table* t : {&tasks, &campaigns}) {
      t->primary_field_id = t->fields.front().id;
      View grid;
      grid.id = ids.next("viw");
      grid.name = "Grid view";
      t->views.push_back(grid);
    }
    base_id = base.id;
    tasks_id = tasks.id;
    campaigns_id = campaigns.id;
    base.tables.push_back(std::move(tasks));
    base.tables.push_back(std::move(campaigns));
    ws.bases.push_back(std::move(base));
    store.replace(std::move(ws));
    store.set_listener([this](const Base&, const ChangeEvent& e) { events.push_back(e); });
  }

  Base& base() { return *store.workspace().mutable_base(base_id); }
  Table& tasks() { return *base().mutable_table(tasks_id); }
  Table& campaigns() { return *base().mutable_table(campaigns_id); }

  std::vector<std::string> create(Table& table, const Json& fields, int64_t now_ms,
                                  bool typecast = false) {
    WriteOptions opts;
    opts.now_ms = now_ms;
    opts.user_id = "usrAAAAAAAAAAAAAA";
    opts.typecast = typecast;
    return store.create_records(base(), table, Json::array({Json{{"fields", fields}}}), opts);
  }
  void update(Table& table, const std::string& id, const Json& fields, int64_t now_ms,
              bool replace = false) {
    WriteOptions opts;
    opts.now_ms = now_ms;
    opts.user_id = "usrAAAAAAAAAAAAAA";
    store.update_records(base(), table, Json::array({Json{{"id", id}, {"fields", fields}}}),
                         replace, opts);
  }
};

}  // namespace emu::testing
