// Evaluates a compiled formula against one record: Airtable's value conversions, operators and
// the supported functions.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

#include "formula/ast.hpp"
#include "time_format.hpp"

namespace emu::formula::detail {

namespace {

using Kind = Value::Kind;
constexpr int64_t kDayMs = 86'400'000;

std::string number_text(double n) {
  if (std::isnan(n)) {
    return "NaN";
  }
  if (n == std::floor(n) && std::fabs(n) < 1e15) {
    return std::to_string(static_cast<int64_t>(n));
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", n);
  return buf;
}

std::optional<double> as_number(const Value& v) {
  switch (v.kind) {
    case Kind::kNumber: return v.number;
    case Kind::kBool: return v.boolean ? 1.0 : 0.0;
    case Kind::kBlank: return 0.0;
    case Kind::kText: {
      if (v.text.empty()) {
        return 0.0;
      }
      try {
        size_t used = 0;
        const double n = std::stod(v.text, &used);
        if (used == v.text.size()) {
          return n;
        }
      } catch (const std::exception&) {
      }
      return std::nullopt;
    }
    case Kind::kDate: return static_cast<double>(v.ms);
    case Kind::kArray:
      if (v.items.size() == 1) {
        return as_number(v.items[0]);
      }
      return std::nullopt;
    case Kind::kError: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> as_date(const Value& v) {
  if (v.kind == Kind::kDate) {
    return v.ms;
  }
  if (v.kind == Kind::kText) {
    return parse_iso(v.text);
  }
  if (v.kind == Kind::kArray && v.items.size() == 1) {
    return as_date(v.items[0]);
  }
  return std::nullopt;
}

void flatten(const Value& v, std::vector<Value>& out) {
  if (v.kind == Kind::kArray) {
    for (const Value& item : v.items) {
      flatten(item, out);
    }
  } else {
    out.push_back(v);
  }
}

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// Text functions count characters (code points), never bytes, so a cut never splits one.
size_t char_count(std::string_view s) {
  size_t count = 0;
  for (const char c : s) {
    count += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return count;
}

// The byte offset of character `chars` (the end when the text is shorter).
size_t byte_offset(std::string_view s, size_t chars) {
  size_t at = 0;
  for (; at < s.size(); ++at) {
    if ((static_cast<unsigned char>(s[at]) & 0xC0U) != 0x80U && chars-- == 0) {
      break;
    }
  }
  return at;
}

// A count or position from a formula number: NaN and negatives are 0, and a number past any
// text's length is clamped (casting it to size_t would be undefined).
size_t to_count(double n) {
  constexpr double kFar = 1e15;
  return n > 0 ? static_cast<size_t>(std::min(n, kFar)) : 0;
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

bool is_blankish(const Value& v) {
  return v.kind == Kind::kBlank || (v.kind == Kind::kText && v.text.empty()) ||
         (v.kind == Kind::kArray && v.items.empty());
}

// -1, 0, 1, or nullopt when the two cannot be ordered.
std::optional<int> compare(const Value& a, const Value& b) {
  if (a.kind == Kind::kError || b.kind == Kind::kError) {
    return std::nullopt;
  }
  if (a.kind == Kind::kDate || b.kind == Kind::kDate) {
    const auto x = as_date(a);
    const auto y = as_date(b);
    if (x && y) {
      return *x < *y ? -1 : (*x > *y ? 1 : 0);
    }
    if (is_blankish(a) || is_blankish(b)) {
      return is_blankish(a) == is_blankish(b) ? 0 : (is_blankish(a) ? -1 : 1);
    }
    return std::nullopt;
  }
  const bool numeric = a.kind == Kind::kNumber || b.kind == Kind::kNumber ||
                       a.kind == Kind::kBool || b.kind == Kind::kBool;
  if (numeric) {
    const auto x = as_number(a);
    const auto y = as_number(b);
    if (x && y) {
      return *x < *y ? -1 : (*x > *y ? 1 : 0);
    }
  }
  const std::string x = to_text(a);
  const std::string y = to_text(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

int64_t unit_ms(const std::string& unit) {
  const std::string u = lower(unit);
  if (u == "milliseconds" || u == "ms") return 1;
  if (u == "seconds" || u == "s") return 1000;
  if (u == "minutes" || u == "m") return 60'000;
  if (u == "hours" || u == "h") return 3'600'000;
  if (u == "days" || u == "d") return kDayMs;
  if (u == "weeks" || u == "w") return 7 * kDayMs;
  return 0;  // months / years / quarters: calendar units
}

int64_t months_of(int64_t ms) {
  const std::string d = format_date(ms);
  return std::stoll(d.substr(0, 4)) * 12 + std::stoll(d.substr(5, 2)) - 1;
}

// DATETIME_PARSE with an explicit format of YYYY MM DD HH mm ss tokens.
std::optional<int64_t> parse_with_format(const std::string& text, const std::string& format) {
  int64_t year = 1970;
  int64_t month = 1;
  int64_t day = 1;
  int64_t hour = 0;
  int64_t minute = 0;
  int64_t second = 0;
  size_t t = 0;
  for (size_t f = 0; f < format.size();) {
    auto take = [&](size_t width, int64_t& out) {
      out = 0;
      size_t n = 0;
      while (n < width && t < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[t])) != 0) {
        out = out * 10 + (text[t++] - '0');
        ++n;
      }
      return n > 0;
    };
    const std::string_view rest = std::string_view(format).substr(f);
    bool ok = true;
    if (rest.rfind("YYYY", 0) == 0) {
      ok = take(4, year);
      f += 4;
    } else if (rest.rfind("MM", 0) == 0) {
      ok = take(2, month);
      f += 2;
    } else if (rest.rfind("DD", 0) == 0) {
      ok = take(2, day);
      f += 2;
    } else if (rest.rfind("HH", 0) == 0) {
      ok = take(2, hour);
      f += 2;
    } else if (rest.rfind("mm", 0) == 0) {
      ok = take(2, minute);
      f += 2;
    } else if (rest.rfind("ss", 0) == 0) {
      ok = take(2, second);
      f += 2;
    } else {
      ok = t < text.size() && text[t] == format[f];
      ++t;
      ++f;
    }
    if (!ok) {
      return std::nullopt;
    }
  }
  if (t != text.size() || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * kDayMs +
         hour * 3'600'000 + minute * 60'000 + second * 1000;
}

Value call(const Node& node, const RecordContext& record);

}  // namespace

std::string to_text(const Value& v) {
  switch (v.kind) {
    case Kind::kBlank: return "";
    case Kind::kNumber: return number_text(v.number);
    case Kind::kText: return v.text;
    case Kind::kBool: return v.boolean ? "1" : "0";
    case Kind::kDate: return format_iso_ms(v.ms);
    case Kind::kError: return v.text;
    case Kind::kArray: {
      std::string out;
      for (const Value& item : v.items) {
        if (!out.empty()) {
          out += ", ";
        }
        out += to_text(item);
      }
      return out;
    }
  }
  return "";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kBlank: return false;
    case Kind::kNumber: return v.number != 0 && !std::isnan(v.number);
    case Kind::kText: return !v.text.empty();
    case Kind::kBool: return v.boolean;
    case Kind::kDate: return true;
    case Kind::kArray: return !v.items.empty();
    case Kind::kError: return false;
  }
  return false;
}

Value from_cell(const FieldRef& field, const Json& cell, const RecordContext& record) {
  const std::string& type = field.type;
  if (cell.is_null()) {
    if (type == "checkbox") {
      return Value::of_bool(false);
    }
    return Value::blank();
  }
  if (cell.is_object() && cell.size() == 1 && cell.contains("error")) {
    return Value::error(cell["error"].is_string() ? cell["error"].get<std::string>() : "#ERROR!");
  }
  if (cell.is_object() && cell.size() == 1 && cell.contains("specialValue")) {
    const std::string special = cell["specialValue"].get<std::string>();
    return Value::of_number(special == "Infinity"    ? std::numeric_limits<double>::infinity()
                            : special == "-Infinity" ? -std::numeric_limits<double>::infinity()
                                                     : std::nan(""));
  }
  if (cell.is_array()) {
    Value out;
    out.kind = Kind::kArray;
    FieldRef element = field;
    if (field.own_type == "multipleRecordLinks") {
      const std::string table_id = field.options.value("linkedTableId", "");
      for (const Json& id : cell) {
        out.items.push_back(
            Value::of_text(record.linked_record_name(table_id, id.get<std::string>())));
      }
      return out;
    }
    for (const Json& item : cell) {
      out.items.push_back(from_cell(element, item, record));
    }
    return out;
  }
  if (cell.is_boolean()) {
    return Value::of_bool(cell.get<bool>());
  }
  if (cell.is_number()) {
    return Value::of_number(cell.get<double>());
  }
  if (cell.is_string()) {
    const std::string& text = cell.get_ref<const std::string&>();
    if (type == "date" || type == "dateTime" || type == "createdTime" ||
        type == "lastModifiedTime") {
      if (const auto at = parse_iso(text)) {
        return Value::of_date(*at);
      }
    }
    return Value::of_text(text);
  }
  // Objects: collaborators, attachments, barcodes, buttons, aiText.
  if (type == "multipleAttachments" && cell.contains("filename")) {
    return Value::of_text(cell.value("filename", "") + " (" + cell.value("url", "") + ")");
  }
  for (const char* key : {"name", "text", "label", "value", "email", "id"}) {
    if (cell.contains(key) && cell[key].is_string()) {
      return Value::of_text(cell[key].get<std::string>());
    }
  }
  if (type == "aiText") {
    return Value::blank();
  }
  return Value::of_text(cell.dump());
}

Json to_cell(const Value& v) {
  switch (v.kind) {
    case Kind::kBlank: return nullptr;
    case Kind::kNumber:
      if (std::isnan(v.number)) {
        return Json{{"specialValue", "NaN"}};
      }
      if (std::isinf(v.number)) {
        return Json{{"specialValue", v.number > 0 ? "Infinity" : "-Infinity"}};
      }
      if (v.number == std::floor(v.number) && std::fabs(v.number) < 9e15) {
        return static_cast<int64_t>(v.number);
      }
      return v.number;
    case Kind::kText: return v.text.empty() ? Json(nullptr) : Json(v.text);
    case Kind::kBool: return v.boolean ? Json(true) : Json(nullptr);
    case Kind::kDate: return format_iso_ms(v.ms);
    case Kind::kError: return Json{{"error", v.text}};
    case Kind::kArray: {
      Json out = Json::array();
      for (const Value& item : v.items) {
        out.push_back(to_cell(item));
      }
      return out.empty() ? Json(nullptr) : out;
    }
  }
  return nullptr;
}

Value evaluate(const Node& node, const RecordContext& record) {
  switch (node.type) {
    case Node::Type::kLiteral: return node.literal;
    case Node::Type::kField: return from_cell(node.field, record.cell(node.field.id), record);
    case Node::Type::kUnary: {
      const Value v = evaluate(*node.args[0], record);
      if (v.kind == Kind::kError) {
        return v;
      }
      const auto n = as_number(v);
      if (!n) {
        return Value::error();
      }
      return Value::of_number(node.op == "-" ? -*n : *n);
    }
    case Node::Type::kBinary: {
      const Value a = evaluate(*node.args[0], record);
      const Value b = evaluate(*node.args[1], record);
      const std::string& op = node.op;
      if (op == "&") {
        if (a.kind == Kind::kError) return a;
        if (b.kind == Kind::kError) return b;
        return Value::of_text(to_text(a) + to_text(b));
      }
      if (op == "=" || op == "!=" || op == "<" || op == ">" || op == "<=" || op == ">=") {
        if (a.kind == Kind::kError) return a;
        if (b.kind == Kind::kError) return b;
        bool result = false;
        if (op == "=" || op == "!=") {
          bool equal = false;
          if (is_blankish(a) || is_blankish(b)) {
            // BLANK() equals "", 0 and FALSE in Airtable comparisons.
            const Value& other = is_blankish(a) ? b : a;
            equal = is_blankish(other) || (other.kind == Kind::kNumber && other.number == 0) ||
                    (other.kind == Kind::kBool && !other.boolean);
          } else {
            const auto c = compare(a, b);
            equal = c && *c == 0;
          }
          result = op == "=" ? equal : !equal;
        } else {
          const auto c = compare(a, b);
          if (!c) {
            return Value::of_number(0);
          }
          result = op == "<" ? *c < 0 : op == ">" ? *c > 0 : op == "<=" ? *c <= 0 : *c >= 0;
        }
        return Value::of_number(result ? 1 : 0);
      }
      if (a.kind == Kind::kError) return a;
      if (b.kind == Kind::kError) return b;
      // Date arithmetic: date ± number of days is not Airtable's; keep to numbers.
      const auto x = as_number(a);
      const auto y = as_number(b);
      if (!x || !y) {
        return Value::error();
      }
      if (op == "+") return Value::of_number(*x + *y);
      if (op == "-") return Value::of_number(*x - *y);
      if (op == "*") return Value::of_number(*x * *y);
      if (*y == 0) {
        return *x == 0 ? Value::of_number(std::nan("")) : Value::error("#ERROR!");
      }
      return Value::of_number(*x / *y);
    }
    case Node::Type::kCall: return call(node, record);
  }
  return Value::blank();
}

namespace {

Value call(const Node& node, const RecordContext& record) {
  const std::string& fn = node.op;
  auto arg = [&](size_t i) { return evaluate(*node.args[i], record); };
  auto all_args = [&]() {
    std::vector<Value> out;
    for (size_t i = 0; i < node.args.size(); ++i) {
      flatten(arg(i), out);
    }
    return out;
  };
  if (fn == "IF") {
    const Value cond = arg(0);
    if (cond.kind == Kind::kError) {
      return cond;
    }
    if (truthy(cond)) {
      return arg(1);
    }
    return node.args.size() > 2 ? arg(2) : Value::blank();
  }
  if (fn == "AND" || fn == "OR" || fn == "XOR") {
    int trues = 0;
    const auto values = all_args();
    for (const Value& v : values) {
      if (v.kind == Kind::kError) {
        return v;
      }
      trues += truthy(v) ? 1 : 0;
    }
    const bool result = fn == "AND"  ? trues == static_cast<int>(values.size())
                        : fn == "OR" ? trues > 0
                                     : trues % 2 == 1;
    return Value::of_number(result ? 1 : 0);
  }
  if (fn == "NOT") {
    const Value v = arg(0);
    return v.kind == Kind::kError ? v : Value::of_number(truthy(v) ? 0 : 1);
  }
  if (fn == "SWITCH") {
    const Value subject = arg(0);
    size_t i = 1;
    for (; i + 1 < node.args.size(); i += 2) {
      const auto c = compare(subject, arg(i));
      if (c && *c == 0) {
        return arg(i + 1);
      }
    }
    return i < node.args.size() ? arg(i) : Value::blank();
  }
  if (fn == "BLANK") return Value::blank();
  if (fn == "TRUE") return Value::of_bool(true);
  if (fn == "FALSE") return Value::of_bool(false);
  if (fn == "ERROR") return Value::error();
  if (fn == "ISERROR") return Value::of_number(arg(0).kind == Kind::kError ? 1 : 0);
  if (fn == "RECORD_ID") return Value::of_text(record.record_id());
  if (fn == "CREATED_TIME") return Value::of_date(record.created_ms());
  if (fn == "LAST_MODIFIED_TIME") {
    const auto at = record.last_modified_ms(node.field_ids);
    return at ? Value::of_date(*at) : Value::blank();
  }
  if (fn == "NOW") return Value::of_date(record.now_ms());
  if (fn == "TODAY") return Value::of_date(record.now_ms() / kDayMs * kDayMs);
  if (fn == "IS_AFTER" || fn == "IS_BEFORE" || fn == "IS_SAME") {
    const Value a = arg(0);
    const Value b = arg(1);
    if (a.kind == Kind::kError) return a;
    if (b.kind == Kind::kError) return b;
    const auto x = as_date(a);
    const auto y = as_date(b);
    if (!x || !y) {
      return Value::of_number(0);
    }
    if (fn == "IS_AFTER") return Value::of_number(*x > *y ? 1 : 0);
    if (fn == "IS_BEFORE") return Value::of_number(*x < *y ? 1 : 0);
    if (node.args.size() < 3) return Value::of_number(*x == *y ? 1 : 0);
    const std::string unit = lower(to_text(arg(2)));
    if (unit == "years" || unit == "year") {
      return Value::of_number(format_date(*x).substr(0, 4) == format_date(*y).substr(0, 4) ? 1 : 0);
    }
    if (unit == "months" || unit == "month") {
      return Value::of_number(months_of(*x) == months_of(*y) ? 1 : 0);
    }
    const int64_t step = unit_ms(unit.back() == 's' ? unit : unit + "s");
    if (step == 0) {
      return Value::error();
    }
    const auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && (a < 0)); };
    return Value::of_number(floor_div(*x, step) == floor_div(*y, step) ? 1 : 0);
  }
  if (fn == "DATETIME_PARSE") {
    const Value v = arg(0);
    if (v.kind == Kind::kDate) {
      return v;
    }
    const std::string text = to_text(v);
    const auto at =
        node.args.size() > 1 ? parse_with_format(text, to_text(arg(1))) : parse_iso(text);
    return at ? Value::of_date(*at) : Value::error();
  }
  if (fn == "DATETIME_DIFF") {
    const auto x = as_date(arg(0));
    const auto y = as_date(arg(1));
    if (!x || !y) {
      return Value::error();
    }
    const std::string unit = node.args.size() > 2 ? to_text(arg(2)) : "seconds";
    if (lower(unit) == "months" || lower(unit) == "M") {
      return Value::of_number(static_cast<double>(months_of(*x) - months_of(*y)));
    }
    if (lower(unit) == "years" || unit == "y") {
      const int64_t whole_years = (months_of(*x) - months_of(*y)) / 12;
      return Value::of_number(static_cast<double>(whole_years));
    }
    const int64_t step = unit_ms(unit);
    if (step == 0) {
      return Value::error();
    }
    const int64_t whole_units = (*x - *y) / step;  // Airtable truncates toward zero
    return Value::of_number(static_cast<double>(whole_units));
  }
  if (fn == "DATEADD") {
    const auto x = as_date(arg(0));
    const auto n = as_number(arg(1));
    const int64_t step = unit_ms(to_text(arg(2)));
    if (!x || !n || step == 0) {
      return Value::error();
    }
    return Value::of_date(*x + static_cast<int64_t>(*n * static_cast<double>(step)));
  }
  if (fn == "DATESTR") {
    const auto x = as_date(arg(0));
    return x ? Value::of_text(format_date(*x)) : Value::error();
  }
  if (fn == "DATETIME_FORMAT") {
    const auto x = as_date(arg(0));
    if (!x) {
      return Value::error();
    }
    const std::string iso = format_iso_ms(*x);
    if (node.args.size() < 2) {
      return Value::of_text(iso);
    }
    std::string format = to_text(arg(1));
    const std::pair<const char*, std::string> tokens[] = {
        {"YYYY", iso.substr(0, 4)}, {"MM", iso.substr(5, 2)},  {"DD", iso.substr(8, 2)},
        {"HH", iso.substr(11, 2)},  {"mm", iso.substr(14, 2)}, {"ss", iso.substr(17, 2)}};
    std::string out;
    for (size_t i = 0; i < format.size();) {
      bool matched = false;
      for (const auto& [token, value] : tokens) {
        if (format.compare(i, std::char_traits<char>::length(token), token) == 0) {
          out += value;
          i += std::char_traits<char>::length(token);
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.push_back(format[i++]);
      }
    }
    return Value::of_text(out);
  }
  if (fn == "LEN") return Value::of_number(static_cast<double>(char_count(to_text(arg(0)))));
  if (fn == "FIND" || fn == "SEARCH") {
    std::string needle = to_text(arg(0));
    std::string hay = to_text(arg(1));
    if (fn == "SEARCH") {
      needle = lower(needle);
      hay = lower(hay);
    }
    size_t start = 0;
    if (node.args.size() > 2) {
      const auto s = as_number(arg(2));
      start = s && *s > 1 ? byte_offset(hay, to_count(*s) - 1) : 0;
    }
    const size_t at = hay.find(needle, start);
    if (at == std::string::npos) {
      return fn == "FIND" ? Value::of_number(0) : Value::blank();
    }
    return Value::of_number(
        static_cast<double>(char_count(std::string_view(hay).substr(0, at)) + 1));
  }
  if (fn == "LOWER") return Value::of_text(lower(to_text(arg(0))));
  if (fn == "UPPER") return Value::of_text(upper(to_text(arg(0))));
  if (fn == "TRIM") {
    const std::string s = to_text(arg(0));
    const size_t b = s.find_first_not_of(" \t\n");
    const size_t e = s.find_last_not_of(" \t\n");
    return Value::of_text(b == std::string::npos ? "" : s.substr(b, e - b + 1));
  }
  if (fn == "CONCATENATE") {
    std::string out;
    for (size_t i = 0; i < node.args.size(); ++i) {
      out += to_text(arg(i));
    }
    return Value::of_text(out);
  }
  if (fn == "LEFT" || fn == "RIGHT" || fn == "MID") {
    const std::string s = to_text(arg(0));
    if (fn == "MID") {
      const auto start = as_number(arg(1));
      const auto count = as_number(arg(2));
      if (!start || !count || !(*start >= 1) || !(*count >= 0)) return Value::error();
      const size_t from = to_count(*start) - 1;
      const size_t begin = byte_offset(s, from);
      return Value::of_text(s.substr(begin, byte_offset(s, from + to_count(*count)) - begin));
    }
    const auto n = as_number(arg(1));
    if (!n || !(*n >= 0)) return Value::error();
    const size_t chars = char_count(s);
    const size_t count = std::min(chars, to_count(*n));
    return Value::of_text(fn == "LEFT" ? s.substr(0, byte_offset(s, count))
                                       : s.substr(byte_offset(s, chars - count)));
  }
  if (fn == "SUBSTITUTE") {
    std::string s = to_text(arg(0));
    const std::string from = to_text(arg(1));
    const std::string to = to_text(arg(2));
    if (from.empty()) return Value::of_text(s);
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
    return Value::of_text(s);
  }
  if (fn == "VALUE") {
    const auto n = as_number(Value::of_text(to_text(arg(0))));
    return n ? Value::of_number(*n) : Value::error();
  }
  if (fn == "T") {
    const Value v = arg(0);
    return v.kind == Kind::kText ? v : Value::of_text("");
  }
  if (fn == "ARRAYJOIN") {
    std::vector<Value> items;
    flatten(arg(0), items);
    const std::string sep = node.args.size() > 1 ? to_text(arg(1)) : ",";
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      out += (i > 0 ? sep : "") + to_text(items[i]);
    }
    return Value::of_text(out);
  }
  if (fn == "ROUND" || fn == "ABS" || fn == "INT") {
    const Value v = arg(0);
    if (v.kind == Kind::kError) return v;
    const auto n = as_number(v);
    if (!n) return Value::error();
    if (fn == "ABS") return Value::of_number(std::fabs(*n));
    if (fn == "INT") return Value::of_number(std::floor(*n));
    const double places = node.args.size() > 1 ? as_number(arg(1)).value_or(0) : 0;
    const double scale = std::pow(10.0, places);
    return Value::of_number(std::round(*n * scale) / scale);
  }
  if (fn == "MOD") {
    const auto a = as_number(arg(0));
    const auto b = as_number(arg(1));
    if (!a || !b || *b == 0) return Value::error();
    return Value::of_number(std::fmod(*a, *b));
  }
  if (fn == "SUM" || fn == "MIN" || fn == "MAX" || fn == "AVERAGE" || fn == "COUNTA") {
    const auto values = all_args();
    if (fn == "COUNTA") {
      return Value::of_number(static_cast<double>(std::count_if(
          values.begin(), values.end(), [](const Value& v) { return !is_blankish(v); })));
    }
    std::vector<double> numbers;
    for (const Value& v : values) {
      if (v.kind == Kind::kError) return v;
      if (v.kind == Kind::kNumber) numbers.push_back(v.number);
    }
    if (numbers.empty()) return Value::of_number(0);
    if (fn == "MIN") return Value::of_number(*std::min_element(numbers.begin(), numbers.end()));
    if (fn == "MAX") return Value::of_number(*std::max_element(numbers.begin(), numbers.end()));
    double sum = 0;
    for (const double n : numbers) sum += n;
    return Value::of_number(fn == "SUM" ? sum : sum / static_cast<double>(numbers.size()));
  }
  return Value::error();
}

}  // namespace

}  // namespace emu::formula::detail
