// Renders exported Arrow arrays as canonical JSON rows, the same way tests/python/golden.py
// renders pyarrow rows, so C++ and Python tests share golden files.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "airtable_lakeflow/arrow/c_data.h"
#include "airtable_lakeflow/arrow/data_type.hpp"
#include "airtable_lakeflow/int128.hpp"

namespace airtable_lakeflow::testing {

using OrderedJson = nlohmann::ordered_json;

inline bool is_valid(const ArrowArray& array, int64_t i) {
  const auto* bits = static_cast<const uint8_t*>(array.buffers[0]);
  const int64_t at = i + array.offset;
  return bits == nullptr || ((bits[at / 8] >> (at % 8)) & 1U) != 0;
}

template <typename T>
T value_at(const ArrowArray& array, int64_t i) {
  T out;
  std::memcpy(&out, static_cast<const uint8_t*>(array.buffers[1]) + (i + array.offset) * sizeof(T),
              sizeof(T));
  return out;
}

inline std::string decimal_text(int128 value, int scale) {
  const bool negative = value < 0;
  auto magnitude = static_cast<uint128>(negative ? -value : value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (static_cast<int>(digits.size()) <= scale) {
    digits.insert(digits.begin(), '0');
  }
  if (scale > 0) {
    digits.insert(digits.end() - scale, '.');
  }
  return (negative ? "-" : "") + digits;
}

inline std::string date_text(int32_t days) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

inline std::string timestamp_text(int64_t micros) {
  const int64_t seconds = micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000;
  const int64_t fraction = micros - seconds * 1'000'000;
  const int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  const int64_t in_day = seconds - days * 86400;
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%sT%02lld:%02lld:%02lld.%06lldZ",
                date_text(static_cast<int32_t>(days)).c_str(),
                static_cast<long long>(in_day / 3600), static_cast<long long>(in_day % 3600 / 60),
                static_cast<long long>(in_day % 60), static_cast<long long>(fraction));
  return buffer;
}

inline OrderedJson render(const arrow::DataType& type, const ArrowArray& array, int64_t i) {
  if (!is_valid(array, i)) {
    return nullptr;
  }
  switch (type.id) {
    case arrow::TypeId::kUtf8: {
      const auto* offsets = static_cast<const int32_t*>(array.buffers[1]) + array.offset;
      const auto* data = static_cast<const char*>(array.buffers[2]);
      return std::string(data + offsets[i], data + offsets[i + 1]);
    }
    case arrow::TypeId::kBool: {
      const auto* bits = static_cast<const uint8_t*>(array.buffers[1]);
      const int64_t at = i + array.offset;
      return ((bits[at / 8] >> (at % 8)) & 1U) != 0;
    }
    case arrow::TypeId::kInt64: return value_at<int64_t>(array, i);
    case arrow::TypeId::kDecimal128: return decimal_text(value_at<int128>(array, i), type.scale);
    case arrow::TypeId::kDate32: return date_text(value_at<int32_t>(array, i));
    case arrow::TypeId::kTimestampUs: return timestamp_text(value_at<int64_t>(array, i));
    case arrow::TypeId::kList: {
      const auto* offsets = static_cast<const int32_t*>(array.buffers[1]) + array.offset;
      OrderedJson out = OrderedJson::array();
      for (int32_t k = offsets[i]; k < offsets[i + 1]; ++k) {
        out.push_back(render(type.children[0].type, *array.children[0], k));
      }
      return out;
    }
    case arrow::TypeId::kStruct: {
      OrderedJson out = OrderedJson::object();
      for (size_t m = 0; m < type.children.size(); ++m) {
        out[type.children[m].name] =
            render(type.children[m].type, *array.children[m], i + array.offset);
      }
      return out;
    }
  }
  return nullptr;
}

// What pyarrow's validate(full=True) would object to in an exported array's layout: a null
// count that does not match the bitmap, offsets that go back or past the child, a struct
// member of another length. Empty when the layout holds.
inline std::string layout_problem(const arrow::DataType& type, const ArrowArray& array,
                                  const std::string& path = "batch") {
  int64_t nulls = 0;
  for (int64_t i = 0; i < array.length; ++i) {
    nulls += is_valid(array, i) ? 0 : 1;
  }
  if (nulls != array.null_count) {
    return path + ": null_count " + std::to_string(array.null_count) + ", bitmap " +
           std::to_string(nulls);
  }
  if (type.id == arrow::TypeId::kList || type.id == arrow::TypeId::kUtf8) {
    const auto* offsets = static_cast<const int32_t*>(array.buffers[1]) + array.offset;
    for (int64_t i = 0; i < array.length; ++i) {
      if (offsets[i + 1] < offsets[i]) {
        return path + ": offsets go back at " + std::to_string(i);
      }
    }
    if (type.id == arrow::TypeId::kList) {
      if (array.n_children != 1 || offsets[array.length] > array.children[0]->length) {
        return path + ": offsets pass the element array";
      }
      return layout_problem(type.children[0].type, *array.children[0], path + ".item");
    }
  }
  if (type.id == arrow::TypeId::kStruct) {
    if (array.n_children != static_cast<int64_t>(type.children.size())) {
      return path + ": member count";
    }
    for (size_t m = 0; m < type.children.size(); ++m) {
      const std::string member = path + "." + type.children[m].name;
      if (array.children[m]->length != array.length + array.offset) {
        return member + ": length " + std::to_string(array.children[m]->length) + ", struct " +
               std::to_string(array.length);
      }
      if (auto problem = layout_problem(type.children[m].type, *array.children[m], member);
          !problem.empty()) {
        return problem;
      }
    }
  }
  return "";
}

// layout_problem for every column of a record batch over `fields`.
inline std::string batch_problem(const std::vector<arrow::Field>& fields, const ArrowArray& batch) {
  for (size_t c = 0; c < fields.size(); ++c) {
    if (batch.children[c]->length != batch.length) {
      return fields[c].name + ": length";
    }
    if (auto problem = layout_problem(fields[c].type, *batch.children[c], fields[c].name);
        !problem.empty()) {
      return problem;
    }
  }
  return "";
}

// One JSON object per row of a record batch (a struct array over `fields`).
inline std::string render_rows(const std::vector<arrow::Field>& fields, const ArrowArray& batch) {
  std::string out;
  for (int64_t row = 0; row < batch.length; ++row) {
    OrderedJson line = OrderedJson::object();
    for (size_t c = 0; c < fields.size(); ++c) {
      line[fields[c].name] = render(fields[c].type, *batch.children[c], row);
    }
    out += line.dump() + "\n";
  }
  return out;
}

}  // namespace airtable_lakeflow::testing
