// The C ABI's JSON inputs, without a network: a connection config (alf_session_open, then only
// the "stats" call, which sends nothing), a read request (its parser directly: opening a
// reader asks Airtable for the schema), and alf_convert_pages with an arbitrary schema, table,
// field list and pages, its stream read to the end. The last input byte picks which. Bad JSON
// must come back as the engine's own error: a config error naming the key, never an internal
// one (a library's exception that slipped through).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "airtable_lakeflow/arrow/c_owner.hpp"
#include "airtable_lakeflow/capi/engine.h"
#include "json_io.hpp"

namespace {

namespace capi = airtable_lakeflow::capi;
using airtable_lakeflow::Error;
using airtable_lakeflow::ErrorKind;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "C ABI invariant broken: %s\n", what.c_str());
  std::abort();
}

// An error JSON from the C ABI: an object with a kind that is not "internal".
void check_error(char* error_json, const char* call) {
  if (error_json == nullptr) {
    fail(std::string(call) + " failed without an error");
  }
  const auto error = nlohmann::json::parse(error_json, nullptr, false);
  alf_free(error_json);
  if (!error.is_object() || !error.contains("kind") || !error.contains("message")) {
    fail(std::string(call) + ": error JSON without kind and message");
  }
  if (error["kind"] == "internal") {
    fail(std::string(call) + ": internal error " + error.dump());
  }
}

void session(const std::string& config, const std::string& args) {
  char* error = nullptr;
  alf_session* opened = alf_session_open(config.c_str(), &error);
  if (opened == nullptr) {
    check_error(error, "alf_session_open");
    return;
  }
  char* stats = alf_session_call(opened, "stats", args.c_str(), &error);
  if (stats == nullptr) {
    check_error(error, "alf_session_call(stats)");
  }
  alf_free(stats);
  alf_session_close(opened);
}

void read_request(const std::string& text) {
  try {
    capi::read_request(capi::parse_json(text.c_str(), "read request"));
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::kConfig) {
      fail(std::string("read request: error kind ") + error_kind_name(error.kind()));
    }
  }
}

void convert(FuzzedDataProvider& input) {
  const std::string schema = input.ConsumeRandomLengthString();
  const std::string table = input.ConsumeRandomLengthString(64);
  const bool all_fields = input.ConsumeBool();
  const std::string fields = input.ConsumeRandomLengthString(256);
  const int count = input.ConsumeIntegralInRange<int>(0, 3);
  std::vector<std::string> pages;
  for (int i = 0; i < count; ++i) {
    pages.push_back(i + 1 == count ? input.ConsumeRemainingBytesAsString()
                                   : input.ConsumeRandomLengthString());
  }
  std::vector<const char*> page_pointers;
  for (const std::string& page : pages) {
    page_pointers.push_back(page.c_str());
  }
  airtable_lakeflow::arrow::UniqueArrayStream stream;
  char* error = nullptr;
  if (alf_convert_pages(schema.c_str(), table.c_str(), all_fields ? nullptr : fields.c_str(),
                        page_pointers.data(), static_cast<int64_t>(page_pointers.size()),
                        stream.get(), &error) != 0) {
    check_error(error, "alf_convert_pages");
    return;
  }
  airtable_lakeflow::arrow::UniqueSchema arrow_schema;
  if (stream->get_schema(stream.get(), arrow_schema.get()) != 0) {
    fail("get_schema failed");
  }
  for (int batches = 0;; ++batches) {
    airtable_lakeflow::arrow::UniqueArray batch;
    if (stream->get_next(stream.get(), batch.get()) != 0) {
      if (stream->get_last_error(stream.get()) == nullptr) {
        fail("get_next failed without a message");
      }
      return;  // a malformed page ends the stream
    }
    if (!batch.valid()) {
      if (batches != count) {
        fail("the stream ended after " + std::to_string(batches) + " of " + std::to_string(count) +
             " pages");
      }
      return;
    }
    if (batch->n_children != arrow_schema->n_children) {
      fail("a batch's columns differ from the schema's");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  switch (input.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: {
      const std::string args = input.ConsumeRandomLengthString(256);
      session(input.ConsumeRemainingBytesAsString(), args);
      break;
    }
    case 1: read_request(input.ConsumeRemainingBytesAsString()); break;
    default: convert(input); break;
  }
  return 0;
}
