// Google Benchmark: JSON → Arrow conversion of list-records pages by the engine, next to
// simdjson's own parse of the same bytes (the ceiling). Pages come from a directory written
// by benchmarks/engine_bench.py: schema.json + page-*.json.
//
//   BENCH_PAGES_DIR=/tmp/pages build/benchmarks/engine_convert --benchmark_format=json
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "airtable_lakeflow/convert/page_converter.hpp"

namespace {

namespace fs = std::filesystem;
using airtable_lakeflow::convert::PageConverter;

// The bytes of `path` with simdjson's padding spare after them, as the engine's HTTP transport
// leaves them, so both benchmarks parse in place.
std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  std::string bytes = out.str();
  bytes.reserve(bytes.size() + simdjson::SIMDJSON_PADDING);
  return bytes;
}

struct Pages {
  std::string schema;
  std::vector<std::string> bodies;
  int64_t bytes = 0;
};

const Pages& pages() {
  static const Pages loaded = [] {
    Pages out;
    const char* dir = std::getenv("BENCH_PAGES_DIR");
    if (dir == nullptr) {
      return out;
    }
    out.schema = slurp(fs::path(dir) / "schema.json");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind("page-", 0) == 0) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      out.bodies.push_back(slurp(file));
      out.bytes += static_cast<int64_t>(out.bodies.back().size());
    }
    return out;
  }();
  return loaded;
}

void SimdjsonParse(benchmark::State& state) {
  simdjson::dom::parser parser;
  for (auto _ : state) {
    for (const std::string& body : pages().bodies) {
      simdjson::dom::element doc;
      if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
        state.SkipWithError("a page is not JSON");
        return;
      }
      benchmark::DoNotOptimize(doc);
    }
  }
  state.SetBytesProcessed(state.iterations() * pages().bytes);
}

constexpr int64_t kBatchRows = 10'000;  // the reader's default batch

void EngineConvert(benchmark::State& state) {
  const auto tables = airtable_lakeflow::api::parse_tables(pages().schema, "bench schema");
  PageConverter converter(airtable_lakeflow::schema::plan_table(tables.at(0), {}));
  int64_t records = 0;
  for (auto _ : state) {
    for (const std::string& body : pages().bodies) {
      records += converter.append_page(body).records;
      if (converter.rows() >= kBatchRows) {
        ArrowArray batch{};
        converter.finish(&batch);
        batch.release(&batch);
      }
    }
  }
  state.SetBytesProcessed(state.iterations() * pages().bytes);
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}

// Both, page by page in alternation, so that a shared machine's changing speed slows both
// alike: the ratio of the two sums is the figure the goal is about.
void ConvertVsParse(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const auto tables = airtable_lakeflow::api::parse_tables(pages().schema, "bench schema");
  PageConverter converter(airtable_lakeflow::schema::plan_table(tables.at(0), {}));
  simdjson::dom::parser parser;
  Clock::duration parsing{};
  Clock::duration converting{};
  for (auto _ : state) {
    for (const std::string& body : pages().bodies) {
      const auto start = Clock::now();
      simdjson::dom::element doc;
      if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
        state.SkipWithError("a page is not JSON");
        return;
      }
      benchmark::DoNotOptimize(doc);
      const auto parsed = Clock::now();
      converter.append_page(body);
      if (converter.rows() >= kBatchRows) {
        ArrowArray batch{};
        converter.finish(&batch);
        batch.release(&batch);
      }
      const auto converted = Clock::now();
      parsing += parsed - start;
      converting += converted - parsed;
    }
  }
  const double bytes = static_cast<double>(state.iterations() * pages().bytes);
  const double parse_s = std::chrono::duration<double>(parsing).count();
  const double convert_s = std::chrono::duration<double>(converting).count();
  state.counters["parse_bytes_per_s"] = bytes / parse_s;
  state.counters["convert_bytes_per_s"] = bytes / convert_s;
  state.counters["convert_vs_parse"] = parse_s / convert_s;
}

BENCHMARK(SimdjsonParse)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(EngineConvert)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(ConvertVsParse)->Unit(benchmark::kMillisecond)->MinTime(4.0);

}  // namespace

BENCHMARK_MAIN();
