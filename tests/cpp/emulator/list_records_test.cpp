#include "list_records.hpp"

#include <gtest/gtest.h>

#include <set>

#include "api_error.hpp"
#include "test_workspace.hpp"

namespace emu {
namespace {

using testing::TestWorkspace;

constexpr int64_t kT0 = 1'700'000'000'000;

struct Lister {
  TestWorkspace& w;
  IteratorRegistry iterators{60'000};
  int64_t now = kT0;

  Json page(const QueryParams& query) {
    const CellResolver resolver(w.store.workspace(), w.base(), w.tasks(), now);
    const ListContext ctx{resolver, iterators, w.ids, now};
    return Json::parse(list_records(ctx, list_options_from_query(query)));
  }

  // Every page of a listing; returns record ids in order.
  std::vector<std::string> all(QueryParams query, int* pages = nullptr) {
    std::vector<std::string> ids;
    std::string offset;
    int count = 0;
    do {
      QueryParams q = query;
      if (!offset.empty()) {
        q.emplace_back("offset", offset);
      }
      const Json body = page(q);
      ++count;
      for (const Json& r : body["records"]) {
        ids.push_back(r["id"].get<std::string>());
      }
      offset = body.value("offset", "");
    } while (!offset.empty());
    if (pages != nullptr) {
      *pages = count;
    }
    return ids;
  }
};

void fill(TestWorkspace& w, int n) {
  for (int i = 0; i < n; ++i) {
    w.create(w.tasks(), Json{{"Name", "Task " + std::to_string(i)}, {"Points", (i * 7) % 13}},
             kT0 + i);
  }
}

TEST(ListRecords, PagesInCreationOrderWithoutDuplicates) {
  TestWorkspace w;
  fill(w, 250);
  Lister lister{w};
  int pages = 0;
  const auto ids = lister.all({}, &pages);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 250U);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 250U);
  EXPECT_EQ(lister.all({{"pageSize", "7"}}).size(), 250U);
  const Json first = lister.page({{"pageSize", "100"}});
  const std::string offset = first["offset"].get<std::string>();
  EXPECT_TRUE(is_airtable_id(offset.substr(0, 17), "itr"));
  EXPECT_EQ(offset.substr(18), first["records"][99]["id"].get<std::string>());
}

TEST(ListRecords, EmptyCellsOmittedAndFieldsByIdOrName) {
  TestWorkspace w;
  w.create(w.tasks(), Json::object(), kT0);
  w.create(w.tasks(), Json{{"Name", "x"}, {"Done", true}}, kT0);
  Lister lister{w};
  const Json body = lister.page({});
  // A blank record keeps an empty fields object, apart from its computed fields.
  const Json& blank = body["records"][0]["fields"];
  EXPECT_FALSE(blank.contains("Name"));
  EXPECT_FALSE(blank.contains("Done"));
  EXPECT_TRUE(blank.contains("Auto"));
  const std::string name_id = w.tasks().field_by_name("Name")->id;
  const Json by_id = lister.page({{"returnFieldsByFieldId", "true"}, {"fields[]", "Name"}});
  EXPECT_EQ(by_id["records"][1]["fields"], (Json{{name_id, "x"}}));
  EXPECT_TRUE(by_id["records"][0]["fields"].empty());
}

TEST(ListRecords, MaxRecordsSpansPages) {
  TestWorkspace w;
  fill(w, 50);
  Lister lister{w};
  int pages = 0;
  EXPECT_EQ(lister.all({{"pageSize", "10"}, {"maxRecords", "25"}}, &pages).size(), 25U);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(lister.all({{"maxRecords", "20"}}).size(), 20U);
}

TEST(ListRecords, SortIsFixedWhenListingStartsButValuesAreLive) {
  TestWorkspace w;
  fill(w, 30);
  Lister lister{w};
  const Json first = lister.page(
      {{"sort[0][field]", "Points"}, {"sort[0][direction]", "desc"}, {"pageSize", "10"}});
  int64_t last = 100;
  for (const Json& r : first["records"]) {
    EXPECT_LE(r["fields"]["Points"].get<int64_t>(), last);
    last = r["fields"]["Points"].get<int64_t>();
  }
  // Change a record that has not been returned yet: it keeps its position, with its new value.
  Lister peek{w};
  const auto order = peek.all({{"sort[0][field]", "Points"}, {"sort[0][direction]", "desc"}});
  const std::string later = order[15];
  w.update(w.tasks(), later, Json{{"Points", 99}}, kT0 + 500);
  const Json second =
      lister.page({{"pageSize", "10"}, {"offset", first["offset"].get<std::string>()}});
  EXPECT_EQ(second["records"][5]["id"], later);
  EXPECT_EQ(second["records"][5]["fields"]["Points"], 99);
}

TEST(ListRecords, DeletesAndCreatesDuringPagination) {
  TestWorkspace w;
  fill(w, 20);
  Lister lister{w};
  const Json first = lister.page({{"pageSize", "10"}});
  const std::string next_up = lister.all({}).at(12);
  WriteOptions opts;
  opts.now_ms = kT0 + 100;
  w.store.delete_records(w.base(), w.tasks(), {next_up}, opts);
  const auto added = w.create(w.tasks(), Json{{"Name", "late"}}, kT0 + 101);
  QueryParams q{{"pageSize", "10"}, {"offset", first["offset"].get<std::string>()}};
  std::vector<std::string> rest;
  std::string offset = first["offset"].get<std::string>();
  while (!offset.empty()) {
    const Json body = lister.page({{"pageSize", "10"}, {"offset", offset}});
    for (const Json& r : body["records"]) {
      rest.push_back(r["id"].get<std::string>());
    }
    offset = body.value("offset", "");
  }
  EXPECT_EQ(rest.size(), 10U);  // 10 left - 1 deleted + 1 created
  EXPECT_EQ(std::count(rest.begin(), rest.end(), next_up), 0);
  EXPECT_EQ(rest.back(), added[0]);
}

int list_error(Lister& lister, const QueryParams& q, std::string& type) {
  try {
    lister.page(q);
  } catch (const ApiError& e) {
    const Json& error = e.body()["error"];
    type = error["type"].get<std::string>();
    return e.status();
  }
  return 0;
}

TEST(ListRecords, IteratorsExpireAfterIdleTimeAndBadOffsetsAreRefused) {
  TestWorkspace w;
  fill(w, 30);
  Lister lister{w};
  const std::string offset = lister.page({{"pageSize", "10"}})["offset"].get<std::string>();
  lister.now += 60'001;
  std::string type;
  EXPECT_EQ(list_error(lister, {{"offset", offset}}, type), 422);
  EXPECT_EQ(type, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  EXPECT_EQ(list_error(lister, {{"offset", "itrAAAAAAAAAAAAAA/recAAAAAAAAAAAAAA"}}, type), 422);
  EXPECT_EQ(type, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  EXPECT_EQ(list_error(lister, {{"offset", "nonsense"}}, type), 422);
  EXPECT_EQ(type, "INVALID_OFFSET_VALUE");
  // Each page keeps the iterator alive for another full time-to-live.
  std::string live = lister.page({{"pageSize", "10"}})["offset"].get<std::string>();
  lister.now += 50'000;
  live = lister.page({{"pageSize", "10"}, {"offset", live}})["offset"].get<std::string>();
  lister.now += 50'000;
  EXPECT_EQ(lister.page({{"pageSize", "10"}, {"offset", live}})["records"].size(), 10U);
}

TEST(ListRecords, ParameterValidation) {
  TestWorkspace w;
  Lister lister{w};
  std::string type;
  for (const QueryParams& q : std::vector<QueryParams>{{{"pageSize", "0"}},
                                                       {{"pageSize", "101"}},
                                                       {{"maxRecords", "-1"}},
                                                       {{"cellFormat", "xml"}},
                                                       {{"cellFormat", "string"}},
                                                       {{"what", "1"}},
                                                       {{"sort[0][direction]", "up"}}}) {
    EXPECT_EQ(list_error(lister, q, type), 422) << q[0].first;
    EXPECT_EQ(type, "INVALID_REQUEST_UNKNOWN");
  }
  EXPECT_EQ(list_error(lister, {{"fields[]", "Nope"}}, type), 422);
  EXPECT_EQ(type, "UNKNOWN_FIELD_NAME");
  EXPECT_EQ(list_error(lister, {{"sort[0][field]", "Nope"}}, type), 422);
  EXPECT_EQ(type, "UNKNOWN_FIELD_NAME");
  EXPECT_EQ(list_error(lister, {{"view", "Nope"}}, type), 422);
  EXPECT_EQ(type, "VIEW_NAME_NOT_FOUND");
}

TEST(ListRecords, PostBodyOptions) {
  TestWorkspace w;
  fill(w, 15);
  const Json body{{"pageSize", 5},
                  {"fields", Json::array({"Points"})},
                  {"sort", Json::array({Json{{"field", "Points"}}})}};
  const ListOptions options = list_options_from_body(body, {{"timeZone", "UTC"}});
  EXPECT_EQ(options.page_size, 5);
  EXPECT_EQ(options.fields, std::vector<std::string>{"Points"});
  EXPECT_EQ(options.time_zone, "UTC");
  EXPECT_THROW(list_options_from_body(Json{{"timeZone", "UTC"}}, {}), ApiError);
  EXPECT_THROW(list_options_from_body(Json{{"pageSize", "five"}}, {}), ApiError);
}

}  // namespace
}  // namespace emu
