// The demo base, shaped like the seed issue's: "Packaging Tasks", "Campaigns" and
// "Creative Requests", linked, with field names that need care (spaces, punctuation,
// non-ASCII, emoji). Deterministic: ids from the seed, times from a fixed epoch.
#include <array>

#include "dataset_builder.hpp"
#include "datasets.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// 2026-01-05T09:00:00.000Z: the demo's "now" when its records were written.
const int64_t kDemoEpoch = days_from_civil(2026, 1, 5) * kDay + 9 * kHour;

Json date_options() {
  return Json{{"dateFormat", Json{{"name", "iso"}, {"format", "YYYY-MM-DD"}}}};
}

Json date_time_options() {
  return Json{{"dateFormat", Json{{"name", "iso"}, {"format", "YYYY-MM-DD"}}},
              {"timeFormat", Json{{"name", "24hour"}, {"format", "HH:mm"}}},
              {"timeZone", "utc"}};
}

Json last_modified_options() {
  return Json{{"isValid", true},
              {"referencedFieldIds", Json::array()},
              {"result", Json{{"type", "dateTime"}, {"options", date_time_options()}}}};
}

Json created_options() {
  return Json{{"result", Json{{"type", "dateTime"}, {"options", date_time_options()}}}};
}

}  // namespace

Workspace make_demo_workspace(IdGenerator& ids, int64_t /*now_ms*/) {
  Workspace workspace;
  workspace.users = {{ids.next("usr"), "maria.garcia@example.com", "María García"},
                     {ids.next("usr"), "kenji.sato@example.com", "Kenji Sato"},
                     {ids.next("usr"), "alex.chen@example.com", "Alex Chen"},
                     {ids.next("usr"), "contractor@example.net", ""}};
  const auto user = [&](size_t i) { return workspace.users[i % workspace.users.size()]; };
  const auto collaborator = [&](size_t i) {
    Json out{{"id", user(i).id}, {"email", user(i).email}};
    if (!user(i).name.empty()) {
      out["name"] = user(i).name;
    }
    return out;
  };

  detail::BaseBuilder b(ids, "Marketing Ops 🚀");
  Table& tasks = b.add_table("Packaging Tasks");
  Table& campaigns = b.add_table("Campaigns");
  Table& requests = b.add_table("Creative Requests");

  const std::string c_name = b.add_field(campaigns, "Campaign Name", "singleLineText");
  const std::string c_channel =
      b.add_field(campaigns, "Channel 📣", "singleSelect",
                  detail::choices(ids, {"Email", "Social", "Print", "Events"}));
  const std::string c_budget =
      b.add_field(campaigns, "Budget ($)", "currency", Json{{"precision", 2}, {"symbol", "$"}});
  const std::string c_start = b.add_field(campaigns, "Start Date", "date", date_options());
  const std::string c_launch =
      b.add_field(campaigns, "Launch (UTC)", "dateTime", date_time_options());
  const std::string c_owner = b.add_field(campaigns, "Owner", "singleCollaborator");
  const std::string c_region = b.add_field(campaigns, "Región", "singleLineText");
  const std::string c_active = b.add_field(campaigns, "Active?", "checkbox",
                                           Json{{"icon", "check"}, {"color", "greenBright"}});

  const std::string t_name = b.add_field(tasks, "Task Name", "singleLineText");
  const std::string t_status =
      b.add_field(tasks, "Status", "singleSelect",
                  detail::choices(ids, {"Todo", "In progress", "Blocked", "Done"}));
  const std::string t_priority = b.add_field(
      tasks, "Priority ⭐", "rating", Json{{"icon", "star"}, {"max", 5}, {"color", "yellowBright"}});
  const std::string t_due = b.add_field(tasks, "Due Date", "date", date_options());
  const std::string t_estimate =
      b.add_field(tasks, "Estimate (h:mm)", "duration", Json{{"durationFormat", "h:mm"}});
  const std::string t_complete =
      b.add_field(tasks, "% Complete", "percent", Json{{"precision", 0}});
  const std::string t_done =
      b.add_field(tasks, "Done?", "checkbox", Json{{"icon", "check"}, {"color", "greenBright"}});
  const auto [t_campaign, c_tasks] = b.add_link(tasks, "Campaign", campaigns, "Tasks");
  b.add_field(tasks, "Campaign Budget (from Campaign)", "multipleLookupValues",
              Json{{"isValid", true},
                   {"recordLinkFieldId", t_campaign},
                   {"fieldIdInLinkedTable", c_budget},
                   {"result", Json{{"type", "currency"},
                                   {"options", Json{{"precision", 2}, {"symbol", "$"}}}}}});
  const std::string t_notes = b.add_field(tasks, "Notes / Comments", "multilineText");
  const std::string t_files =
      b.add_field(tasks, "Attachments", "multipleAttachments", Json{{"isReversed", false}});
  const std::string t_assignees = b.add_field(tasks, "Assignees", "multipleCollaborators");
  const std::string t_tags =
      b.add_field(tasks, "Tags", "multipleSelects",
                  detail::choices(ids, {"eco", "rush", "print-ready", "Ω-test"}));
  const std::string t_days =
      b.add_field(tasks, "Days Left", "formula",
                  Json{{"formula", "DATETIME_DIFF({" + t_due + "}, TODAY(), 'days')"},
                       {"isValid", true},
                       {"referencedFieldIds", Json::array({t_due})},
                       {"result", Json{{"type", "number"}, {"options", Json{{"precision", 0}}}}}});
  b.add_field(tasks, "Last Modified", "lastModifiedTime", last_modified_options());
  b.add_field(tasks, "Created By", "createdBy");
  b.add_field(tasks, "Task #", "autoNumber");

  b.add_field(campaigns, "Task Count", "count",
              Json{{"isValid", true}, {"recordLinkFieldId", c_tasks}});
  b.add_field(campaigns, "Last Modified", "lastModifiedTime", last_modified_options());
  b.add_field(campaigns, "Created", "createdTime", created_options());

  const std::string r_name = b.add_field(requests, "Request", "singleLineText");
  const std::string r_campaign =
      b.add_link(requests, "Campaign", campaigns, "Creative Requests").first;
  const std::string r_format = b.add_field(requests, "Format", "singleSelect",
                                           detail::choices(ids, {"Banner", "Video", "Poster"}));
  const std::string r_brief = b.add_field(requests, "Brief", "richText");
  const std::string r_email = b.add_field(requests, "Requester Email", "email");
  const std::string r_url = b.add_field(requests, "Reference URL", "url");
  const std::string r_phone = b.add_field(requests, "Phone ☎", "phoneNumber");
  const std::string r_barcode = b.add_field(requests, "Barcode", "barcode");
  const std::string r_cost = b.add_field(requests, "Cost", "number", Json{{"precision", 2}});
  // Watches only some fields, so it is no cursor for incremental reads (a snapshot table), and
  // a blank record shows "fields": {}.
  Json watched = last_modified_options();
  watched["referencedFieldIds"] = Json::array({r_name, r_format, r_brief, r_cost});
  b.add_field(requests, "Content Modified", "lastModifiedTime", watched);
  const std::string c_button =
      b.add_field(campaigns, "Approve", "button", Json{{"label", "Approve"}, {"style", "primary"}});
  const std::string c_ai = b.add_field(campaigns, "AI Summary", "aiText",
                                       Json{{"prompt", Json::array({"Summarise the campaign"})},
                                            {"referencedFieldIds", Json::array({c_name})}});

  static constexpr std::array<const char*, 8> kCampaigns = {
      "Spring Launch", "Holiday Gift Box", "Eco Packaging", "Back to School",
      "Summer Sale ☀", "Café Partners",    "Black Friday",  "Loyalty Relaunch"};
  static constexpr std::array<const char*, 4> kRegions = {"Europa", "Norteamérica", "Asia–Pacífico",
                                                          "Österreich"};
  std::vector<std::string> campaign_ids;
  for (size_t i = 0; i < 20; ++i) {
    Record& r =
        b.add_record(campaigns, kDemoEpoch - static_cast<int64_t>(60 - i) * kDay, user(i).id);
    // A button shows on every record, blank or not.
    b.set(campaigns, r, c_button,
          Json{{"label", "Approve"},
               {"url", i % 5 == 0 ? Json(nullptr)
                                  : Json("https://example.com/approve/" + std::to_string(i))}});
    static constexpr std::array<const char*, 4> kStates = {"generated", "empty", "loading",
                                                           "error"};
    const std::string state = i == 13 ? "empty" : kStates[i % 4];
    if (state == "error") {
      b.set(campaigns, r, c_ai,
            Json{{"state", "error"},
                 {"errorType", "modelError"},
                 {"isStale", false},
                 {"value", nullptr}});
    } else {
      b.set(campaigns, r, c_ai,
            Json{{"state", state},
                 {"isStale", i % 3 == 0},
                 {"value", state == "generated" ? Json("Campaign brief no. " + std::to_string(i))
                                                : Json(nullptr)}});
    }
    if (i == 13) {
      campaign_ids.push_back(r.id);  // a blank record: "fields": {} apart from computed ones
      continue;
    }
    b.set(campaigns, r, c_name,
          std::string(kCampaigns[i % kCampaigns.size()]) + " " + std::to_string(2026 + i / 8));
    b.set(campaigns, r, c_channel,
          std::array<const char*, 4>{"Email", "Social", "Print", "Events"}[i % 4]);
    b.set(campaigns, r, c_budget,
          i % 5 == 4 ? Json(nullptr) : Json(1500.0 + 1250.25 * static_cast<double>(i)));
    b.set(campaigns, r, c_start, format_date(kDemoEpoch + static_cast<int64_t>(i) * 7 * kDay));
    b.set(
        campaigns, r, c_launch,
        format_iso_ms(kDemoEpoch + static_cast<int64_t>(i) * 7 * kDay + 14 * kHour + 30LL * 60000));
    b.set(campaigns, r, c_owner, collaborator(i));
    b.set(campaigns, r, c_region, kRegions[i % kRegions.size()]);
    b.set(campaigns, r, c_active, i % 3 == 0 ? Json(nullptr) : Json(true));
    campaign_ids.push_back(r.id);
  }

  static constexpr std::array<const char*, 10> kTasks = {
      "Design box dieline", "Order kraft samples",       "Print proofs",   "Approve artwork",
      "Shrink-wrap test",   "Label translation (DE/FR)", "Carbon audit 🌱", "Ship to co-packer",
      "QA drop test",       "Update SKU sheet"};
  for (size_t i = 0; i < 40; ++i) {
    Record& r =
        b.add_record(tasks, kDemoEpoch - static_cast<int64_t>(40 - i) * 20 * kHour, user(i + 1).id);
    if (i == 7) {
      continue;  // blank
    }
    b.set(tasks, r, t_name, std::string(kTasks[i % kTasks.size()]) + " #" + std::to_string(i + 1));
    b.set(tasks, r, t_status,
          std::array<const char*, 4>{"Todo", "In progress", "Blocked", "Done"}[i % 4]);
    b.set(tasks, r, t_priority, static_cast<int64_t>(i % 5 + 1));
    b.set(tasks, r, t_due, format_date(kDemoEpoch + static_cast<int64_t>(i % 17) * kDay));
    b.set(tasks, r, t_estimate, static_cast<int64_t>((i % 6 + 1) * 1800));
    b.set(tasks, r, t_complete, i % 4 == 3 ? Json(1) : Json(static_cast<double>(i % 4) * 0.25));
    b.set(tasks, r, t_done, i % 4 == 3 ? Json(true) : Json(nullptr));
    if (i % 6 != 5) {
      b.link(tasks, r, t_campaign, {campaign_ids[i % 12]});
    }
    if (i % 3 == 0) {
      b.set(tasks, r, t_notes,
            "Check with <airtable:mention id=\"menAAAAAAAAAAAAAA\">@Kenji Sato</airtable:mention> "
            "about the supplier.\nSecond line – with “quotes”.");
    }
    if (i % 5 == 0) {
      const std::string att = ids.next("att");
      const std::string url =
          "https://v5.airtableusercontent.com/v3/u/demo/" + att + "/dieline.png";
      b.set(tasks, r, t_files,
            Json::array({Json{
                {"id", att},
                {"width", 1200},
                {"height", 800},
                {"url", url},
                {"filename", "dieline-v" + std::to_string(i) + ".png"},
                {"size", 48213 + static_cast<int64_t>(i)},
                {"type", "image/png"},
                {"thumbnails",
                 Json{{"small", Json{{"url", url + "?s"}, {"width", 54}, {"height", 36}}},
                      {"large", Json{{"url", url + "?l"}, {"width", 768}, {"height", 512}}},
                      {"full", Json{{"url", url + "?f"}, {"width", 3000}, {"height", 3000}}}}}}}));
    }
    if (i % 2 == 0) {
      b.set(tasks, r, t_assignees, Json::array({collaborator(i), collaborator(i + 2)}));
    }
    if (i % 3 != 2) {
      b.set(tasks, r, t_tags, i % 3 == 0 ? Json::array({"eco", "rush"}) : Json::array({"Ω-test"}));
    }
    b.set(tasks, r, t_days,
          i % 9 == 4 ? Json{{"error", "#ERROR!"}} : Json(static_cast<int64_t>(i % 17) - 3));
  }

  for (size_t i = 0; i < 25; ++i) {
    Record& r = b.add_record(requests, kDemoEpoch - static_cast<int64_t>(25 - i) * 30 * kHour,
                             user(i + 2).id);
    if (i == 19) {
      continue;  // blank
    }
    b.set(requests, r, r_name,
          "Request " + std::to_string(i + 1) + ": " +
              std::array<const char*, 3>{"hero banner", "teaser video", "store poster"}[i % 3]);
    // Campaign 13 stays blank: nothing links to it.
    const size_t campaign = (i * 3) % 20 == 13 ? 14 : (i * 3) % 20;
    b.link(requests, r, r_campaign, {campaign_ids[campaign]});
    b.set(requests, r, r_format, std::array<const char*, 3>{"Banner", "Video", "Poster"}[i % 3]);
    b.set(requests, r, r_brief,
          "**Goal:** lift awareness\n\n- size: A" + std::to_string(i % 5) + "\n");
    b.set(requests, r, r_email, "requester" + std::to_string(i) + "@example.com");
    b.set(requests, r, r_url, "https://example.com/ref/" + std::to_string(i));
    b.set(requests, r, r_phone, "(212) 555-01" + std::to_string(10 + i));
    if (i % 4 == 0) {
      b.set(requests, r, r_barcode,
            Json{{"text", "40063813339" + std::to_string(10 + i)}, {"type", "ean13"}});
    }
    b.set(requests, r, r_cost,
          i % 7 == 6 ? Json(nullptr) : Json(99.5 * static_cast<double>(i + 1)));
  }

  for (Table* table : {&tasks, &campaigns, &requests}) {
    b.add_view(*table, "Grid view");
  }
  View& open_tasks = b.add_view(tasks, "Open tasks");
  open_tasks.filter_formula = "NOT({" + t_done + "})";
  open_tasks.sort = Json::array({Json{{"field", t_due}, {"direction", "asc"}}});
  workspace.bases.push_back(b.take());
  return workspace;
}

}  // namespace emu
