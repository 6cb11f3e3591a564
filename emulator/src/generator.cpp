// The seeded generator: a base of N tables x M records covering every field type Airtable
// has (plus an unknown future one), with links between neighbouring tables. Fast enough for
// 1,000,000 records in seconds: option JSON is built once per table, cells directly.
#include <array>
#include <stdexcept>

#include "dataset_builder.hpp"
#include "datasets.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
const int64_t kEpoch = days_from_civil(2026, 1, 1) * kDay;  // generated data is "written" in 2026

// splitmix64: tiny, fast, and good enough for test data.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  bool percent(uint64_t p) { return below(100) < p; }
  double unit() { return static_cast<double>(next() >> 11U) / 9007199254740992.0; }
};

struct Ids {
  std::string name, email, url, notes, rich, phone, amount, ratio, price, duration, stars, flag,
      day, moment, owner, team, stage, labels, sync, related, lookup, total, score, label_text,
      files, code, open, summary, future;
};

Json date_time_options(const char* zone) {
  return Json{{"dateFormat", Json{{"name", "us"}, {"format", "M/D/YYYY"}}},
              {"timeFormat", Json{{"name", "12hour"}, {"format", "h:mma"}}},
              {"timeZone", zone}};
}

Ids add_fields(detail::BaseBuilder& b, Table& t) {
  IdGenerator& ids = b.ids();
  Ids f;
  f.name = b.add_field(t, "Name", "singleLineText");
  f.email = b.add_field(t, "Email", "email");
  f.url = b.add_field(t, "Website", "url");
  f.notes = b.add_field(t, "Notes", "multilineText");
  f.rich = b.add_field(t, "Rich Notes", "richText");
  f.phone = b.add_field(t, "Phone", "phoneNumber");
  f.amount = b.add_field(t, "Amount", "number", Json{{"precision", 2}});
  f.ratio = b.add_field(t, "Ratio", "percent", Json{{"precision", 1}});
  f.price = b.add_field(t, "Price", "currency", Json{{"precision", 2}, {"symbol", "€"}});
  f.duration = b.add_field(t, "Duration", "duration", Json{{"durationFormat", "h:mm:ss"}});
  f.stars = b.add_field(t, "Stars", "rating",
                        Json{{"icon", "star"}, {"max", 5}, {"color", "yellowBright"}});
  f.flag = b.add_field(t, "Flag", "checkbox", Json{{"icon", "check"}, {"color", "greenBright"}});
  b.add_field(t, "Seq", "autoNumber");
  f.day = b.add_field(t, "Day", "date",
                      Json{{"dateFormat", Json{{"name", "iso"}, {"format", "YYYY-MM-DD"}}}});
  f.moment = b.add_field(t, "Moment", "dateTime", date_time_options("America/New_York"));
  b.add_field(t, "Created", "createdTime",
              Json{{"result", Json{{"type", "dateTime"}, {"options", date_time_options("utc")}}}});
  b.add_field(t, "Last Modified", "lastModifiedTime",
              Json{{"isValid", true},
                   {"referencedFieldIds", Json::array()},
                   {"result", Json{{"type", "dateTime"}, {"options", date_time_options("utc")}}}});
  f.owner = b.add_field(t, "Owner", "singleCollaborator");
  b.add_field(t, "Created By", "createdBy");
  b.add_field(t, "Modified By", "lastModifiedBy");
  f.team = b.add_field(t, "Team", "multipleCollaborators");
  f.stage = b.add_field(t, "Stage", "singleSelect",
                        detail::choices(ids, {"Lead", "Qualified", "Won", "Lost"}));
  f.labels = b.add_field(t, "Labels", "multipleSelects",
                         detail::choices(ids, {"red", "green", "blue", "ünïcode ✓"}));
  f.sync = b.add_field(t, "Sync Source", "externalSyncSource",
                       detail::choices(ids, {"CRM export", "Ops sheet"}));
  f.files = b.add_field(t, "Files", "multipleAttachments", Json{{"isReversed", false}});
  f.code = b.add_field(t, "Code", "barcode");
  f.open = b.add_field(t, "Open", "button", Json{{"label", "Open"}, {"style", "primary"}});
  f.summary = b.add_field(t, "Summary", "aiText",
                          Json{{"prompt", Json::array({"Summarise the notes"})},
                               {"referencedFieldIds", Json::array({f.notes})}});
  f.total =
      b.add_field(t, "Total", "rollup",
                  Json{{"isValid", true},
                       {"referencedFieldIds", Json::array()},
                       {"result", Json{{"type", "number"}, {"options", Json{{"precision", 2}}}}}});
  f.score =
      b.add_field(t, "Score", "formula",
                  Json{{"formula", "{" + f.amount + "} / {" + f.stars + "}"},
                       {"isValid", true},
                       {"referencedFieldIds", Json::array({f.amount, f.stars})},
                       {"result", Json{{"type", "number"}, {"options", Json{{"precision", 3}}}}}});
  f.label_text = b.add_field(t, "Label Text", "formula",
                             Json{{"formula", "UPPER({" + f.name + "})"},
                                  {"isValid", true},
                                  {"referencedFieldIds", Json::array({f.name})},
                                  {"result", Json{{"type", "singleLineText"}}}});
  f.future = b.add_field(t, "Future", "fancyNewType", Json{{"someOption", true}});
  return f;
}

int64_t positive(const std::string& spec, const std::string& text, const char* what) {
  try {
    size_t used = 0;
    const int64_t value = std::stoll(text, &used);
    if (used == text.size() && value > 0) {
      return value;
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("--generate " + spec + ": the number of " + what +
                              " must be a positive integer (e.g. --generate 3x1000)");
}

void check_tables(const std::string& spec, int64_t tables) {
  if (tables > static_cast<int64_t>(detail::BaseBuilder::kMaxTables)) {
    throw std::invalid_argument("--generate " + spec + ": at most 1000 tables per base");
  }
}

}  // namespace

std::pair<int, int64_t> parse_generate_spec(const std::string& spec) {
  const size_t x = spec.find('x');
  if (x == std::string::npos) {
    throw std::invalid_argument("--generate needs TABLESxRECORDS, e.g. 3x1000, got '" + spec + "'");
  }
  const int64_t tables = positive(spec, spec.substr(0, x), "tables");
  const int64_t records = positive(spec, spec.substr(x + 1), "records");
  check_tables(spec, tables);
  return {static_cast<int>(tables), records};
}

GenerateSpec parse_generate_option(const std::string& spec) {
  const size_t first = spec.find('x');
  const size_t second = first == std::string::npos ? first : spec.find('x', first + 1);
  if (second == std::string::npos) {
    const auto [tables, records] = parse_generate_spec(spec);
    return {1, tables, records};
  }
  const int64_t bases = positive(spec, spec.substr(0, first), "bases");
  if (bases > kMaxGeneratedBases) {
    throw std::invalid_argument("--generate " + spec + ": at most " +
                                std::to_string(kMaxGeneratedBases) + " bases");
  }
  const int64_t tables = positive(spec, spec.substr(first + 1, second - first - 1), "tables");
  const int64_t records = positive(spec, spec.substr(second + 1), "records");
  check_tables(spec, tables);
  return {static_cast<int>(bases), static_cast<int>(tables), records};
}

namespace {

Base generate_base(IdGenerator& ids, const std::string& name,
                   const std::vector<Collaborator>& users, int tables, int64_t records) {
  std::vector<Json> people;
  for (const Collaborator& u : users) {
    Json c{{"id", u.id}, {"email", u.email}};
    if (!u.name.empty()) {
      c["name"] = u.name;
    }
    people.push_back(c);
  }
  detail::BaseBuilder b(ids, name);
  std::vector<Table*> all;
  std::vector<Ids> fields;
  for (int t = 0; t < tables; ++t) {
    all.push_back(&b.add_table("Table " + std::to_string(t + 1)));
    fields.push_back(add_fields(b, *all.back()));
  }
  // Links to the next table (wrapping), each with its inverse; a single table links to itself.
  for (int t = 0; t < tables; ++t) {
    Table& table = *all[static_cast<size_t>(t)];
    Table& next = *all[static_cast<size_t>((t + 1) % tables)];
    if (tables == 1) {
      fields[0].related = b.add_field(table, "Related", "multipleRecordLinks",
                                      Json{{"linkedTableId", table.id},
                                           {"isReversed", false},
                                           {"prefersSingleRecordLink", false}});
    } else {
      fields[static_cast<size_t>(t)].related =
          b.add_link(table, "Related", next, "Related from " + table.name).first;
    }
    const std::string& target_name = fields[static_cast<size_t>((t + 1) % tables)].name;
    fields[static_cast<size_t>(t)].lookup =
        b.add_field(table, "Related Names", "multipleLookupValues",
                    Json{{"isValid", true},
                         {"recordLinkFieldId", fields[static_cast<size_t>(t)].related},
                         {"fieldIdInLinkedTable", target_name},
                         {"result", Json{{"type", "singleLineText"}}}});
    b.add_field(
        table, "Related Count", "count",
        Json{{"isValid", true}, {"recordLinkFieldId", fields[static_cast<size_t>(t)].related}});
  }
  static constexpr std::array<const char*, 4> kStages = {"Lead", "Qualified", "Won", "Lost"};
  static constexpr std::array<const char*, 4> kLabels = {"red", "green", "blue", "ünïcode ✓"};
  for (int t = 0; t < tables; ++t) {
    Table& table = *all[static_cast<size_t>(t)];
    const Ids& f = fields[static_cast<size_t>(t)];
    Rng rng{ids.next_u64()};
    const std::string prefix = "T" + std::to_string(t + 1) + "-";
    for (int64_t j = 0; j < records; ++j) {
      const int64_t created = kEpoch + j * 1000 + static_cast<int64_t>(t) * 7;
      Record& r = b.add_record(table, created, users[rng.below(5)].id);
      if (rng.percent(1)) {
        continue;  // an all-blank record
      }
      const std::string n = std::to_string(j + 1);
      auto maybe = [&](const std::string& field_id, Json value) {
        if (!rng.percent(8)) {
          b.set(table, r, field_id, std::move(value));
        }
      };
      b.set(table, r, f.name, prefix + n);
      maybe(f.email, "person" + n + "@example.com");
      maybe(f.url, "https://example.com/items/" + n);
      maybe(
          f.notes,
          j % 10 == 0
              ? "Ping <airtable:mention id=\"menAAAAAAAAAAAAAA\">@User 1</airtable:mention>\nline 2"
              : "Note " + n);
      maybe(f.rich, "**Bold** item " + n + "\n");
      maybe(f.phone, "(212) 555-" + std::to_string(1000 + j % 9000));
      maybe(f.amount, static_cast<double>(rng.below(10'000'000)) / 100.0);
      maybe(f.ratio, static_cast<double>(rng.below(1001)) / 1000.0);
      maybe(f.price, static_cast<double>(rng.below(1'000'000)) / 100.0);
      maybe(f.duration, static_cast<int64_t>(rng.below(86400)));
      maybe(f.stars, static_cast<int64_t>(rng.below(5) + 1));
      if (rng.percent(50)) {
        b.set(table, r, f.flag, true);
      }
      maybe(f.day, format_date(kEpoch + static_cast<int64_t>(rng.below(365)) * kDay));
      maybe(f.moment,
            format_iso_ms(kEpoch + static_cast<int64_t>(rng.below(365ULL * 24 * 60)) * 60000));
      maybe(f.owner, people[rng.below(people.size())]);
      maybe(f.team, Json::array({people[rng.below(5)], people[(rng.below(4) + 1) % 5]}));
      maybe(f.stage, kStages[rng.below(4)]);
      maybe(f.labels, rng.percent(50) ? Json::array({kLabels[rng.below(4)]})
                                      : Json::array({"red", "ünïcode ✓"}));
      maybe(f.sync, rng.percent(50) ? "CRM export" : "Ops sheet");
      if (rng.percent(30)) {
        const std::string att = ids.next("att");
        const std::string url = "https://v5.airtableusercontent.com/v3/u/gen/" + att + "/file.jpg";
        Json attachment{{"id", att},
                        {"width", 640},
                        {"height", 480},
                        {"url", url},
                        {"filename", "photo-" + n + ".jpg"},
                        {"size", static_cast<int64_t>(10'000 + rng.below(90'000))},
                        {"type", "image/jpeg"}};
        if (rng.percent(80)) {
          attachment["thumbnails"] =
              Json{{"small", Json{{"url", url + "?s"}, {"width", 48}, {"height", 36}}},
                   {"large", Json{{"url", url + "?l"}, {"width", 512}, {"height", 384}}},
                   {"full", Json{{"url", url + "?f"}, {"width", 640}, {"height", 480}}}};
        }
        b.set(table, r, f.files, Json::array({attachment}));
      }
      maybe(f.code, Json{{"text", "0" + std::to_string(400638133393LL + j)}, {"type", "upce"}});
      b.set(table, r, f.open,
            Json{{"label", "Open"},
                 {"url", rng.percent(20) ? Json(nullptr) : Json("https://example.com/open/" + n)}});
      switch (rng.below(4)) {
        case 0:
          b.set(
              table, r, f.summary,
              Json{
                  {"state", "generated"}, {"isStale", rng.percent(20)}, {"value", "Summary " + n}});
          break;
        case 1:
          b.set(table, r, f.summary,
                Json{{"state", "empty"}, {"isStale", false}, {"value", nullptr}});
          break;
        case 2:
          b.set(table, r, f.summary,
                Json{{"state", "loading"}, {"isStale", false}, {"value", nullptr}});
          break;
        default:
          b.set(table, r, f.summary,
                Json{{"state", "error"},
                     {"errorType", "emptyDependency"},
                     {"isStale", false},
                     {"value", nullptr}});
      }
      maybe(f.total, static_cast<double>(rng.below(100000)) / 10.0);
      const uint64_t roll = rng.below(100);
      b.set(table, r, f.score,
            roll < 3   ? Json{{"error", "#ERROR!"}}
            : roll < 5 ? Json{{"specialValue", "NaN"}}
                       : Json(static_cast<double>(rng.below(1'000'000)) / 1000.0));
      b.set(table, r, f.label_text, prefix + n);
      maybe(f.future, Json{{"kind", "mystery"}, {"n", j}});
    }
  }
  // Links last, once every target record exists.
  for (int t = 0; t < tables; ++t) {
    Table& table = *all[static_cast<size_t>(t)];
    Table& next = *all[static_cast<size_t>((t + 1) % tables)];
    Rng rng{ids.next_u64()};
    std::vector<std::string> targets;
    targets.reserve(next.records.size());
    for (const auto& [seq, rec] : next.records) {
      targets.push_back(rec.id);
    }
    for (auto& [seq, rec] : table.records) {
      if (rec.cells[table.field_by_id(fields[static_cast<size_t>(t)].name)->slot].is_null() ||
          targets.empty() || rng.percent(15)) {
        continue;  // blank records stay blank; some records link to nothing
      }
      std::vector<std::string> chosen;
      const uint64_t count = rng.below(3) + 1;
      for (uint64_t k = 0; k < count; ++k) {
        const std::string& pick = targets[rng.below(targets.size())];
        if (std::find(chosen.begin(), chosen.end(), pick) == chosen.end()) {
          chosen.push_back(pick);
        }
      }
      b.link(table, rec, fields[static_cast<size_t>(t)].related, chosen);
    }
  }
  return b.take();
}

}  // namespace

Workspace generate_workspace(IdGenerator& ids, int bases, int tables, int64_t records,
                             int64_t /*now_ms*/) {
  Workspace workspace;
  for (int i = 0; i < 5; ++i) {
    workspace.users.push_back({ids.next("usr"), "user" + std::to_string(i) + "@example.com",
                               i == 4 ? "" : "User " + std::to_string(i)});
  }
  // One base keeps its historical name (and ids: the same draws in the same order).
  for (int i = 0; i < bases; ++i) {
    const std::string name =
        bases == 1 ? "Generated base" : "Generated base " + std::to_string(i + 1);
    workspace.bases.push_back(generate_base(ids, name, workspace.users, tables, records));
  }
  return workspace;
}

Workspace generate_workspace(IdGenerator& ids, int tables, int64_t records, int64_t now_ms) {
  return generate_workspace(ids, 1, tables, records, now_ms);
}

}  // namespace emu
