#include "airtable_lakeflow/schema/type_mapping.hpp"

#include <gtest/gtest.h>

#include "airtable_lakeflow/arrow/data_type.hpp"

namespace airtable_lakeflow::schema {
namespace {

std::string arrow_of(const std::string& type, const std::string& options = "null") {
  return arrow::display_name(arrow_type(map_field(type, options).cell));
}

std::string spark_of(const std::string& type, const std::string& options = "null") {
  return arrow::spark_ddl(arrow_type(map_field(type, options).cell));
}

TEST(TypeMapping, EveryDocumentedType) {
  for (const char* text : {"singleLineText", "email", "url", "multilineText", "richText",
                           "phoneNumber", "singleSelect", "externalSyncSource"}) {
    EXPECT_EQ(arrow_of(text), "string") << text;
  }
  EXPECT_EQ(arrow_of("multipleSelects"), "list<element: string>");
  EXPECT_EQ(arrow_of("multipleRecordLinks"), "list<element: string>");
  EXPECT_EQ(arrow_of("number", R"({"precision":3})"), "decimal128(38, 3)");
  EXPECT_EQ(arrow_of("number"), "decimal128(38, 8)");
  EXPECT_EQ(arrow_of("currency", R"({"precision":2,"symbol":"$"})"), "decimal128(38, 2)");
  EXPECT_EQ(arrow_of("percent", R"({"precision":1})"), "decimal128(38, 3)");
  EXPECT_EQ(arrow_of("percent", R"({"precision":8})"), "decimal128(38, 10)");
  for (const char* integer : {"autoNumber", "count", "rating"}) {
    EXPECT_EQ(arrow_of(integer), "int64") << integer;
  }
  EXPECT_EQ(arrow_of("duration", R"({"durationFormat":"h:mm"})"), "int64");
  EXPECT_EQ(arrow_of("checkbox"), "bool");
  EXPECT_EQ(map_field("checkbox", "null").cell.kind, CellKind::kCheckbox);
  EXPECT_EQ(arrow_of("date"), "date32[day]");
  EXPECT_EQ(arrow_of("dateTime", R"({"timeZone":"utc"})"), "timestamp[us, tz=UTC]");
  EXPECT_EQ(arrow_of("createdTime", R"({"result":{"type":"dateTime"}})"), "timestamp[us, tz=UTC]");
  EXPECT_EQ(arrow_of("createdTime", R"({"result":{"type":"date"}})"), "date32[day]");
  EXPECT_EQ(arrow_of("lastModifiedTime", R"({"isValid":true,"result":null})"),
            "timestamp[us, tz=UTC]");
  const std::string collaborator = "struct<id: string, email: string, name: string>";
  for (const char* single : {"singleCollaborator", "createdBy", "lastModifiedBy"}) {
    EXPECT_EQ(arrow_of(single), collaborator) << single;
  }
  EXPECT_EQ(arrow_of("multipleCollaborators"), "list<element: " + collaborator + ">");
  EXPECT_EQ(spark_of("multipleAttachments"),
            "array<struct<id:string,url:string,filename:string,size:bigint,type:string,"
            "width:bigint,height:bigint,thumbnails:struct<small:struct<url:string,width:bigint,"
            "height:bigint>,large:struct<url:string,width:bigint,height:bigint>,full:struct<url:"
            "string,width:bigint,height:bigint>>>>");
  EXPECT_EQ(arrow_of("barcode"), "struct<text: string, type: string>");
  EXPECT_EQ(arrow_of("button"), "struct<label: string, url: string>");
  EXPECT_EQ(arrow_of("aiText"),
            "struct<state: string, value: string, is_stale: bool, error_type: string>");
  EXPECT_EQ(arrow_of("manualSort"), "string");
  EXPECT_EQ(arrow_of("somethingNew", R"({"x":1})"), "string");
  EXPECT_EQ(map_field("somethingNew", "null").cell.kind, CellKind::kJson);
}

TEST(TypeMapping, ComputedFieldsFollowTheirResult) {
  EXPECT_EQ(arrow_of("formula", R"({"result":{"type":"number","options":{"precision":2}}})"),
            "decimal128(38, 18)");
  EXPECT_EQ(arrow_of("formula", R"({"result":{"type":"singleLineText"}})"), "string");
  EXPECT_EQ(arrow_of("formula", R"({"result":{"type":"date"}})"), "date32[day]");
  EXPECT_EQ(arrow_of("formula", R"({"result":{"type":"checkbox"}})"), "bool");
  EXPECT_EQ(map_field("formula", R"({"result":{"type":"checkbox"}})").cell.kind, CellKind::kBool);
  EXPECT_EQ(arrow_of("formula", R"({"isValid":false,"result":null})"), "string");
  EXPECT_EQ(arrow_of("rollup", R"({"result":{"type":"currency","options":{"precision":2}}})"),
            "decimal128(38, 18)");
  EXPECT_EQ(map_field("rollup", R"({"result":{"type":"number"}})").result_type, "number");
  EXPECT_EQ(arrow_of("multipleLookupValues", R"({"result":{"type":"singleLineText"}})"),
            "list<element: string>");
  // Lookups of list fields are flat lists of their elements.
  EXPECT_EQ(arrow_of("multipleLookupValues", R"({"result":{"type":"multipleRecordLinks"}})"),
            "list<element: string>");
  EXPECT_EQ(arrow_of("multipleLookupValues", R"({"result":{"type":"singleCollaborator"}})"),
            "list<element: struct<id: string, email: string, name: string>>");
  EXPECT_EQ(arrow_of("lookup", R"({"result":{"type":"number","options":{"precision":0}}})"),
            "list<element: decimal128(38, 18)>");
  EXPECT_EQ(arrow_of("multipleLookupValues", R"({"isValid":false,"result":null})"), "string");
}

TEST(TypeMapping, SparkNames) {
  EXPECT_EQ(spark_of("duration"), "bigint");  // microseconds
  EXPECT_EQ(spark_of("dateTime"), "timestamp");
  EXPECT_EQ(spark_of("rating"), "bigint");
  EXPECT_EQ(spark_of("checkbox"), "boolean");
  EXPECT_EQ(arrow::format_string(arrow_type(map_field("currency", R"({"precision":2})").cell)),
            "d:38,2");
}

}  // namespace
}  // namespace airtable_lakeflow::schema
