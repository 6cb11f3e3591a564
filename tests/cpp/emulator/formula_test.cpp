#include "formula/formula.hpp"

#include <gtest/gtest.h>

#include <map>

#include "time_format.hpp"

namespace emu::formula {
namespace {

class FakeRecord : public RecordContext {
 public:
  std::map<std::string, Json> cells;
  std::optional<int64_t> modified = 1'700'000'100'000;
  Json cell(const std::string& field_id) const override {
    const auto it = cells.find(field_id);
    return it == cells.end() ? Json(nullptr) : it->second;
  }
  std::string record_id() const override { return "recAAAAAAAAAAAAAA"; }
  int64_t created_ms() const override { return 1'700'000'000'000; }
  std::optional<int64_t> last_modified_ms(const std::vector<std::string>& ids) const override {
    return ids.empty() ? modified : std::optional<int64_t>(1'600'000'000'000);
  }
  std::string linked_record_name(const std::string&, const std::string& id) const override {
    return "name of " + id;
  }
  int64_t now_ms() const override { return 1'800'000'000'000; }
};

Table make_table() {
  Table t;
  auto add = [&](const std::string& id, const std::string& name, const std::string& type,
                 Json options = nullptr) {
    Field f;
    f.id = id;
    f.name = name;
    f.type = type;
    f.options = std::move(options);
    f.slot = t.next_slot++;
    t.fields.push_back(f);
  };
  add("fldName0000000000", "Name", "singleLineText");
  add("fldPoints00000000", "Story points 🎯", "number");
  add("fldDone000000000A", "Done", "checkbox");
  add("fldDue0000000000A", "Due", "date");
  add("fldLinks00000000A", "Links", "multipleRecordLinks", Json{{"linkedTableId", "tblX"}});
  add("fldTags000000000A", "Tags", "multipleSelects");
  add("fldCalc000000000A", "Calc", "formula", Json{{"result", Json{{"type", "number"}}}});
  return t;
}

struct Fixture : ::testing::Test {
  Table table = make_table();
  FakeRecord record;
  Fixture() {
    record.cells = {{"fldName0000000000", "Kickoff"},
                    {"fldPoints00000000", 3},
                    {"fldDone000000000A", true},
                    {"fldDue0000000000A", "2024-03-04"},
                    {"fldLinks00000000A", Json::array({"recB", "recC"})},
                    {"fldTags000000000A", Json::array({"a", "b"})},
                    {"fldCalc000000000A", Json{{"error", "#ERROR!"}}}};
  }
  Json eval(const std::string& text) {
    return Formula::compile(text, table, false).evaluate(record);
  }
  bool match(const std::string& text) {
    return Formula::compile(text, table, false).matches(record);
  }
  FormulaError::Kind error_kind(const std::string& text, std::string* detail = nullptr) {
    try {
      Formula::compile(text, table, false);
    } catch (const FormulaError& e) {
      if (detail != nullptr) {
        *detail = e.detail();
      }
      return e.kind();
    }
    ADD_FAILURE() << "no error for " << text;
    return FormulaError::Kind::kSyntax;
  }
};

TEST_F(Fixture, ArithmeticPrecedenceAndConcatenation) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("-{Story points 🎯} + 10"), 7);
  EXPECT_EQ(eval("7 / 2"), 3.5);
  EXPECT_EQ(eval("{Name} & ' #' & {Story points 🎯}"), "Kickoff #3");
  EXPECT_EQ(eval("'it\\'s'"), "it's");
  EXPECT_EQ(eval("1/0"), (Json{{"error", "#ERROR!"}}));
  EXPECT_EQ(eval("0/0"), (Json{{"specialValue", "NaN"}}));
}

TEST_F(Fixture, ComparisonsAndLogic) {
  EXPECT_TRUE(match("{Name} = 'Kickoff'"));
  EXPECT_FALSE(match("{Name} = 'kickoff'"));
  EXPECT_TRUE(match("{Story points 🎯} >= 3"));
  EXPECT_TRUE(match("{Story points 🎯} = '3'"));
  EXPECT_TRUE(match("{Story points 🎯} != 4"));
  EXPECT_TRUE(match("{Story points 🎯} <> 4"));
  EXPECT_TRUE(match("AND({Done}, OR(0, {Story points 🎯} < 5))"));
  EXPECT_TRUE(match("NOT(BLANK())"));
  EXPECT_TRUE(match("XOR(1, 0)"));
  EXPECT_EQ(eval("IF({Done}, 'yes', 'no')"), "yes");
  EXPECT_EQ(eval("IF(0, 'yes')"), nullptr);
  EXPECT_EQ(eval("SWITCH({Story points 🎯}, 1, 'one', 3, 'three', 'other')"), "three");
  EXPECT_TRUE(match("and(true(), TRUE)"));  // case-insensitive names
}

TEST_F(Fixture, BlankHandling) {
  record.cells.erase("fldName0000000000");
  record.cells.erase("fldDone000000000A");
  EXPECT_TRUE(match("{Name} = BLANK()"));
  EXPECT_TRUE(match("{Name} = ''"));
  EXPECT_TRUE(match("NOT({Done})"));
  EXPECT_EQ(eval("LEN({Name})"), 0);
}

TEST_F(Fixture, DatesAndRecordFunctions) {
  EXPECT_TRUE(match("IS_AFTER({Due}, '2024-03-01')"));
  EXPECT_TRUE(match("IS_BEFORE({Due}, DATETIME_PARSE('2024-03-04T00:00:01.000Z'))"));
  EXPECT_TRUE(match("IS_SAME({Due}, '2024-03-04T18:00:00Z', 'day')"));
  EXPECT_FALSE(match("IS_SAME({Due}, '2024-03-04T18:00:00Z')"));
  EXPECT_TRUE(match("IS_SAME({Due}, '2024-03-31', 'month')"));
  EXPECT_EQ(eval("DATETIME_PARSE('04/03/2024', 'DD/MM/YYYY')"), "2024-03-04T00:00:00.000Z");
  EXPECT_EQ(eval("DATETIME_PARSE('not a date')"), (Json{{"error", "#ERROR!"}}));
  EXPECT_EQ(eval("DATETIME_DIFF('2024-03-10', {Due}, 'days')"), 6);
  EXPECT_EQ(eval("DATESTR(DATEADD({Due}, 2, 'days'))"), "2024-03-06");
  EXPECT_EQ(eval("LAST_MODIFIED_TIME()"), format_iso_ms(1'700'000'100'000));
  EXPECT_EQ(eval("LAST_MODIFIED_TIME({Name})"), format_iso_ms(1'600'000'000'000));
  EXPECT_EQ(eval("CREATED_TIME()"), format_iso_ms(1'700'000'000'000));
  EXPECT_EQ(eval("RECORD_ID()"), "recAAAAAAAAAAAAAA");
  EXPECT_TRUE(match("IS_AFTER(LAST_MODIFIED_TIME(), '2023-11-14T22:13:19.000Z')"));
  EXPECT_FALSE(match("IS_AFTER(LAST_MODIFIED_TIME(), '2023-11-14T22:15:00.000Z')"));
  EXPECT_TRUE(match("OR(RECORD_ID()='recZZ', RECORD_ID()='recAAAAAAAAAAAAAA')"));
}

TEST_F(Fixture, TextFunctions) {
  EXPECT_EQ(eval("LEN({Name})"), 7);
  EXPECT_EQ(eval("FIND('off', {Name})"), 5);
  EXPECT_EQ(eval("FIND('zz', {Name})"), 0);
  EXPECT_EQ(eval("SEARCH('KICK', {Name})"), 1);
  EXPECT_EQ(eval("UPPER(LEFT({Name}, 4)) & LOWER(RIGHT('ABC', 2))"), "KICKbc");
  EXPECT_EQ(eval("MID('abcdef', 2, 3)"), "bcd");
  EXPECT_EQ(eval("SUBSTITUTE('a-b-c', '-', '+')"), "a+b+c");
  EXPECT_EQ(eval("TRIM('  x  ')"), "x");
  EXPECT_EQ(eval("VALUE('12.5') * 2"), 25);
  EXPECT_EQ(eval("{Links}"), (Json::array({"name of recB", "name of recC"})));
  EXPECT_EQ(eval("ARRAYJOIN({Tags}, '|')"), "a|b");
  EXPECT_EQ(eval("{Tags} & ''"), "a, b");
  EXPECT_EQ(eval("SUM(1, 2, {Story points 🎯})"), 6);
  EXPECT_EQ(eval("ROUND(2.345, 2)"), 2.35);
}

TEST_F(Fixture, ErrorsAndSpecialValuesAreFalsy) {
  EXPECT_FALSE(match("{Calc}"));
  EXPECT_TRUE(match("ISERROR({Calc})"));
  record.cells["fldCalc000000000A"] = Json{{"specialValue", "NaN"}};
  EXPECT_FALSE(match("{Calc}"));
  EXPECT_FALSE(match("''"));
  EXPECT_FALSE(match("0"));
  EXPECT_TRUE(match("'0'"));
}

TEST_F(Fixture, CompileErrorsHaveKinds) {
  std::string detail;
  EXPECT_EQ(error_kind("{Nope} = 1", &detail), FormulaError::Kind::kUnknownField);
  EXPECT_EQ(detail, "Nope");
  EXPECT_EQ(error_kind("Nope = 1", &detail), FormulaError::Kind::kUnknownField);
  EXPECT_EQ(error_kind("AND("), FormulaError::Kind::kSyntax);
  EXPECT_EQ(error_kind("'open"), FormulaError::Kind::kSyntax);
  EXPECT_EQ(error_kind("1 +"), FormulaError::Kind::kSyntax);
  EXPECT_EQ(error_kind("1 2"), FormulaError::Kind::kSyntax);
  EXPECT_EQ(error_kind("FROB(1)"), FormulaError::Kind::kUnknownFunction);
  EXPECT_EQ(error_kind("NOT(1, 2)"), FormulaError::Kind::kArity);
  EXPECT_EQ(error_kind("{fldName0000000000} = 'x'"), FormulaError::Kind::kUnknownField);
  EXPECT_NO_THROW(Formula::compile("{fldName0000000000} = 'x'", table, true));
}

// Regression (fuzzing): the recursive-descent parser followed any nesting until the stack ran
// out ("SUM(((((…" in a filterByFormula crashed the server); so did evaluating a long chain of
// operators (seen reading the code after that).
TEST_F(Fixture, DeepNestingIsASyntaxErrorNotAStackOverflow) {
  const auto nested = [](const std::string& open, int depth, const std::string& close) {
    std::string out;
    for (int i = 0; i < depth; ++i) {
      out += open;
    }
    out += "1";
    for (int i = 0; i < depth; ++i) {
      out += close;
    }
    return out;
  };
  EXPECT_EQ(eval(nested("(", 90, ")")), 1);
  EXPECT_EQ(eval(nested("SUM(", 90, ")")), 1);
  EXPECT_EQ(eval(nested("-", 90, "")), 1);
  std::string detail;
  EXPECT_EQ(error_kind("SUM(" + nested("(", 8000, ")") + ")", &detail),
            FormulaError::Kind::kSyntax);
  EXPECT_NE(detail.find("nested more than 100"), std::string::npos) << detail;
  EXPECT_EQ(error_kind(nested("ABS(", 8000, ")")), FormulaError::Kind::kSyntax);
  EXPECT_EQ(error_kind(nested("-", 8000, "")), FormulaError::Kind::kSyntax);
  // A chain of operators is as deep as it is long (evaluation overflowed the stack at 8,000).
  const auto chain = [](const std::string& op, int length) {
    std::string out = "1";
    for (int i = 0; i < length; ++i) {
      out += op + "1";
    }
    return out;
  };
  EXPECT_EQ(eval(chain("+", 900)), 901);
  EXPECT_EQ(error_kind(chain("+", 8000), &detail), FormulaError::Kind::kSyntax);
  EXPECT_NE(detail.find("more than 1000 operations deep"), std::string::npos) << detail;
  EXPECT_EQ(error_kind(chain("=", 8000)), FormulaError::Kind::kSyntax);
  // Depth adds up across parentheses: a 600-long chain whose first term is another.
  EXPECT_EQ(error_kind("(" + chain("*", 600) + ")" + chain("+", 600).substr(1)),
            FormulaError::Kind::kSyntax);
  EXPECT_EQ(eval("(" + chain("*", 400) + ")" + chain("+", 400).substr(1)), 401);
}

// Regression (fuzzing): LEFT / RIGHT / MID / FIND counted bytes, so a cut could split a
// character (the answer was then not UTF-8 and could not be sent), and a count past size_t's
// range (LEFT(x, 5777…7)) was undefined behaviour. They count characters and clamp counts.
TEST_F(Fixture, TextFunctionsCountCharactersAndClampCounts) {
  EXPECT_EQ(eval("LEN('\xC3\xA9\xF0\x9F\x93\xA3x')"), 3);
  EXPECT_EQ(eval("LEFT('\xC3\xA9\xF0\x9F\x93\xA3x', 1)"), "\xC3\xA9");
  EXPECT_EQ(eval("RIGHT('\xC3\xA9\xF0\x9F\x93\xA3x', 2)"), "\xF0\x9F\x93\xA3x");
  EXPECT_EQ(eval("MID('a\xC3\xA9\xF0\x9F\x93\xA3"
                 "b', 2, 2)"),
            "\xC3\xA9\xF0\x9F\x93\xA3");
  EXPECT_EQ(eval("FIND('x', '\xC3\xA9\xF0\x9F\x93\xA3x')"), 3);
  EXPECT_EQ(eval("FIND('x', 'x\xC3\xA9x', 2)"), 3);
  const std::string huge = "5" + std::string(80, '7');  // past size_t and int64
  EXPECT_EQ(eval("LEFT({Name}, " + huge + ")"), "Kickoff");
  EXPECT_EQ(eval("RIGHT({Name}, " + huge + ")"), "Kickoff");
  EXPECT_EQ(eval("MID({Name}, " + huge + ", 1)"), nullptr);  // "" is blank
  EXPECT_EQ(eval("MID({Name}, 2, " + huge + ")"), "ickoff");
  EXPECT_EQ(eval("FIND('k', {Name}, " + huge + ")"), 0);
  EXPECT_EQ(eval("LEFT({Name}, 0/0)"), (Json{{"error", "#ERROR!"}}));
  EXPECT_EQ(eval("MID({Name}, 0/0, 1)"), (Json{{"error", "#ERROR!"}}));
}

}  // namespace
}  // namespace emu::formula
