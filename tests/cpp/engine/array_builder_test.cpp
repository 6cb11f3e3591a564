// The builders' column appends keep their state in locals and write it back at the end: the
// exported arrays must be what row-by-row appends would make, wherever the first null falls,
// across several appends to one batch, after a truncate, and across batches.
#include "airtable_lakeflow/arrow/array_builder.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "arrow_json.hpp"

namespace airtable_lakeflow::arrow {
namespace {

using testing::OrderedJson;

// Renders every slot of an exported array and checks its layout.
std::vector<OrderedJson> rendered(const DataType& type, ArrowArray& array) {
  EXPECT_EQ(testing::layout_problem(type, array), "");
  std::vector<OrderedJson> out;
  for (int64_t i = 0; i < array.length; ++i) {
    out.push_back(testing::render(type, array, i));
  }
  array.release(&array);
  return out;
}

// Cells with a null every `gap` rows from row `first` on (none when gap is 0).
std::vector<std::optional<int64_t>> numbers(int n, int first, int gap) {
  std::vector<std::optional<int64_t>> out;
  for (int i = 0; i < n; ++i) {
    const bool null = gap != 0 && i >= first && (i - first) % gap == 0;
    out.push_back(null ? std::nullopt : std::optional<int64_t>(i * 7 - 40));
  }
  return out;
}

std::vector<OrderedJson> expected(const std::vector<std::optional<int64_t>>& cells) {
  std::vector<OrderedJson> out;
  for (const auto& cell : cells) {
    out.push_back(cell ? OrderedJson(*cell) : OrderedJson(nullptr));
  }
  return out;
}

TEST(ColumnAppend, FixedWidthWhereverTheFirstNullFalls) {
  for (const int first : {0, 1, 7, 8, 9, 63, 64, 199}) {
    for (const int split : {0, 5, 64, 100}) {
      const auto cells = numbers(200, first, 3);
      Int64Builder builder(int64());
      builder.append_column(split, [&](uint32_t i) { return cells[i]; });
      builder.append_column(200 - split, [&](uint32_t i) { return cells[split + i]; });
      ArrowArray array{};
      builder.finish(&array);
      EXPECT_EQ(array.null_count, (200 - first + 2) / 3) << first;
      EXPECT_EQ(rendered(int64(), array), expected(cells)) << first << " " << split;
    }
  }
}

TEST(ColumnAppend, NoNullsNoBitmap) {
  const auto cells = numbers(100, 0, 0);
  Int64Builder builder(int64());
  builder.append_column(100, [&](uint32_t i) { return cells[i]; });
  ArrowArray array{};
  builder.finish(&array);
  EXPECT_EQ(array.buffers[0], nullptr);
  EXPECT_EQ(rendered(int64(), array), expected(cells));
}

TEST(ColumnAppend, StringsTruncatedAndAppendedAgainAcrossBatches) {
  const std::vector<std::optional<std::string>> cells = {
      "a", std::nullopt, "", std::string(40, 'x'), "tail", std::nullopt, "end"};
  const auto view = [&cells](uint32_t i) {
    return cells[i] ? std::optional<std::string_view>(*cells[i]) : std::nullopt;
  };
  StringBuilder builder;
  for (int batch = 0; batch < 3; ++batch) {
    builder.append_column<false>(static_cast<uint32_t>(cells.size()), view);
    builder.truncate(3);  // drops the long string and what follows
    builder.append_column<false>(static_cast<uint32_t>(cells.size()), view);
    ArrowArray array{};
    builder.finish(&array);
    EXPECT_EQ(array.null_count, 3);
    std::vector<OrderedJson> want = {"a", nullptr, ""};
    for (const auto& cell : cells) {
      want.push_back(cell ? OrderedJson(*cell) : OrderedJson(nullptr));
    }
    EXPECT_EQ(rendered(utf8(), array), want) << batch;
  }
}

TEST(ColumnAppend, BooleansAcrossByteBoundaries) {
  std::vector<std::optional<bool>> cells;
  for (int i = 0; i < 77; ++i) {
    cells.push_back(i % 5 == 4 ? std::nullopt : std::optional<bool>(i % 3 == 0));
  }
  BoolBuilder builder;
  builder.append_column(13, [&](uint32_t i) { return cells[i]; });
  builder.append_column(64, [&](uint32_t i) { return cells[13 + i]; });
  builder.truncate(70);
  ArrowArray array{};
  builder.finish(&array);
  std::vector<OrderedJson> want;
  for (int i = 0; i < 70; ++i) {
    want.push_back(cells[i] ? OrderedJson(*cells[i]) : OrderedJson(nullptr));
  }
  EXPECT_EQ(array.null_count, 14);
  EXPECT_EQ(rendered(boolean(), array), want);
}

}  // namespace
}  // namespace airtable_lakeflow::arrow
