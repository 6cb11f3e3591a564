#include "field_types.hpp"

#include <array>
#include <string_view>

namespace emu {

namespace {

constexpr std::array<std::string_view, 12> kComputedTypes = {
    "formula",    "rollup",      "multipleLookupValues", "lookup",    "count",
    "autoNumber", "createdTime", "lastModifiedTime",     "createdBy", "lastModifiedBy",
    "button",     "aiText"};

constexpr std::array<std::string_view, 36> kKnownTypes = {"singleLineText",
                                                          "email",
                                                          "url",
                                                          "multilineText",
                                                          "richText",
                                                          "phoneNumber",
                                                          "number",
                                                          "percent",
                                                          "currency",
                                                          "duration",
                                                          "rating",
                                                          "checkbox",
                                                          "autoNumber",
                                                          "count",
                                                          "date",
                                                          "dateTime",
                                                          "createdTime",
                                                          "lastModifiedTime",
                                                          "singleCollaborator",
                                                          "createdBy",
                                                          "lastModifiedBy",
                                                          "multipleCollaborators",
                                                          "singleSelect",
                                                          "multipleSelects",
                                                          "externalSyncSource",
                                                          "multipleRecordLinks",
                                                          "multipleLookupValues",
                                                          "lookup",
                                                          "rollup",
                                                          "formula",
                                                          "multipleAttachments",
                                                          "barcode",
                                                          "button",
                                                          "aiText",
                                                          "manualSort",
                                                          "simpleText"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view type) {
  for (std::string_view t : set) {
    if (t == type) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool is_computed_type(std::string_view type) { return contains(kComputedTypes, type); }

bool is_known_type(std::string_view type) { return contains(kKnownTypes, type); }

bool is_empty_cell(const Json& value) {
  return value.is_null() || (value.is_string() && value.get_ref<const std::string&>().empty()) ||
         (value.is_array() && value.empty()) || (value.is_boolean() && !value.get<bool>());
}

std::string_view result_type(std::string_view type, const Json& options) {
  if ((type == "formula" || type == "rollup" || type == "multipleLookupValues" ||
       type == "lookup" || type == "createdTime" || type == "lastModifiedTime") &&
      options.is_object()) {
    const auto it = options.find("result");
    if (it != options.end() && it->is_object() && it->contains("type") &&
        (*it)["type"].is_string()) {
      return (*it)["type"].get_ref<const std::string&>();
    }
  }
  return type;
}

}  // namespace emu
