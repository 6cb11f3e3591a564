#include "record_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "field_types.hpp"
#include "time_format.hpp"

namespace emu {

namespace {

// Appends `value` as JSON to `out` without an intermediate string.
void append_json(std::string& out, const Json& value) {
  nlohmann::detail::serializer<Json> serializer(nlohmann::detail::output_adapter<char>(out), ' ',
                                                Json::error_handler_t::replace);
  serializer.dump(value, false, false, 0);
}

void append_json_string(std::string& out, const std::string& text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  });
  if (plain) {  // most field names: no escaping needed
    out.push_back('"');
    out += text;
    out.push_back('"');
    return;
  }
  append_json(out, Json(text));
}

bool holds_attachments(const Json& cell) {
  if (!cell.is_array()) {
    return false;
  }
  return std::any_of(cell.begin(), cell.end(), [](const Json& item) {
    return is_attachment_object(item) &&
           is_safe_attachment_id(item["id"].get_ref<const std::string&>());
  });
}

// An attachment object with URL markers for its file and thumbnails, keys in stored order
// (Airtable's: id, width, height, url, filename, size, type, thumbnails); a stored object
// without a url gets one before its filename.
void append_attachment(std::string& out, const Json& attachment) {
  const std::string& id = attachment["id"].get_ref<const std::string&>();
  const std::string& filename = attachment["filename"].get_ref<const std::string&>();
  bool first = true;
  auto key = [&](const std::string& name) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    append_json_string(out, name);
    out.push_back(':');
  };
  auto marker = [&](std::string_view variant) {
    out.push_back('"');
    append_url_marker(out, id, variant, filename);
    out.push_back('"');
  };
  bool url_done = false;
  out.push_back('{');
  for (const auto& [name, value] : attachment.items()) {
    if (name == "url" || (name == "filename" && !url_done)) {
      if (!url_done) {
        key("url");
        marker(kFileVariant);
        url_done = true;
      }
      if (name == "url") {
        continue;
      }
    }
    key(name);
    if (name != "thumbnails" || !value.is_object()) {
      append_json(out, value);
      continue;
    }
    out.push_back('{');
    bool first_variant = true;
    for (const auto& [variant, thumbnail] : value.items()) {
      if (!first_variant) {
        out.push_back(',');
      }
      first_variant = false;
      append_json_string(out, variant);
      out.push_back(':');
      if (!thumbnail.is_object()) {
        append_json(out, thumbnail);
        continue;
      }
      out += R"({"url":)";
      marker(variant);
      for (const auto& [member, member_value] : thumbnail.items()) {
        if (member != "url") {
          out.push_back(',');
          append_json_string(out, member);
          out.push_back(':');
          append_json(out, member_value);
        }
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  out.push_back('}');
}

// A cell in the json format; attachments get URL markers.
void append_cell(std::string& out, const Json& cell) {
  if (!holds_attachments(cell)) {
    append_json(out, cell);
    return;
  }
  out.push_back('[');
  for (size_t i = 0; i < cell.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    const Json& item = cell[i];
    if (is_attachment_object(item) &&
        is_safe_attachment_id(item["id"].get_ref<const std::string&>())) {
      append_attachment(out, item);
    } else {
      append_json(out, item);
    }
  }
  out.push_back(']');
}

std::string fixed(double value, int precision) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", precision, value);
  return buf.data();
}

std::string with_thousands(const std::string& number) {
  const size_t dot = number.find('.');
  std::string integer = number.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : number.substr(dot);
  const bool negative = !integer.empty() && integer[0] == '-';
  if (negative) {
    integer.erase(0, 1);
  }
  std::string grouped;
  for (size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) {
      grouped.push_back(',');
    }
    grouped.push_back(integer[i]);
  }
  return (negative ? "-" : "") + grouped + rest;
}

int precision_of(const Field& field) {
  return field.options.is_object() ? field.options.value("precision", 0) : 0;
}

// Local wall-clock parts of an instant in an IANA zone. glibc's TZ handling is process-global,
// hence the lock.
std::tm local_parts(int64_t epoch_ms, const std::string& zone) {
  static std::mutex tz_mutex;
  const std::lock_guard lock(tz_mutex);
  const char* old = std::getenv("TZ");
  const std::string saved = old == nullptr ? "" : old;
  setenv("TZ", zone.empty() ? "UTC" : zone.c_str(), 1);
  tzset();
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm parts{};
  localtime_r(&seconds, &parts);
  if (old == nullptr) {
    unsetenv("TZ");
  } else {
    setenv("TZ", saved.c_str(), 1);
  }
  tzset();
  return parts;
}

std::string format_date_string(const Field& field, int year, int month, int day) {
  std::string name = "local";
  if (field.options.is_object() && field.options.contains("dateFormat")) {
    name = field.options["dateFormat"].value("name", "local");
  }
  std::array<char, 32> buf{};
  if (name == "iso") {
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02d", year, month, day);
  } else if (name == "european") {
    std::snprintf(buf.data(), buf.size(), "%d/%d/%04d", day, month, year);
  } else if (name == "friendly") {
    static constexpr std::array<const char*, 12> kMonths = {
        "January", "February", "March",     "April",   "May",      "June",
        "July",    "August",   "September", "October", "November", "December"};
    std::snprintf(buf.data(), buf.size(), "%s %d, %04d", kMonths.at(month - 1), day, year);
  } else {
    std::snprintf(buf.data(), buf.size(), "%d/%d/%04d", month, day, year);
  }
  return buf.data();
}

std::string scalar_string(const CellResolver& resolver, const Field& field, const Json& cell,
                          const RenderOptions& options) {
  const std::string_view type = result_type(field.type, field.options);
  if (cell.is_object() && (cell.contains("error") || cell.contains("specialValue"))) {
    return cell.contains("error") ? "#ERROR!" : cell["specialValue"].get<std::string>();
  }
  if (cell.is_number()) {
    const double value = cell.get<double>();
    if (type == "currency") {
      const std::string symbol = field.options.value("symbol", "$");
      return symbol + with_thousands(fixed(value, precision_of(field)));
    }
    if (type == "percent") {
      return fixed(value * 100, precision_of(field)) + "%";
    }
    if (type == "duration") {
      const auto total = static_cast<int64_t>(std::llround(value));
      std::array<char, 32> buf{};
      std::snprintf(buf.data(), buf.size(), "%lld:%02lld", static_cast<long long>(total / 3600),
                    static_cast<long long>(total / 60 % 60));
      return buf.data();
    }
    if (type == "number") {
      return fixed(value, precision_of(field));
    }
    return cell.dump();
  }
  if (cell.is_boolean()) {
    return cell.get<bool>() ? "checked" : "";
  }
  if (cell.is_string()) {
    const std::string text = cell.get<std::string>();
    if (type == "date" || type == "dateTime" || type == "createdTime" ||
        type == "lastModifiedTime") {
      const auto at = parse_iso(text);
      if (!at) {
        return text;
      }
      const bool date_only = text.size() == 10;
      std::string zone = options.time_zone;
      if (field.options.is_object() && field.options.value("timeZone", "client") != "client") {
        zone = field.options.value("timeZone", "utc") == "utc"
                   ? "UTC"
                   : field.options.value("timeZone", "");
      }
      const std::tm parts = date_only ? local_parts(*at, "UTC") : local_parts(*at, zone);
      std::string out =
          format_date_string(field, parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday);
      if (!date_only) {
        std::array<char, 16> buf{};
        const int hour12 = parts.tm_hour % 12 == 0 ? 12 : parts.tm_hour % 12;
        std::snprintf(buf.data(), buf.size(), " %d:%02d%s", hour12, parts.tm_min,
                      parts.tm_hour < 12 ? "am" : "pm");
        out += buf.data();
      }
      return out;
    }
    if (field.type == "multipleRecordLinks") {
      return resolver.record_name(field.options.value("linkedTableId", ""), text);
    }
    return text;
  }
  if (is_attachment_object(cell)) {
    // "filename (url)", with the answer's signed URL (attachments in lookups too).
    const std::string& id = cell["id"].get_ref<const std::string&>();
    const std::string& filename = cell["filename"].get_ref<const std::string&>();
    std::string url;
    if (options.attachment_urls != nullptr && is_safe_attachment_id(id)) {
      url = options.attachment_urls->file_url(id, filename);
    } else if (cell.contains("url") && cell["url"].is_string()) {
      url = cell["url"].get<std::string>();
    }
    return filename + " (" + url + ")";
  }
  if (cell.is_object()) {
    for (const char* key : {"name", "text", "label", "value", "email", "id"}) {
      if (cell.contains(key) && cell[key].is_string()) {
        return cell[key].get<std::string>();
      }
    }
    return cell.dump();
  }
  return cell.dump();
}

}  // namespace

namespace detail {
void render_record(std::string& out, const CellResolver& resolver, const Record& record,
                   const RenderOptions& options);
}  // namespace detail

std::string cell_as_string(const CellResolver& resolver, const Field& field, const Json& cell,
                           const RenderOptions& options) {
  if (cell.is_array()) {
    std::string out;
    for (const Json& item : cell) {
      if (!out.empty()) {
        out += ", ";
      }
      out += scalar_string(resolver, field, item, options);
    }
    return out;
  }
  return scalar_string(resolver, field, cell, options);
}

void append_record_json(std::string& out, const CellResolver& resolver, const Record& record,
                        const RenderOptions& options) {
  // Most reads ask for whole records in the json format: serve those from a per-record cache
  // invalidated by any change to the base (lookups read across tables).
  if (!options.string_format && options.fields.empty() && !options.comment_count) {
    static std::array<std::mutex, 256> stripes;
    const size_t slot = options.by_field_id ? 1 : 0;
    const int64_t txn = resolver.base().transaction_number;
    const std::lock_guard lock(stripes[static_cast<size_t>(record.seq) % stripes.size()]);
    if (record.json_cache_txn[slot] != txn) {
      std::string fresh;
      detail::render_record(fresh, resolver, record, options);
      record.json_cache[slot] = std::move(fresh);
      record.json_cache_txn[slot] = txn;
    }
    out += record.json_cache[slot];
    return;
  }
  detail::render_record(out, resolver, record, options);
}

void detail::render_record(std::string& out, const CellResolver& resolver, const Record& record,
                           const RenderOptions& options) {
  out += R"({"id":")";
  out += record.id;
  out += R"(","createdTime":")";
  out += format_iso_ms(record.created_ms);
  out += R"(","fields":{)";
  bool first = true;
  auto emit = [&](const Field& field) {
    // Stored cells are serialised in place; only computed ones are built.
    const Json* stored = resolver.stored_cell(record, field);
    Json computed;
    if (stored == nullptr) {
      computed = resolver.cell(record, field);
    }
    const Json& cell = stored != nullptr ? *stored : computed;
    if (cell.is_null()) {
      return;
    }
    std::string text;
    if (options.string_format) {
      text = cell_as_string(resolver, field, cell, options);
      if (text.empty()) {
        return;
      }
    }
    if (!first) {
      out.push_back(',');
    }
    first = false;
    append_json_string(out, options.by_field_id ? field.id : field.name);
    out.push_back(':');
    if (options.string_format) {
      append_json_string(out, text);
    } else {
      append_cell(out, cell);
    }
  };
  if (options.fields.empty()) {
    for (const Field& field : resolver.table().fields) {
      emit(field);
    }
  } else {
    for (const Field* field : options.fields) {
      emit(*field);
    }
  }
  out.push_back('}');
  if (options.comment_count) {
    out += R"(,"commentCount":)";
    out += std::to_string(record.comment_count);
  }
  out.push_back('}');
}

std::string record_json(const CellResolver& resolver, const Record& record,
                        const RenderOptions& options) {
  std::string out;
  append_record_json(out, resolver, record, options);
  return out;
}

}  // namespace emu
