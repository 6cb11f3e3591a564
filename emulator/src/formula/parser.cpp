// Lexer and recursive-descent parser for Airtable formulas. Field references are resolved
// here, once, so evaluation never looks a name up.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>

#include "field_types.hpp"
#include "formula/ast.hpp"

namespace emu::formula::detail {

namespace {

struct Token {
  enum class Kind { kNumber, kString, kField, kIdent, kOp, kLParen, kRParen, kComma, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  double number = 0;
};

// {min, max} argument counts; max -1 = any.
const std::map<std::string, std::pair<int, int>>& arities() {
  static const std::map<std::string, std::pair<int, int>> kArity = {
      {"AND", {1, -1}},
      {"OR", {1, -1}},
      {"XOR", {1, -1}},
      {"NOT", {1, 1}},
      {"IF", {2, 3}},
      {"SWITCH", {3, -1}},
      {"BLANK", {0, 0}},
      {"TRUE", {0, 0}},
      {"FALSE", {0, 0}},
      {"ERROR", {0, 1}},
      {"ISERROR", {1, 1}},
      {"IS_AFTER", {2, 2}},
      {"IS_BEFORE", {2, 2}},
      {"IS_SAME", {2, 3}},
      {"DATETIME_PARSE", {1, 3}},
      {"DATETIME_DIFF", {2, 3}},
      {"DATEADD", {3, 3}},
      {"DATETIME_FORMAT", {1, 2}},
      {"DATESTR", {1, 1}},
      {"NOW", {0, 0}},
      {"TODAY", {0, 0}},
      {"LAST_MODIFIED_TIME", {0, -1}},
      {"CREATED_TIME", {0, 0}},
      {"RECORD_ID", {0, 0}},
      {"LEN", {1, 1}},
      {"FIND", {2, 3}},
      {"SEARCH", {2, 3}},
      {"LOWER", {1, 1}},
      {"UPPER", {1, 1}},
      {"TRIM", {1, 1}},
      {"CONCATENATE", {1, -1}},
      {"LEFT", {2, 2}},
      {"RIGHT", {2, 2}},
      {"MID", {3, 3}},
      {"SUBSTITUTE", {3, 3}},
      {"VALUE", {1, 1}},
      {"T", {1, 1}},
      {"ARRAYJOIN", {1, 2}},
      {"ROUND", {1, 2}},
      {"ABS", {1, 1}},
      {"INT", {1, 1}},
      {"MOD", {2, 2}},
      {"SUM", {1, -1}},
      {"MIN", {1, -1}},
      {"MAX", {1, -1}},
      {"AVERAGE", {1, -1}},
      {"COUNTA", {1, -1}},
  };
  return kArity;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
    Token token;
    if (pos_ >= text_.size()) {
      return token;
    }
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
        (c == '.' && pos_ + 1 < text_.size() &&
         std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])) != 0)) {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.')) {
        ++pos_;
      }
      token.kind = Token::Kind::kNumber;
      token.text = std::string(text_.substr(start, pos_ - start));
      try {
        token.number = std::stod(token.text);
      } catch (const std::exception&) {
        throw FormulaError(FormulaError::Kind::kSyntax, "bad number '" + token.text + "'");
      }
      return token;
    }
    if (c == '\'' || c == '"') {
      ++pos_;
      token.kind = Token::Kind::kString;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          ++pos_;
          const char e = text_[pos_];
          token.text.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          token.text.push_back(text_[pos_]);
        }
        ++pos_;
      }
      if (pos_ >= text_.size()) {
        throw FormulaError(FormulaError::Kind::kSyntax, "unterminated string");
      }
      ++pos_;
      return token;
    }
    if (c == '{') {
      const size_t close = text_.find('}', pos_);
      if (close == std::string_view::npos) {
        throw FormulaError(FormulaError::Kind::kSyntax, "unterminated field reference");
      }
      token.kind = Token::Kind::kField;
      token.text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return token;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_')) {
        ++pos_;
      }
      token.kind = Token::Kind::kIdent;
      token.text = std::string(text_.substr(start, pos_ - start));
      return token;
    }
    ++pos_;
    switch (c) {
      case '(': token.kind = Token::Kind::kLParen; return token;
      case ')': token.kind = Token::Kind::kRParen; return token;
      case ',': token.kind = Token::Kind::kComma; return token;
      case '+':
      case '-':
      case '*':
      case '/':
      case '&':
      case '=':
        token.kind = Token::Kind::kOp;
        token.text = std::string(1, c);
        return token;
      case '!':
        if (pos_ < text_.size() && text_[pos_] == '=') {
          ++pos_;
          token.kind = Token::Kind::kOp;
          token.text = "!=";
          return token;
        }
        break;
      case '<':
      case '>': {
        token.kind = Token::Kind::kOp;
        token.text = std::string(1, c);
        if (pos_ < text_.size() && (text_[pos_] == '=' || (c == '<' && text_[pos_] == '>'))) {
          token.text.push_back(text_[pos_++]);
        }
        if (token.text == "<>") {
          token.text = "!=";
        }
        return token;
      }
      default: break;
    }
    throw FormulaError(FormulaError::Kind::kSyntax,
                       std::string("unexpected character '") + c + "'");
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Parentheses, function calls and signs nested deeper than any real formula: a parser that
// followed them would run out of stack (a 16,000-character URL holds 8,000 parentheses).
constexpr int kMaxNesting = 100;
// Evaluation follows the tree, and a chain of operators (1+1+…+1) is as deep as it is long.
constexpr int kMaxDepth = 1000;

class Parser {
 public:
  Parser(std::string_view text, const Table& table, bool allow_ids)
      : lexer_(text), table_(table), allow_ids_(allow_ids) {
    advance();
  }

  std::unique_ptr<Node> parse_all() {
    auto node = comparison();
    if (current_.kind != Token::Kind::kEnd) {
      throw FormulaError(FormulaError::Kind::kSyntax, "unexpected '" + current_.text + "'");
    }
    return node;
  }

 private:
  void advance() { current_ = lexer_.next(); }

  bool is_op(std::initializer_list<const char*> ops) const {
    if (current_.kind != Token::Kind::kOp) {
      return false;
    }
    for (const char* op : ops) {
      if (current_.text == op) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<Node> binary(std::string op, std::unique_ptr<Node> lhs,
                               std::unique_ptr<Node> rhs) {
    auto node = std::make_unique<Node>();
    node->type = Node::Type::kBinary;
    node->op = std::move(op);
    node->args.push_back(std::move(lhs));
    node->args.push_back(std::move(rhs));
    return deepened(std::move(node));
  }

  // `node` with its depth set from its arguments'; throws past kMaxDepth.
  static std::unique_ptr<Node> deepened(std::unique_ptr<Node> node) {
    for (const auto& arg : node->args) {
      node->depth = std::max(node->depth, arg->depth + 1);
    }
    if (node->depth > kMaxDepth) {
      throw FormulaError(FormulaError::Kind::kSyntax,
                         "more than " + std::to_string(kMaxDepth) + " operations deep");
    }
    return node;
  }

  // One level of nesting while alive; throws past kMaxNesting.
  class Nesting {
   public:
    explicit Nesting(int& depth) : depth_(depth) {
      if (++depth_ > kMaxNesting) {
        throw FormulaError(FormulaError::Kind::kSyntax,
                           "nested more than " + std::to_string(kMaxNesting) + " levels deep");
      }
    }
    ~Nesting() { --depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    int& depth_;
  };

  std::unique_ptr<Node> comparison() {
    const Nesting nesting(depth_);
    auto lhs = concat();
    while (is_op({"=", "!=", "<", ">", "<=", ">="})) {
      std::string op = current_.text;
      advance();
      lhs = binary(op, std::move(lhs), concat());
    }
    return lhs;
  }

  std::unique_ptr<Node> concat() {
    auto lhs = additive();
    while (is_op({"&"})) {
      advance();
      lhs = binary("&", std::move(lhs), additive());
    }
    return lhs;
  }

  std::unique_ptr<Node> additive() {
    auto lhs = multiplicative();
    while (is_op({"+", "-"})) {
      std::string op = current_.text;
      advance();
      lhs = binary(op, std::move(lhs), multiplicative());
    }
    return lhs;
  }

  std::unique_ptr<Node> multiplicative() {
    auto lhs = unary();
    while (is_op({"*", "/"})) {
      std::string op = current_.text;
      advance();
      lhs = binary(op, std::move(lhs), unary());
    }
    return lhs;
  }

  std::unique_ptr<Node> unary() {
    if (is_op({"-", "+"})) {
      const Nesting nesting(depth_);
      std::string op = current_.text;
      advance();
      auto node = std::make_unique<Node>();
      node->type = Node::Type::kUnary;
      node->op = op;
      node->args.push_back(unary());
      return deepened(std::move(node));
    }
    return primary();
  }

  std::unique_ptr<Node> field_node(const std::string& name) {
    const Field* field = nullptr;
    if (allow_ids_) {
      field = table_.field_by_id(name);
    }
    if (field == nullptr) {
      field = table_.field_by_name(name);
    }
    if (field == nullptr) {
      throw FormulaError(FormulaError::Kind::kUnknownField, name);
    }
    auto node = std::make_unique<Node>();
    node->type = Node::Type::kField;
    node->field = FieldRef{field->id, std::string(result_type(field->type, field->options)),
                           field->type, field->options};
    return node;
  }

  std::unique_ptr<Node> primary() {
    auto node = std::make_unique<Node>();
    switch (current_.kind) {
      case Token::Kind::kNumber:
        node->literal = Value::of_number(current_.number);
        advance();
        return node;
      case Token::Kind::kString:
        node->literal = Value::of_text(current_.text);
        advance();
        return node;
      case Token::Kind::kField: {
        const std::string name = current_.text;
        advance();
        return field_node(name);
      }
      case Token::Kind::kLParen: {
        advance();
        auto inner = comparison();
        expect(Token::Kind::kRParen, ")");
        return inner;
      }
      case Token::Kind::kIdent: return call_or_name();
      default:
        throw FormulaError(FormulaError::Kind::kSyntax, current_.kind == Token::Kind::kEnd
                                                            ? "unexpected end of formula"
                                                            : "unexpected '" + current_.text + "'");
    }
  }

  void expect(Token::Kind kind, const char* what) {
    if (current_.kind != kind) {
      throw FormulaError(FormulaError::Kind::kSyntax, std::string("expected '") + what + "'");
    }
    advance();
  }

  std::unique_ptr<Node> call_or_name() {
    const std::string name = current_.text;
    advance();
    std::string upper = name;
    for (char& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (current_.kind != Token::Kind::kLParen) {
      if (upper == "TRUE" || upper == "FALSE") {
        auto node = std::make_unique<Node>();
        node->literal = Value::of_bool(upper == "TRUE");
        return node;
      }
      return field_node(name);  // a bare single-word field name
    }
    advance();
    const auto arity = arities().find(upper);
    if (arity == arities().end()) {
      throw FormulaError(FormulaError::Kind::kUnknownFunction, "unknown function " + name);
    }
    auto node = std::make_unique<Node>();
    node->type = Node::Type::kCall;
    node->op = upper;
    if (current_.kind != Token::Kind::kRParen) {
      for (;;) {
        node->args.push_back(comparison());
        if (current_.kind == Token::Kind::kComma) {
          advance();
          continue;
        }
        break;
      }
    }
    expect(Token::Kind::kRParen, ")");
    const int count = static_cast<int>(node->args.size());
    if (count < arity->second.first ||
        (arity->second.second >= 0 && count > arity->second.second)) {
      throw FormulaError(
          FormulaError::Kind::kArity,
          upper + " takes " + std::to_string(arity->second.first) +
              (arity->second.second == arity->second.first ? ""
               : arity->second.second < 0                  ? " or more"
                                          : " to " + std::to_string(arity->second.second)) +
              " arguments, got " + std::to_string(count));
    }
    if (upper == "LAST_MODIFIED_TIME") {
      for (const auto& arg : node->args) {
        if (arg->type != Node::Type::kField) {
          throw FormulaError(FormulaError::Kind::kSyntax,
                             "LAST_MODIFIED_TIME takes field references only");
        }
        node->field_ids.push_back(arg->field.id);
      }
    }
    return deepened(std::move(node));
  }

  Lexer lexer_;
  Token current_;
  const Table& table_;
  bool allow_ids_;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Node> parse(std::string_view text, const Table& table, bool allow_field_ids) {
  Parser parser(text, table, allow_field_ids);
  return parser.parse_all();
}

}  // namespace emu::formula::detail
