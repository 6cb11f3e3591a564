#include "list_records.hpp"

#include <algorithm>
#include <cctype>

#include "api_error.hpp"
#include "field_types.hpp"
#include "formula/formula.hpp"
#include "ids.hpp"
#include "record_json.hpp"

namespace emu {

namespace {

const char* const kParameterValidation =
    "Invalid request: parameter validation failed. Check your request data.";

int64_t parse_int(const std::string& name, const std::string& text) {
  try {
    size_t used = 0;
    const int64_t value = std::stoll(text, &used);
    if (used == text.size()) {
      return value;
    }
  } catch (const std::exception&) {
  }
  throw errors::invalid_request_unknown(
      "Invalid request: parameter validation failed. Check "
      "your request data. (" +
      name + " must be an integer)");
}

bool parse_bool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1") {
    return true;
  }
  if (text == "false" || text == "0" || text.empty()) {
    return false;
  }
  throw errors::invalid_request_unknown(std::string(kParameterValidation) + " (" + name +
                                        " must be true or false)");
}

void validate(ListOptions& options) {
  if (options.page_size < 1 || options.page_size > 100) {
    throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                          " (pageSize must be between 1 and 100)");
  }
  if (options.max_records && *options.max_records < 1) {
    throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                          " (maxRecords must be positive)");
  }
  if (options.string_format && (options.time_zone.empty() || options.user_locale.empty())) {
    throw errors::invalid_request_unknown(
        "The timeZone and userLocale parameters are required when using string as the "
        "cellFormat");
  }
}

void set_cell_format(ListOptions& options, const std::string& value) {
  if (value == "string") {
    options.string_format = true;
  } else if (value != "json") {
    throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                          " (cellFormat must be json or string)");
  }
}

// Parses sort[0][field]=Name&sort[0][direction]=desc.
void add_sort_param(std::vector<SortSpec>& sort, const std::string& key, const std::string& value) {
  const size_t close = key.find(']');
  const std::string index_text = key.substr(5, close == std::string::npos ? 0 : close - 5);
  const size_t index = static_cast<size_t>(parse_int("sort index", index_text));
  if (index > 100) {
    throw errors::invalid_request_unknown(kParameterValidation);
  }
  if (sort.size() <= index) {
    sort.resize(index + 1);
  }
  const std::string rest = close == std::string::npos ? "" : key.substr(close + 1);
  if (rest == "[field]") {
    sort[index].field = value;
  } else if (rest == "[direction]") {
    if (value != "asc" && value != "desc") {
      throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                            " (sort direction must be asc or desc)");
    }
    sort[index].descending = value == "desc";
  } else {
    throw errors::invalid_request_unknown(kParameterValidation);
  }
}

void read_locale_params(ListOptions& options, const QueryParams& query) {
  for (const auto& [key, value] : query) {
    if (key == "timeZone") {
      options.time_zone = value;
    } else if (key == "userLocale") {
      options.user_locale = value;
    }
  }
}

const Field& sort_field(const Table& table, const std::string& name) {
  const Field* field = table.find_field(name);
  if (field == nullptr) {
    throw errors::unknown_field_name(name);
  }
  return *field;
}

// Orders two cells of one field: blanks first, numbers numerically, text case-insensitively.
int compare_cells(const Json& a, const Json& b) {
  if (a.is_null() || b.is_null()) {
    return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
  }
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  auto text = [](const Json& v) {
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    for (char& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  };
  const std::string x = text(a);
  const std::string y = text(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::string make_offset(const std::string& iterator_id, const std::string& record_id) {
  return iterator_id + "/" + record_id;
}

}  // namespace

ListOptions list_options_from_query(const QueryParams& query) {
  ListOptions options;
  for (const auto& [key, value] : query) {
    if (key == "pageSize") {
      options.page_size = parse_int(key, value);
    } else if (key == "maxRecords") {
      options.max_records = parse_int(key, value);
    } else if (key == "offset") {
      options.offset = value;
    } else if (key == "view") {
      options.view = value;
    } else if (key == "filterByFormula") {
      options.formula = value;
    } else if (key == "cellFormat") {
      set_cell_format(options, value);
    } else if (key == "timeZone" || key == "userLocale") {
      continue;
    } else if (key == "fields[]" || key == "fields" || key.rfind("fields[", 0) == 0) {
      options.fields.push_back(value);  // fields[]=A, fields=A or fields[0]=A
    } else if (key == "returnFieldsByFieldId") {
      options.by_field_id = parse_bool(key, value);
    } else if (key == "recordMetadata[]" || key == "recordMetadata") {
      if (value != "commentCount") {
        throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                              " (recordMetadata only supports commentCount)");
      }
      options.comment_count = true;
    } else if (key.rfind("sort[", 0) == 0) {
      add_sort_param(options.sort, key, value);
    } else {
      throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                            " (unknown parameter " + key + ")");
    }
  }
  read_locale_params(options, query);
  validate(options);
  return options;
}

ListOptions list_options_from_body(const Json& body, const QueryParams& query) {
  ListOptions options;
  if (!body.is_object()) {
    throw errors::invalid_request_unknown(kParameterValidation);
  }
  try {
    for (const auto& [key, value] : body.items()) {
      if (key == "pageSize") {
        options.page_size = value.get<int64_t>();
      } else if (key == "maxRecords") {
        options.max_records = value.get<int64_t>();
      } else if (key == "offset") {
        options.offset = value.get<std::string>();
      } else if (key == "view") {
        options.view = value.get<std::string>();
      } else if (key == "filterByFormula") {
        options.formula = value.get<std::string>();
      } else if (key == "cellFormat") {
        set_cell_format(options, value.get<std::string>());
      } else if (key == "fields") {
        for (const Json& f : value) {
          options.fields.push_back(f.get<std::string>());
        }
      } else if (key == "returnFieldsByFieldId") {
        options.by_field_id = value.get<bool>();
      } else if (key == "recordMetadata") {
        for (const Json& m : value) {
          if (m.get<std::string>() != "commentCount") {
            throw errors::invalid_request_unknown(kParameterValidation);
          }
          options.comment_count = true;
        }
      } else if (key == "sort") {
        for (const Json& s : value) {
          SortSpec spec{s.at("field").get<std::string>(), false};
          const std::string direction = s.value("direction", "asc");
          if (direction != "asc" && direction != "desc") {
            throw errors::invalid_request_unknown(kParameterValidation);
          }
          spec.descending = direction == "desc";
          options.sort.push_back(spec);
        }
      } else {
        // timeZone / userLocale belong in the query string even on POST.
        throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                              " (unknown parameter " + key + ")");
      }
    }
  } catch (const Json::exception&) {
    throw errors::invalid_request_unknown(kParameterValidation);
  }
  read_locale_params(options, query);
  validate(options);
  return options;
}

ListOptions record_options_from_query(const QueryParams& query) {
  ListOptions options;
  for (const auto& [key, value] : query) {
    if (key == "cellFormat") {
      set_cell_format(options, value);
    } else if (key == "returnFieldsByFieldId") {
      options.by_field_id = parse_bool(key, value);
    } else if (key == "timeZone" || key == "userLocale") {
      continue;
    } else {
      throw errors::invalid_request_unknown(std::string(kParameterValidation) +
                                            " (unknown parameter " + key + ")");
    }
  }
  read_locale_params(options, query);
  validate(options);
  return options;
}

std::string list_records(const ListContext& ctx, const ListOptions& options) {
  const Table& table = ctx.resolver.table();
  RenderOptions render;
  render.by_field_id = options.by_field_id;
  render.string_format = options.string_format;
  render.time_zone = options.time_zone;
  render.user_locale = options.user_locale;
  render.comment_count = options.comment_count;
  render.attachment_urls = ctx.attachment_urls;
  for (const std::string& name : options.fields) {
    const Field* field = table.find_field(name);
    if (field == nullptr) {
      throw errors::unknown_field_name(name);
    }
    if (std::find(render.fields.begin(), render.fields.end(), field) == render.fields.end()) {
      render.fields.push_back(field);
    }
  }
  std::sort(render.fields.begin(), render.fields.end(), [&](const Field* a, const Field* b) {
    return std::distance(table.fields.data(), a) < std::distance(table.fields.data(), b);
  });

  ListIterator it;
  if (!options.offset.empty()) {
    const size_t slash = options.offset.find('/');
    const std::string itr = options.offset.substr(0, slash);
    if (slash == std::string::npos || !is_airtable_id(itr, "itr") ||
        !is_airtable_id(options.offset.substr(slash + 1), "rec")) {
      throw errors::invalid_offset_value(options.offset);
    }
    if (ctx.iterators.take(itr, ctx.now_ms, it) != IteratorRegistry::Lookup::kFound ||
        it.table_id != table.id) {
      throw errors::iterator_not_available();
    }
    const auto position = it.positions.find(options.offset.substr(slash + 1));
    if (position == it.positions.end()) {
      ctx.iterators.put(std::move(it));
      throw errors::invalid_offset_value(options.offset);
    }
    it.next_index = position->second.next_index;
    it.after_seq = position->second.after_seq;
    it.returned = position->second.returned;
  } else {
    it.id = ctx.ids.next("itr");
    it.base_id = ctx.resolver.base().id;
    it.table_id = table.id;
    const View* view = nullptr;
    if (!options.view.empty()) {
      view = table.find_view(options.view);
      if (view == nullptr) {
        throw errors::view_name_not_found(options.view);
      }
    }
    std::optional<formula::Formula> filter;
    std::optional<formula::Formula> view_filter;
    try {
      if (!options.formula.empty()) {
        filter.emplace(formula::Formula::compile(options.formula, table, false));
      }
    } catch (const formula::FormulaError& e) {
      if (e.kind() == formula::FormulaError::Kind::kUnknownField) {
        throw errors::invalid_filter_by_formula("Unknown field names: " + e.detail());
      }
      throw errors::invalid_filter_by_formula("Invalid formula. Please check your formula text.");
    }
    if (view != nullptr && !view->filter_formula.empty()) {
      view_filter.emplace(formula::Formula::compile(view->filter_formula, table, true));
    }
    std::vector<std::pair<SortSpec, const Field*>> sort;
    for (const SortSpec& s : options.sort) {
      sort.emplace_back(s, &sort_field(table, s.field));
    }
    if (sort.empty() && view != nullptr) {
      for (const Json& s : view->sort) {
        const Field* f = table.field_by_id(s.value("field", ""));
        if (f != nullptr) {
          sort.emplace_back(SortSpec{f->id, s.value("direction", "asc") == "desc"}, f);
        }
      }
    }
    it.snapshot = filter.has_value() || view_filter.has_value() || !sort.empty();
    if (it.snapshot) {
      for (const auto& [seq, record] : table.records) {
        const ResolvedRecord rec(ctx.resolver, record);
        if ((view_filter && !view_filter->matches(rec)) || (filter && !filter->matches(rec))) {
          continue;
        }
        it.seqs.push_back(seq);
      }
      if (!sort.empty()) {
        std::vector<std::vector<Json>> keys;
        keys.reserve(it.seqs.size());
        for (const int64_t seq : it.seqs) {
          std::vector<Json> row;
          row.reserve(sort.size());
          for (const auto& [spec, field] : sort) {
            row.push_back(ctx.resolver.cell(table.records.at(seq), *field));
          }
          keys.push_back(std::move(row));
        }
        std::vector<size_t> order(it.seqs.size());
        for (size_t i = 0; i < order.size(); ++i) {
          order[i] = i;
        }
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          for (size_t k = 0; k < sort.size(); ++k) {
            const int c = compare_cells(keys[a][k], keys[b][k]);
            if (c != 0) {
              return sort[k].first.descending ? c > 0 : c < 0;
            }
          }
          return false;
        });
        std::vector<int64_t> sorted;
        sorted.reserve(order.size());
        for (const size_t i : order) {
          sorted.push_back(it.seqs[i]);
        }
        it.seqs = std::move(sorted);
      }
    }
  }

  int64_t limit = options.page_size;
  if (options.max_records) {
    limit = std::min(limit, *options.max_records - it.returned);
  }
  std::string body = R"({"records":[)";
  int64_t count = 0;
  std::string last_id;
  bool more = false;
  if (it.snapshot) {
    while (it.next_index < it.seqs.size()) {
      const auto rec = table.records.find(it.seqs[it.next_index]);
      if (rec == table.records.end()) {
        ++it.next_index;  // deleted since the listing started
        continue;
      }
      if (count >= limit) {
        more = true;
        break;
      }
      if (count > 0) {
        body.push_back(',');
      }
      append_record_json(body, ctx.resolver, rec->second, render);
      last_id = rec->second.id;
      ++count;
      ++it.next_index;
    }
  } else {
    for (auto rec = table.records.upper_bound(it.after_seq); rec != table.records.end(); ++rec) {
      if (count >= limit) {
        more = true;
        break;
      }
      if (count > 0) {
        body.push_back(',');
      }
      append_record_json(body, ctx.resolver, rec->second, render);
      last_id = rec->second.id;
      it.after_seq = rec->first;
      ++count;
    }
  }
  it.returned += count;
  body += "]";
  if (options.max_records && it.returned >= *options.max_records) {
    more = false;
  }
  if (more && count > 0) {
    body += R"(,"offset":")";
    body += make_offset(it.id, last_id);
    body += '"';
    it.positions[last_id] = {it.next_index, it.after_seq, it.returned};
  }
  if (!it.positions.empty()) {
    // Kept after the last page too, so a client may ask again for any page it was offered.
    it.last_used_ms = ctx.now_ms;
    ctx.iterators.put(std::move(it));
  }
  body += "}";
  return body;
}

}  // namespace emu
