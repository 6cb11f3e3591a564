// The C ABI as Python calls it (the shared library's alf_* functions): whatever it is given,
// it answers with its own error JSON and never lets an exception through (which would abort
// the Python process).
#include "airtable_lakeflow/capi/engine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "airtable_lakeflow/arrow/c_owner.hpp"

namespace {

std::string slurp(const std::string& name) {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/convert/" + name);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The error alf_* stored, parsed (and freed).
nlohmann::json take_error(char* error_json) {
  EXPECT_NE(error_json, nullptr);
  if (error_json == nullptr) {
    return nullptr;
  }
  const auto out = nlohmann::json::parse(error_json);
  alf_free(error_json);
  return out;
}

// Regression (fuzzing): an error quoting a table name that is not UTF-8 threw while its JSON
// was written, inside the catch that turns exceptions into error JSON, and the exception
// crossed the C ABI (std::terminate). The bytes are quoted as U+FFFD.
TEST(CAbi, AnErrorQuotingBytesThatAreNotUtf8IsStillJson) {
  const std::string schema = slurp("all_types.schema.json");
  const std::string page = slurp("all_types.page1.json");
  const char* pages[] = {page.c_str()};
  airtable_lakeflow::arrow::UniqueArrayStream stream;
  char* error = nullptr;
  EXPECT_NE(
      alf_convert_pages(schema.c_str(), "Every\xFFthing", nullptr, pages, 1, stream.get(), &error),
      0);
  EXPECT_FALSE(stream.valid());
  const auto json = take_error(error);
  EXPECT_EQ(json["kind"], "not_found");
  EXPECT_NE(json["message"].get<std::string>().find("Every\xEF\xBF\xBDthing"), std::string::npos)
      << json.dump();

  error = nullptr;
  EXPECT_NE(alf_convert_pages(schema.c_str(), "Everything", "[\"no such \xC3 field\"]", pages, 1,
                              stream.get(), &error),
            0);
  EXPECT_EQ(take_error(error)["kind"], "config");
}

// Regression (fuzzing): a field list holding something else than names ([1], [null]) failed
// inside the JSON library, and came back as an internal error instead of a config error
// naming the option.
TEST(CAbi, AFieldListOfNonStringsIsAConfigError) {
  const std::string schema = slurp("all_types.schema.json");
  for (const char* fields : {"[1]", "[null]", "[[\"a\"]]", "{\"a\": 1}", "\"text\"", "nonsense"}) {
    airtable_lakeflow::arrow::UniqueArrayStream stream;
    char* error = nullptr;
    EXPECT_NE(
        alf_convert_pages(schema.c_str(), "Everything", fields, nullptr, 0, stream.get(), &error),
        0)
        << fields;
    const auto json = take_error(error);
    EXPECT_EQ(json["kind"], "config") << fields << ": " << json.dump();
  }
}

// Regression (fuzzing): the token was redacted from the error's JSON text, so a token such as
// `"` or `kind` broke the JSON Python maps errors from. It is redacted from the values.
TEST(CAbi, ATokenMatchingJsonSyntaxLeavesTheErrorJsonIntact) {
  for (const std::string token : {"\"", "\\", "kind", "message", ":", "e"}) {
    const std::string config = nlohmann::json{{"token", token}}.dump();
    char* error = nullptr;
    alf_session* session = alf_session_open(config.c_str(), &error);
    ASSERT_NE(session, nullptr) << token;
    EXPECT_EQ(alf_session_call(session, "stats", "not json", &error), nullptr);
    const auto json = take_error(error);
    EXPECT_EQ(json["kind"], "config") << token << ": " << json.dump();
    const auto message = json["message"].get<std::string>();
    EXPECT_EQ(message.find(token), std::string::npos) << token << ": " << message;
    alf_session_close(session);
  }
  char* error = nullptr;
  alf_session* session = alf_session_open(R"({"token": "e"})", &error);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(alf_session_call(session, "stats", "[]", &error), nullptr);
  EXPECT_EQ(take_error(error)["message"],
            "Th[REDACTED] call argum[REDACTED]nts is not a JSON obj[REDACTED]ct.");
  alf_session_close(session);
}

// A stream's batches and schema are released by their owners, the stream by its own: under
// ASan (make test-sanitize) a leak anywhere here fails the test.
TEST(CAbi, PagesConvertToAStreamOfOneBatchEach) {
  const std::string schema = slurp("all_types.schema.json");
  const std::string first = slurp("all_types.page1.json");
  const std::string second = slurp("all_types.page2.json");
  const char* pages[] = {first.c_str(), second.c_str(), "{\"records\": [{\"fields\": {}}]}"};
  airtable_lakeflow::arrow::UniqueArrayStream stream;
  char* error = nullptr;
  ASSERT_EQ(
      alf_convert_pages(schema.c_str(), "Everything", nullptr, pages, 3, stream.get(), &error), 0);
  airtable_lakeflow::arrow::UniqueSchema arrow_schema;
  ASSERT_EQ(stream->get_schema(stream.get(), arrow_schema.get()), 0);
  std::vector<int64_t> rows;
  for (;;) {
    airtable_lakeflow::arrow::UniqueArray batch;
    if (stream->get_next(stream.get(), batch.get()) != 0) {
      break;  // the third page has a record without an id
    }
    ASSERT_TRUE(batch.valid());
    EXPECT_EQ(batch->n_children, arrow_schema->n_children);
    rows.push_back(batch->length);
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{2, 2}));
  const char* message = stream->get_last_error(stream.get());
  ASSERT_NE(message, nullptr);
  EXPECT_NE(std::string(message).find("without an id"), std::string::npos) << message;
}

}  // namespace
