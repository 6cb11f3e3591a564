#include "airtable_lakeflow/schema/type_mapping.hpp"

#include <simdjson.h>

#include <algorithm>
#include <set>

namespace airtable_lakeflow::schema {

namespace {

using simdjson::dom::element;

const std::set<std::string, std::less<>> kTextTypes = {
    "singleLineText", "email",       "url",          "multilineText",
    "richText",       "phoneNumber", "singleSelect", "externalSyncSource",
    "simpleText"};

CellSpec scalar(CellKind kind, int scale = 0) { return CellSpec{kind, scale, {}, {}}; }

CellSpec list_of(CellSpec element) {
  CellSpec spec{CellKind::kList, 0, {}, {}};
  spec.element.push_back(std::move(element));
  return spec;
}

CellSpec struct_of(std::vector<Member> members) {
  return CellSpec{CellKind::kStruct, 0, std::move(members), {}};
}

CellSpec text() { return scalar(CellKind::kText); }

CellSpec collaborator() {
  return struct_of({{"id", "id", text()}, {"email", "email", text()}, {"name", "name", text()}});
}

CellSpec thumbnail() {
  return struct_of({{"url", "url", text()},
                    {"width", "width", scalar(CellKind::kInteger)},
                    {"height", "height", scalar(CellKind::kInteger)}});
}

CellSpec attachment() {
  return struct_of({{"id", "id", text()},
                    {"url", "url", text()},
                    {"filename", "filename", text()},
                    {"size", "size", scalar(CellKind::kInteger)},
                    {"type", "type", text()},
                    {"width", "width", scalar(CellKind::kInteger)},
                    {"height", "height", scalar(CellKind::kInteger)},
                    {"thumbnails", "thumbnails",
                     struct_of({{"small", "small", thumbnail()},
                                {"large", "large", thumbnail()},
                                {"full", "full", thumbnail()}})}});
}

int64_t option_int(element options, const char* key, int64_t fallback) {
  int64_t value = 0;
  return options[key].get_int64().get(value) == simdjson::SUCCESS ? value : fallback;
}

struct Typed {
  CellSpec cell;
  std::string result_type;
  std::string note;
};

Typed map(const std::string& type, element options, bool has_options, bool computed, int depth);

// A formula / rollup / lookup result config ({type, options}) → its mapping.
Typed map_result(element options, bool has_options, int depth, bool& found) {
  element result;
  std::string_view result_type;
  found = has_options && options["result"].get(result) == simdjson::SUCCESS &&
          result["type"].get_string().get(result_type) == simdjson::SUCCESS;
  if (!found) {
    return {scalar(CellKind::kJson), "", ""};
  }
  element result_options;
  const bool has_result_options =
      result["options"].get(result_options) == simdjson::SUCCESS && result_options.is_object();
  Typed typed = map(std::string(result_type), result_options, has_result_options, true, depth + 1);
  typed.result_type = std::string(result_type);
  return typed;
}

int decimal_scale(element options, bool has_options, bool computed, int extra) {
  const int64_t precision = has_options ? option_int(options, "precision", -1) : -1;
  if (computed) {
    return kComputedDecimalScale;
  }
  if (precision < 0) {
    return kDefaultDecimalScale;
  }
  return static_cast<int>(std::clamp<int64_t>(precision, 0, 8)) + extra;
}

Typed map(const std::string& type, element options, bool has_options, bool computed, int depth) {
  if (depth > 4) {
    return {scalar(CellKind::kJson), "", "nested results deeper than 4: JSON text"};
  }
  if (kTextTypes.count(type) > 0) {
    return {text(), "", ""};
  }
  if (type == "multipleSelects" || type == "multipleRecordLinks") {
    return {list_of(text()), "", ""};
  }
  if (type == "number" || type == "currency") {
    const int scale = decimal_scale(options, has_options, computed, 0);
    return {scalar(CellKind::kDecimal, scale), "",
            computed ? "computed number: scale widened to 18 (Airtable does not round it)" : ""};
  }
  if (type == "percent") {
    const int scale = decimal_scale(options, has_options, computed, 2);
    return {scalar(CellKind::kDecimal, scale), "",
            computed ? "computed percent (a fraction): scale widened to 18"
                     : "a fraction (0.25 = 25 %): scale = precision + 2"};
  }
  if (type == "autoNumber" || type == "count" || type == "rating") {
    return {scalar(CellKind::kInteger), "", ""};
  }
  if (type == "duration") {
    return {scalar(CellKind::kDuration), "", "seconds → microseconds"};
  }
  if (type == "checkbox") {
    return computed ? Typed{scalar(CellKind::kBool), "", ""}
                    : Typed{scalar(CellKind::kCheckbox), "", "absent = false"};
  }
  if (type == "date") {
    return {scalar(CellKind::kDate), "", ""};
  }
  if (type == "dateTime") {
    return {scalar(CellKind::kTimestamp), "", ""};
  }
  if (type == "createdTime" || type == "lastModifiedTime") {
    element result;
    std::string_view result_type;
    const bool date_only = has_options && options["result"].get(result) == simdjson::SUCCESS &&
                           result["type"].get_string().get(result_type) == simdjson::SUCCESS &&
                           result_type == "date";
    return {scalar(date_only ? CellKind::kDate : CellKind::kTimestamp), "", ""};
  }
  if (type == "singleCollaborator" || type == "createdBy" || type == "lastModifiedBy") {
    return {collaborator(), "", ""};
  }
  if (type == "multipleCollaborators") {
    return {list_of(collaborator()), "", ""};
  }
  if (type == "multipleAttachments") {
    return {list_of(attachment()), "", ""};
  }
  if (type == "barcode") {
    return {struct_of({{"text", "text", text()}, {"type", "type", text()}}), "", ""};
  }
  if (type == "button") {
    return {struct_of({{"label", "label", text()}, {"url", "url", text()}}), "", ""};
  }
  if (type == "aiText") {
    return {struct_of({{"state", "state", text()},
                       {"value", "value", text()},
                       {"isStale", "is_stale", scalar(CellKind::kBool)},
                       {"errorType", "error_type", text()}}),
            "", ""};
  }
  if (type == "formula" || type == "rollup") {
    bool found = false;
    Typed typed = map_result(options, has_options, depth, found);
    if (!found) {
      typed.note = "no usable result type (invalid formula?): JSON text";
    }
    return typed;
  }
  if (type == "multipleLookupValues" || type == "lookup") {
    bool found = false;
    Typed typed = map_result(options, has_options, depth, found);
    if (!found) {
      typed.note = "no usable result type (invalid lookup?): JSON text";
      return typed;
    }
    // Airtable flattens: a lookup of a list field is one flat list of its elements.
    CellSpec element =
        typed.cell.kind == CellKind::kList ? typed.cell.element.at(0) : std::move(typed.cell);
    return {list_of(std::move(element)), typed.result_type, typed.note};
  }
  if (type == "manualSort") {
    return {scalar(CellKind::kJson), "", "undocumented type: JSON text"};
  }
  return {scalar(CellKind::kJson), "", "type unknown to this version: JSON text"};
}

}  // namespace

Mapping map_field(const std::string& type, const std::string& options_json) {
  simdjson::dom::parser parser;
  element options;
  const bool has_options =
      parser.parse(options_json).get(options) == simdjson::SUCCESS && options.is_object();
  Typed typed = map(type, options, has_options, false, 0);
  return {std::move(typed.cell), std::move(typed.result_type), std::move(typed.note)};
}

}  // namespace airtable_lakeflow::schema
