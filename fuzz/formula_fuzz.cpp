// The emulator's formula parser and evaluator: the input is a formula (filterByFormula, or a
// formula field's text when the last byte is odd: {fld…} ids allowed), compiled against the
// sample fixture's Tasks table (tests/data/emulator) or, when the last byte's second bit is
// set, a generated table covering every field type, and evaluated on each of its records. Compiling
// may only fail with FormulaError; evaluating never throws, and its value must serialise (valid
// UTF-8: it goes into a JSON answer) when the formula was valid UTF-8 (JSON bodies are).
#include <cstdint>
#include <string_view>

#include "cell_resolver.hpp"
#include "datasets.hpp"
#include "formula/formula.hpp"
#include "ids.hpp"

namespace {

// A fixed instant: evaluation (NOW(), TODAY()) is the same on every run.
constexpr int64_t kNowMs = 1'717'171'717'000;

// As nlohmann::json, which serialises the answers, judges it.
bool valid_utf8(std::string_view text) {
  try {
    (void)emu::Json(std::string(text)).dump();
    return true;
  } catch (const emu::Json::type_error&) {
    return false;
  }
}

const emu::Workspace& sample() {
  static const emu::Workspace data = [] {
    emu::IdGenerator ids(7);
    return emu::load_data_dir(std::string(TEST_DATA_DIR) + "/emulator", ids, kNowMs);
  }();
  return data;
}

const emu::Workspace& generated() {
  static const emu::Workspace data = [] {
    emu::IdGenerator ids(7);
    return emu::generate_workspace(ids, 2, 6, kNowMs);
  }();
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool field_ids = (data[size - 1] & 1U) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size - 1);
  if (!valid_utf8(text)) {
    return 0;
  }
  const emu::Workspace& workspace = (data[size - 1] & 2U) != 0 ? generated() : sample();
  const emu::Base& base = workspace.bases.front();
  const emu::Table& table = base.tables.front();
  std::optional<emu::formula::Formula> formula;
  try {
    formula.emplace(emu::formula::Formula::compile(text, table, field_ids));
  } catch (const emu::formula::FormulaError&) {
    return 0;
  }
  const emu::CellResolver resolver(workspace, base, table, kNowMs);
  for (const auto& [seq, record] : table.records) {
    const emu::ResolvedRecord context(resolver, record);
    (void)formula->evaluate(context).dump();  // dump() throws on invalid UTF-8
    (void)formula->matches(context);
  }
  return 0;
}
