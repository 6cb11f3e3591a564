// The emulator's request bodies and parameters, through Emulator::handle (no socket): one to
// four requests, each a route of the API or of the control API (the input's tail picks the
// route, the table, record, field and query parameters) with a body from the input's head.
// Whatever arrives, handle() answers: nothing may escape it (the server would turn that into
// a 500 Airtable never sends), and every answer is JSON. The data is restored after each input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "datasets.hpp"
#include "emulator.hpp"

namespace {

struct Route {
  const char* method;
  const char* path;  // {b} base, {t} table, {r} record, {f} field, {h} webhook
};

constexpr Route kRoutes[] = {
    {"GET", "/v0/{b}/{t}"},
    {"POST", "/v0/{b}/{t}/listRecords"},
    {"GET", "/v0/{b}/{t}/{r}"},
    {"POST", "/v0/{b}/{t}"},
    {"PATCH", "/v0/{b}/{t}"},
    {"PUT", "/v0/{b}/{t}"},
    {"PATCH", "/v0/{b}/{t}/{r}"},
    {"PUT", "/v0/{b}/{t}/{r}"},
    {"DELETE", "/v0/{b}/{t}"},
    {"DELETE", "/v0/{b}/{t}/{r}"},
    {"GET", "/v0/meta/whoami"},
    {"GET", "/v0/meta/bases"},
    {"GET", "/v0/meta/bases/{b}/tables"},
    {"POST", "/v0/meta/bases/{b}/tables"},
    {"PATCH", "/v0/meta/bases/{b}/tables/{t}"},
    {"POST", "/v0/meta/bases/{b}/tables/{t}/fields"},
    {"PATCH", "/v0/meta/bases/{b}/tables/{t}/fields/{f}"},
    {"GET", "/v0/bases/{b}/webhooks"},
    {"POST", "/v0/bases/{b}/webhooks"},
    {"DELETE", "/v0/bases/{b}/webhooks/{h}"},
    {"GET", "/v0/bases/{b}/webhooks/{h}/payloads"},
    {"POST", "/v0/bases/{b}/webhooks/{h}/refresh"},
    {"POST", "/v0/bases/{b}/webhooks/{h}/enableNotifications"},
    {"POST", "/_emulator/config"},
    {"POST", "/_emulator/clock/advance"},
    {"POST", "/_emulator/tokens"},
    {"POST", "/_emulator/load"},
    {"POST", "/_emulator/bases/{b}/tables/{t}/fields"},
    {"PATCH", "/_emulator/bases/{b}/tables/{t}/fields/{f}"},
    {"DELETE", "/_emulator/bases/{b}/tables/{t}/fields/{f}"},
    {"GET", "/_emulator/requests"},
};

constexpr const char* kParams[] = {"pageSize",
                                   "maxRecords",
                                   "offset",
                                   "view",
                                   "filterByFormula",
                                   "sort[0][field]",
                                   "sort[0][direction]",
                                   "fields[]",
                                   "fields",
                                   "cellFormat",
                                   "timeZone",
                                   "userLocale",
                                   "returnFieldsByFieldId",
                                   "recordMetadata[]",
                                   "records[]",
                                   "records",
                                   "include[]",
                                   "cursor",
                                   "limit",
                                   "since",
                                   "typecast"};

// Two bases: the sample fixture (tests/data/emulator, whose names the seed corpus uses) and a
// generated one covering every field type. Loaded from a data directory of their own, removed
// once read.
emu::Emulator& emulator() {
  static emu::Emulator* instance = [] {
    namespace fs = std::filesystem;
    std::string dir = (fs::temp_directory_path() / "alf-fuzz-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    fs::copy_file(std::string(TEST_DATA_DIR) + "/emulator/sample_base.json",
                  fs::path(dir) / "sample_base.json");
    {
      emu::IdGenerator ids(42);
      const emu::Workspace generated = emu::generate_workspace(ids, 2, 6, 1'717'171'717'000);
      std::ofstream(fs::path(dir) / "generated.json")
          << emu::base_to_json(generated, generated.bases.front()).dump();
    }
    emu::Options options;
    options.data_dir = dir;
    options.rate_limit = false;
    options.quiet = true;
    options.token = emu::kDefaultToken;
    auto* made = new emu::Emulator(options);  // never destroyed: libFuzzer exits without unwinding
    fs::remove_all(dir);
    return made;
  }();
  return *instance;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', kHex[byte >> 4U], kHex[byte & 15U]};
    }
  }
  return out;
}

// The ids and names a route may name in one base: each table's id and name, then one that does
// not exist; the first table's records, one of another table, one that does not exist; the
// first table's fields, one that does not exist. (fuzz/make_seeds.py builds the same lists.)
struct Names {
  std::string base;
  std::vector<std::string> tables;
  std::vector<std::string> records;
  std::vector<std::string> fields;
};

Names names_of(const emu::Base& base) {
  Names names;
  names.base = base.id;
  for (const emu::Table& table : base.tables) {
    names.tables.push_back(table.id);
    names.tables.push_back(table.name);
  }
  names.tables.emplace_back("tblNotATable00000");
  const emu::Table& first = base.tables.front();
  for (const auto& [seq, record] : first.records) {
    names.records.push_back(record.id);
  }
  if (!base.tables.back().records.empty()) {
    names.records.push_back(base.tables.back().records.begin()->second.id);
  }
  names.records.emplace_back("recNotARecord0000");
  for (const emu::Field& field : first.fields) {
    names.fields.push_back(field.id);
  }
  names.fields.emplace_back("fldNotAField00000");
  return names;
}

// The sample base first.
const std::vector<Names>& bases() {
  static const std::vector<Names> out = [] {
    std::vector<Names> all;
    for (const emu::Base& base : emulator().store().workspace().bases) {
      all.push_back(names_of(base));
    }
    std::sort(all.begin(), all.end(), [](const Names& a, const Names& b) {
      return (a.base == "appSampleBase0001") > (b.base == "appSampleBase0001");
    });
    return all;
  }();
  return out;
}

std::string fill(std::string path, const std::string& placeholder, const std::string& value) {
  const size_t at = path.find(placeholder);
  return at == std::string::npos ? path : path.replace(at, placeholder.size(), url_encode(value));
}

// The ping thread must not reach out: a webhook's notificationUrl is left out.
void drop_notification_url(std::string& body) {
  emu::Json json = emu::Json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("notificationUrl") && json["notificationUrl"].is_string()) {
    json.erase("notificationUrl");
    body = json.dump();
  }
}

[[noreturn]] void fail(const emu::HttpRequest& request, const std::string& what) {
  std::fprintf(stderr, "%s %s: %s\n", request.method.c_str(), request.target.c_str(), what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;  // each request and answer
  emu::Emulator& emu = emulator();
  std::string hook = "achNotAWebhook000";
  bool faults_possible = false;
  const int count = input.ConsumeIntegralInRange<int>(1, 4);
  for (int i = 0; i < count; ++i) {
    const Route& route = kRoutes[input.ConsumeIntegralInRange<size_t>(0, std::size(kRoutes) - 1)];
    const Names& known = bases()[input.ConsumeIntegral<uint8_t>() % bases().size()];
    const auto table = input.ConsumeIntegral<uint8_t>() % known.tables.size();
    const auto record = input.ConsumeIntegral<uint8_t>() % known.records.size();
    const auto field = input.ConsumeIntegral<uint8_t>() % known.fields.size();
    emu::HttpRequest request;
    request.method = route.method;
    request.path = route.path;
    request.path = fill(request.path, "{b}", known.base);
    request.path = fill(request.path, "{t}", known.tables[table]);
    request.path = fill(request.path, "{r}", known.records[record]);
    request.path = fill(request.path, "{f}", known.fields[field]);
    request.path = fill(request.path, "{h}", hook);
    request.target = request.path;
    // The query as the server reads it: a value percent-encoded, or as it came (raw).
    std::string query;
    const int params = input.ConsumeIntegralInRange<int>(0, 3);
    for (int p = 0; p < params; ++p) {
      const char* name = kParams[input.ConsumeIntegralInRange<size_t>(0, std::size(kParams) - 1)];
      const bool raw = input.ConsumeBool();
      const std::string value = input.ConsumeRandomLengthString(256);
      query += (p == 0 ? "" : "&") + url_encode(name) + "=" + (raw ? value : url_encode(value));
    }
    if (!query.empty()) {
      request.target += "?" + query;
      request.query = emu::parse_query(query);
    }
    request.headers = {{"authorization", std::string("Bearer ") + emu::kDefaultToken},
                       {"content-type", "application/json"}};
    request.body = i + 1 == count ? input.ConsumeRemainingBytesAsString()
                                  : input.ConsumeRandomLengthString(1 << 16);
    drop_notification_url(request.body);
    faults_possible = faults_possible || request.path == "/_emulator/config";

    const emu::HttpResponse response = emu.handle(request);  // an exception here is a finding
    if (trace) {
      std::fprintf(stderr, "%s %s -> %d %.160s\n", request.method.c_str(), request.target.c_str(),
                   response.status, response.body.c_str());
    }
    if (faults_possible) {
      continue;  // configured faults answer 5xx and mangled bodies on purpose
    }
    if (response.status >= 500) {
      fail(request, "status " + std::to_string(response.status) + ": " + response.body);
    }
    const emu::Json body = emu::Json::parse(response.body, nullptr, false);
    if (body.is_discarded()) {
      fail(request, "an answer that is not JSON: " + response.body.substr(0, 200));
    }
    if (body.is_object() && body.contains("id") && body["id"].is_string() &&
        body["id"].get<std::string>().rfind("ach", 0) == 0) {
      hook = body["id"].get<std::string>();
    }
  }
  emu.reset();
  return 0;
}
