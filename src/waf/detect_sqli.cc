// SQL injection detection in the spirit of libinjection: a linear SQL tokenizer, run three
// times (the input as-is, as if it started inside a single-quoted string, and inside a
// double-quoted one), and rules over the token sequences. The rules do not list attack
// strings; they ask whether the input, read from one of those contexts, closes the
// surrounding literal and continues as well-formed SQL that does something (a condition
// with a comparison, a comment swallowing the rest of the query, a stacked statement, a
// UNION SELECT, a time delay). Prose rarely parses as SQL for more than a token or two,
// which is what keeps false positives low. See docs/waf/detectors.md.
#include <array>

#include "waf/detect.h"
#include "waf/detect_internal.h"

namespace eg::waf {
namespace {

using namespace detect;  // byte classes and word tables (detect_internal.h)

// MySQL also separates tokens with 0xA0 (Latin-1 no-break space).
bool sql_blank(unsigned char c) { return is_blank(c) || c == 0xa0; }

enum class Kind : uint8_t {
  End,
  String,
  Number,
  Word,
  Variable,
  Operator,
  Logic,
  Comment,
  Semicolon,
  LParen,
  RParen,
  Comma,
  Dot,
  Other,
};

// The words the rules refer to by name; every other word is Kw::None.
enum class Kw : uint8_t {
  None,
  Select,
  Insert,
  Update,
  Delete,
  Drop,
  Create,
  Alter,
  Truncate,
  Exec,
  Declare,
  Shutdown,
  Waitfor,
  Grant,
  Rename,
  Call,
  Load,
  Set,
  If,
  Begin,
  Union,
  All,
  Distinct,
  Any,
  Some,
  Exists,
  From,
  Where,
  Into,
  Values,
  Order,
  Group,
  By,
  Having,
  Limit,
  Procedure,
  Analyse,
  Outfile,
  Dumpfile,
  Table,
  Database,
  Schema,
  View,
  User,
  Index,
  Function,
  Trigger,
  Login,
  Delay,
  Time,
  Case,
  When,
  Then,
  Else,
  End,
  As,
  Top,
  For,
  Using,
  Data,
  Mysql,
  Char,
  Chr,
  Do,
  Xml,
  And,
  Or,
  Xor,
  Not,
  Like,
  Sounds,
  Is,
  In,
  Between,
  Div,
  Mod,
  Binary,
  Collate,
  Null,
  True,
  False,
  Unknown,
};

enum WordClass : uint8_t {
  kStatement = 1 << 0,  // may start a stacked statement
  kLiteral = 1 << 1,    // NULL, TRUE, ...: an operand on its own
  kFunction = 1 << 2,   // a common SQL function; weak evidence when called
  kTelltale = 1 << 3,   // a function ordinary text never calls (GROUP_CONCAT, VERSION())
  kDangerous = 1 << 4,  // delays, file access, command execution
  kCatalog = 1 << 5,    // system catalog names
  kReserved = 1 << 6,   // cannot be an operand (SELECT, FROM, ...)
};

struct WordInfo {
  std::string_view name;
  Kw kw;
  uint8_t cls;
};

// Sorted by name (checked at compile time below).
constexpr WordInfo kWords[] = {
    {"all", Kw::All, kReserved},
    {"all_tab_columns", Kw::None, kCatalog},
    {"all_tables", Kw::None, kCatalog},
    {"alter", Kw::Alter, kStatement | kReserved},
    {"analyse", Kw::Analyse, 0},
    {"and", Kw::And, 0},
    {"any", Kw::Any, 0},
    {"as", Kw::As, kReserved},
    {"ascii", Kw::None, kTelltale},
    {"avg", Kw::None, kFunction},
    {"begin", Kw::Begin, kStatement},
    {"benchmark", Kw::None, kDangerous},
    {"between", Kw::Between, 0},
    {"bin", Kw::None, kFunction},
    {"binary", Kw::Binary, 0},
    {"by", Kw::By, kReserved},
    {"call", Kw::Call, kStatement},
    {"case", Kw::Case, 0},
    {"cast", Kw::None, kTelltale},
    {"ceil", Kw::None, kFunction},
    {"ceiling", Kw::None, kFunction},
    {"char", Kw::Char, kFunction},
    {"char_length", Kw::None, kFunction},
    {"character_length", Kw::None, kFunction},
    {"charset", Kw::None, kTelltale},
    {"chr", Kw::Chr, kFunction},
    {"coalesce", Kw::None, kFunction},
    {"coercibility", Kw::None, kTelltale},
    {"collate", Kw::Collate, 0},
    {"collation", Kw::None, kTelltale},
    {"concat", Kw::None, kTelltale},
    {"concat_ws", Kw::None, kTelltale},
    {"connection_id", Kw::None, kTelltale},
    {"conv", Kw::None, kFunction},
    {"convert", Kw::None, kTelltale},
    {"cos", Kw::None, kFunction},
    {"count", Kw::None, kFunction},
    {"create", Kw::Create, kStatement | kReserved},
    {"current_database", Kw::None, kTelltale},
    {"current_date", Kw::None, kLiteral},
    {"current_time", Kw::None, kLiteral},
    {"current_timestamp", Kw::None, kLiteral},
    {"current_user", Kw::None, kLiteral | kTelltale},
    {"data", Kw::Data, 0},
    {"database", Kw::Database, kTelltale},
    {"db_name", Kw::None, kTelltale},
    {"dbms_lock", Kw::None, kDangerous},
    {"dbms_pipe", Kw::None, kDangerous},
    {"declare", Kw::Declare, kStatement | kReserved},
    {"delay", Kw::Delay, 0},
    {"delete", Kw::Delete, kStatement | kReserved},
    {"distinct", Kw::Distinct, kReserved},
    {"div", Kw::Div, 0},
    {"do", Kw::Do, kStatement},
    {"drop", Kw::Drop, kStatement | kReserved},
    {"dumpfile", Kw::Dumpfile, 0},
    {"else", Kw::Else, kReserved},
    {"elt", Kw::None, kTelltale},
    {"end", Kw::End, kReserved},
    {"exec", Kw::Exec, kStatement | kReserved},
    {"execute", Kw::Exec, kStatement | kReserved},
    {"exists", Kw::Exists, 0},
    {"exp", Kw::None, kFunction},
    {"extractvalue", Kw::None, kDangerous},
    {"false", Kw::False, kLiteral},
    {"floor", Kw::None, kFunction},
    {"for", Kw::For, kReserved},
    {"found_rows", Kw::None, kTelltale},
    {"from", Kw::From, kReserved},
    {"function", Kw::Function, 0},
    {"get_lock", Kw::None, kDangerous},
    {"grant", Kw::Grant, kStatement | kReserved},
    {"group", Kw::Group, kReserved},
    {"group_concat", Kw::None, kTelltale},
    {"having", Kw::Having, kReserved},
    {"hex", Kw::None, kTelltale},
    {"if", Kw::If, kStatement | kFunction},
    {"ifnull", Kw::None, kTelltale},
    {"iif", Kw::None, kFunction},
    {"in", Kw::In, 0},
    {"index", Kw::Index, 0},
    {"information_schema", Kw::None, kCatalog},
    {"insert", Kw::Insert, kStatement | kReserved},
    {"instr", Kw::None, kFunction},
    {"into", Kw::Into, kReserved},
    {"is", Kw::Is, 0},
    {"isnull", Kw::None, kFunction},
    {"json_keys", Kw::None, kTelltale},
    {"last_insert_id", Kw::None, kTelltale},
    {"left", Kw::None, kFunction},
    {"length", Kw::None, kFunction},
    {"like", Kw::Like, 0},
    {"limit", Kw::Limit, kReserved},
    {"load", Kw::Load, kStatement},
    {"load_file", Kw::None, kDangerous},
    {"localtime", Kw::None, kLiteral},
    {"localtimestamp", Kw::None, kLiteral},
    {"login", Kw::Login, 0},
    {"lower", Kw::None, kFunction},
    {"lpad", Kw::None, kFunction},
    {"make_set", Kw::None, kTelltale},
    {"max", Kw::None, kFunction},
    {"md5", Kw::None, kFunction},
    {"mid", Kw::None, kFunction},
    {"min", Kw::None, kFunction},
    {"mod", Kw::Mod, 0},
    {"msysobjects", Kw::None, kCatalog},
    {"mysql", Kw::Mysql, 0},
    {"name_const", Kw::None, kTelltale},
    {"not", Kw::Not, 0},
    {"now", Kw::None, kFunction},
    {"null", Kw::Null, kLiteral},
    {"nullif", Kw::None, kFunction},
    {"or", Kw::Or, 0},
    {"ord", Kw::None, kFunction},
    {"order", Kw::Order, kReserved},
    {"outfile", Kw::Outfile, 0},
    {"pg_catalog", Kw::None, kCatalog},
    {"pg_shadow", Kw::None, kCatalog},
    {"pg_sleep", Kw::None, kDangerous},
    {"pg_user", Kw::None, kCatalog},
    {"pi", Kw::None, kFunction},
    {"procedure", Kw::Procedure, kReserved},
    {"rand", Kw::None, kFunction},
    {"randomblob", Kw::None, kDangerous},
    {"regexp", Kw::Like, 0},
    {"rename", Kw::Rename, kStatement},
    {"replace", Kw::None, kFunction},
    {"reverse", Kw::None, kFunction},
    {"right", Kw::None, kFunction},
    {"rlike", Kw::Like, 0},
    {"round", Kw::None, kFunction},
    {"row", Kw::None, kFunction},
    {"row_count", Kw::None, kTelltale},
    {"rpad", Kw::None, kFunction},
    {"schema", Kw::Schema, kTelltale},
    {"select", Kw::Select, kStatement | kReserved},
    {"session_user", Kw::None, kLiteral | kTelltale},
    {"set", Kw::Set, kStatement | kReserved},
    {"shutdown", Kw::Shutdown, kStatement},
    {"sin", Kw::None, kFunction},
    {"sleep", Kw::None, kDangerous},
    {"some", Kw::Some, 0},
    {"sounds", Kw::Sounds, 0},
    {"sp_executesql", Kw::None, kDangerous},
    {"sp_oacreate", Kw::None, kDangerous},
    {"sp_password", Kw::None, kDangerous},
    {"sqlite_master", Kw::None, kCatalog},
    {"substr", Kw::None, kTelltale},
    {"substring", Kw::None, kTelltale},
    {"sum", Kw::None, kFunction},
    {"sys_eval", Kw::None, kDangerous},
    {"sys_exec", Kw::None, kDangerous},
    {"syscolumns", Kw::None, kCatalog},
    {"sysdatabases", Kw::None, kCatalog},
    {"sysdate", Kw::None, kFunction},
    {"sysobjects", Kw::None, kCatalog},
    {"system_user", Kw::None, kLiteral | kTelltale},
    {"sysusers", Kw::None, kCatalog},
    {"table", Kw::Table, kReserved},
    {"then", Kw::Then, kReserved},
    {"time", Kw::Time, 0},
    {"top", Kw::Top, 0},
    {"trigger", Kw::Trigger, 0},
    {"true", Kw::True, kLiteral},
    {"truncate", Kw::Truncate, kStatement},
    {"unhex", Kw::None, kTelltale},
    {"union", Kw::Union, kReserved},
    {"unknown", Kw::Unknown, kLiteral},
    {"update", Kw::Update, kStatement | kReserved},
    {"updatexml", Kw::None, kDangerous},
    {"upper", Kw::None, kFunction},
    {"user", Kw::User, kTelltale},
    {"user_tables", Kw::None, kCatalog},
    {"using", Kw::Using, 0},
    {"utc_date", Kw::None, kLiteral},
    {"utc_time", Kw::None, kLiteral},
    {"utc_timestamp", Kw::None, kLiteral},
    {"utl_http", Kw::None, kDangerous},
    {"utl_inaddr", Kw::None, kDangerous},
    {"values", Kw::Values, kReserved},
    {"version", Kw::None, kTelltale},
    {"view", Kw::View, 0},
    {"waitfor", Kw::Waitfor, kStatement},
    {"when", Kw::When, kReserved},
    {"where", Kw::Where, kReserved},
    {"xml", Kw::Xml, 0},
    {"xor", Kw::Xor, 0},
    {"xp_cmdshell", Kw::None, kDangerous},
    {"xp_dirtree", Kw::None, kDangerous},
    {"xp_regread", Kw::None, kDangerous},
};
static_assert(detect::sorted_unique(kWords));

// Token flags; which apply depends on the kind.
constexpr uint8_t kTerminated = 1 << 0;     // String: its closing quote was seen
constexpr uint8_t kContextString = 1 << 1;  // String: the text the input starts inside
constexpr uint8_t kEscapes = 1 << 2;        // String: holds \x or a doubled quote
constexpr uint8_t kGlued = 1 << 0;          // Number: letters follow with no blank
constexpr uint8_t kTruncated = 1 << 0;      // End: the lookahead ran out, not the input
constexpr uint8_t kCall = 1 << 0;           // Word: followed by '(' (a call or keyword-paren)
constexpr uint8_t kQuoted = 1 << 1;         // Word: a `quoted` identifier
constexpr uint8_t kSystem = 1 << 0;         // Variable: @@name
constexpr uint8_t kCompare = 1 << 0;        // Operator: a comparison
constexpr uint8_t kUnary = 1 << 1;          // Operator: may be a prefix operator
constexpr uint8_t kSymbolic = 1 << 2;       // Operator: spelled with symbols (=, <>), not LIKE
constexpr uint8_t kTerminating = 1 << 0;    // Comment: runs to the end of the line or input
constexpr uint8_t kStrong = 1 << 1;         // Comment: "-- " or an unclosed "/*", not "#"

struct Token {
  Kind kind = Kind::End;
  Kw kw = Kw::None;
  uint8_t cls = 0;    // WordClass of a word
  uint8_t flags = 0;  // the k* flags of its kind, above
  char quote = 0;     // String: its quote character
  size_t pos = 0;
  size_t len = 0;
};

// One pass over the input, a token at a time; each byte is looked at a bounded number of
// times. `context_quote` (0, ' or ") says whether the input starts inside a string.
class Lexer {
 public:
  Lexer(std::string_view in, char context_quote) : in_(in), context_quote_(context_quote) {}

  Token next() {
    if (context_quote_ != 0 && pos_ == 0 && !started_) {
      started_ = true;
      return read_string(0, context_quote_, kContextString);
    }
    started_ = true;
    skip_blank();
    Token t;
    t.pos = pos_;
    if (pos_ >= in_.size()) return t;
    const auto c = static_cast<unsigned char>(in_[pos_]);
    const unsigned char c1 = at(pos_ + 1);
    if (c == '\'' || c == '"') return read_string(pos_ + 1, static_cast<char>(c), 0);
    if (c == '`') return read_quoted_identifier();
    if (is_digit(c) || (c == '.' && is_digit(c1))) return read_number();
    if (is_alpha(c) || c == '_' || (c >= 0x80 && c != 0xa0)) return read_word();
    if (c == '@') return read_variable();
    if ((c == '-' && c1 == '-') || c == '#') return read_line_comment(c == '#' ? 1 : 2);
    if (c == '/' && c1 == '*') return read_block_comment();
    switch (c) {
      case ';':
        return single(Kind::Semicolon);
      case '(':
        return single(Kind::LParen);
      case ')':
        return single(Kind::RParen);
      case ',':
        return single(Kind::Comma);
      case '.':
        return single(Kind::Dot);
      default:
        break;
    }
    return read_operator();
  }

 private:
  unsigned char at(size_t i) const {
    return i < in_.size() ? static_cast<unsigned char>(in_[i]) : 0;
  }

  Token make(Kind kind, size_t start, size_t end, uint8_t flags = 0) {
    Token t;
    t.kind = kind;
    t.flags = flags;
    t.pos = start;
    t.len = end - start;
    pos_ = end;
    return t;
  }
  Token single(Kind kind) { return make(kind, pos_, pos_ + 1); }

  // Whitespace, and MySQL's executable comments: "/*!50000 UNION*/" runs the UNION, so the
  // markers are skipped and their content tokenized.
  void skip_blank() {
    for (;;) {
      while (pos_ < in_.size() && sql_blank(at(pos_))) ++pos_;
      if (at(pos_) == '/' && at(pos_ + 1) == '*' && at(pos_ + 2) == '!') {
        pos_ += 3;
        if (is_digit(at(pos_))) ++executable_comments_;
        while (is_digit(at(pos_))) ++pos_;
        continue;
      }
      if (at(pos_) == '*' && at(pos_ + 1) == '/') {
        pos_ += 2;
        continue;
      }
      return;
    }
  }

  // From `body` (just past the opening quote, or 0 for the context string) to the closing
  // quote; a backslash escapes the next byte and a doubled quote stands for one.
  Token read_string(size_t body, char quote, uint8_t flags) {
    size_t i = body;
    while (i < in_.size()) {
      const char c = in_[i];
      if (c == '\\') {
        flags |= kEscapes;
        i += 2;
        continue;
      }
      if (c == quote) {
        if (at(i + 1) == static_cast<unsigned char>(quote)) {
          flags |= kEscapes;
          i += 2;
          continue;
        }
        Token t = make(Kind::String, body == 0 ? 0 : body - 1, i + 1, flags | kTerminated);
        t.quote = quote;
        return t;
      }
      ++i;
    }
    Token t = make(Kind::String, body == 0 ? 0 : body - 1, in_.size(), flags);
    t.quote = quote;
    return t;
  }

  Token read_quoted_identifier() {
    size_t i = pos_ + 1;
    while (i < in_.size() && in_[i] != '`') ++i;
    // An unclosed backtick is text quoting (`like this'), not a name.
    if (i >= in_.size()) return make(Kind::Other, pos_, pos_ + 1);
    const size_t start = pos_;
    const size_t end = i < in_.size() ? i + 1 : in_.size();
    Token t = make(Kind::Word, start, end, kQuoted);
    const size_t inner_end = i < in_.size() ? i : in_.size();
    if (const WordInfo* w =
            detect::find_word<kWords>(in_.substr(start + 1, inner_end - start - 1))) {
      // Only catalog names matter when quoted: `select` is a column named select.
      t.cls = w->cls & kCatalog;
    }
    return t;
  }

  Token read_number() {
    size_t i = pos_;
    if (at(i) == '0' && (at(i + 1) | 0x20) == 'x') {
      i += 2;
      while (is_hex_digit(at(i))) ++i;
      return make(Kind::Number, pos_, i);
    }
    if (at(i) == '0' && (at(i + 1) | 0x20) == 'b' && (at(i + 2) == '0' || at(i + 2) == '1')) {
      i += 2;
      while (at(i) == '0' || at(i) == '1') ++i;
      return make(Kind::Number, pos_, i);
    }
    while (is_digit(at(i))) ++i;
    // 109m, 1108_no_17: MySQL reads digits run into letters as a name.
    if (word_byte(at(i)) && (at(i) | 0x20) != 'e' && at(i) != '.') {
      return make(Kind::Number, pos_, i, kGlued);
    }
    if (at(i) == '.') {
      ++i;
      while (is_digit(at(i))) ++i;
    }
    if ((at(i) | 0x20) == 'e' &&
        (is_digit(at(i + 1)) || ((at(i + 1) == '+' || at(i + 1) == '-') && is_digit(at(i + 2))))) {
      i += 2;
      while (is_digit(at(i))) ++i;
    }
    return make(Kind::Number, pos_, i);
  }

  static bool word_byte(unsigned char c) {
    return is_alnum(c) || c == '_' || c == '$' || (c >= 0x80 && c != 0xa0);
  }

  // Whether '(' follows, across blanks and closed /* */ comments.
  bool paren_follows(size_t i) const {
    for (;;) {
      while (i < in_.size() && sql_blank(at(i))) ++i;
      if (at(i) == '/' && at(i + 1) == '*') {
        const size_t close = in_.find("*/", i + 2);
        if (close == std::string_view::npos) return false;
        i = close + 2;
        continue;
      }
      return at(i) == '(';
    }
  }

  Token read_word() {
    size_t i = pos_;
    while (i < in_.size() && word_byte(at(i))) ++i;
    const size_t start = pos_;
    Token t = make(Kind::Word, start, i);
    if (const WordInfo* w = detect::find_word<kWords>(in_.substr(start, i - start))) {
      t.kw = w->kw;
      t.cls = w->cls;
      if (w->kw == Kw::And || w->kw == Kw::Or || w->kw == Kw::Xor) t.kind = Kind::Logic;
      if (w->kw == Kw::Not || w->kw == Kw::Binary) {
        t.kind = Kind::Operator;
        t.flags |= kUnary;
      }
      if (w->kw == Kw::Div || w->kw == Kw::Mod) t.kind = Kind::Operator;
      if (w->kw == Kw::Like || w->kw == Kw::Sounds || w->kw == Kw::Is || w->kw == Kw::In ||
          w->kw == Kw::Between) {
        t.kind = Kind::Operator;
        t.flags |= kCompare;
      }
    }
    // MOD(a, b) and IF(a, b, c) are calls; the other word operators take a parenthesised
    // operand (IN (1, 2), NOT (x)) and stay operators.
    if (paren_follows(i)) {
      if (t.kind == Kind::Operator && t.kw == Kw::Mod) {
        t.kind = Kind::Word;
        t.flags = 0;
        t.cls = kFunction;
      }
      if (t.kind == Kind::Word) t.flags |= kCall;
    }
    return t;
  }

  Token read_variable() {
    size_t i = pos_ + 1;
    uint8_t flags = 0;
    if (at(i) == '@') {
      flags |= kSystem;
      ++i;
    }
    if (at(i) == '\'' || at(i) == '"' || at(i) == '`') {
      const char q = static_cast<char>(at(i));
      ++i;
      while (i < in_.size() && in_[i] != q) ++i;
      if (i < in_.size()) ++i;
    } else {
      while (i < in_.size() && word_byte(at(i))) ++i;
    }
    return make(Kind::Variable, pos_, i, flags);
  }

  Token read_line_comment(size_t marker) {
    const size_t start = pos_;
    const unsigned char after = at(start + marker);
    uint8_t flags = kTerminating;
    if (marker == 2 && (start + 2 >= in_.size() || is_blank(after) || after == '-')) {
      flags |= kStrong;
    }
    size_t i = start + marker;
    while (i < in_.size() && in_[i] != '\n' && in_[i] != '\r') ++i;
    return make(Kind::Comment, start, i, flags);
  }

  Token read_block_comment() {
    const size_t close = in_.find("*/", pos_ + 2);
    if (close == std::string_view::npos) {
      return make(Kind::Comment, pos_, in_.size(), kTerminating | kStrong);
    }
    return make(Kind::Comment, pos_, close + 2);
  }

  Token read_operator() {
    static constexpr std::string_view kTriples[] = {"<=>"};
    static constexpr std::string_view kPairs[] = {
        "<=", ">=", "<>", "!=", "!<", "!>", "==", "<<", ">>", "||", "&&", ":=", "::"};
    const std::string_view rest = in_.substr(pos_);
    size_t len = 1;
    for (std::string_view op : kTriples) {
      if (rest.starts_with(op)) len = op.size();
    }
    if (len == 1) {
      for (std::string_view op : kPairs) {
        if (rest.starts_with(op)) len = op.size();
      }
    }
    const std::string_view op = rest.substr(0, len);
    const char c = op[0];
    if (op == "||" || op == "&&") return make(Kind::Logic, pos_, pos_ + len);
    uint8_t flags = 0;
    if (op == "=" || op == "<" || op == ">" || op == "<=" || op == ">=" || op == "<>" ||
        op == "!=" || op == "<=>" || op == "!<" || op == "!>" || op == "==") {
      flags |= kCompare | kSymbolic;
    }
    if (len == 1 && (c == '-' || c == '+' || c == '!' || c == '~')) flags |= kUnary;
    static constexpr std::string_view kOperatorBytes = "=<>!~+-*/%^&|:";
    if (kOperatorBytes.find(c) == std::string_view::npos) {
      return make(Kind::Other, pos_, pos_ + 1);
    }
    return make(Kind::Operator, pos_, pos_ + len, flags);
  }

  std::string_view in_;
  char context_quote_;
  size_t pos_ = 0;
  bool started_ = false;
  int executable_comments_ = 0;

 public:
  // "/*!50000 ... */" seen so far: MySQL version comments, which nothing but SQL uses.
  int executable_comments() const { return executable_comments_; }
};

// A sliding window over the token stream: rules look a bounded distance ahead of the
// current token, and every token is lexed once.
class TokenWindow {
 public:
  static constexpr size_t kCapacity = 64;
  static constexpr size_t kLookahead = 56;  // the furthest any rule may peek

  TokenWindow(std::string_view in, char context_quote) : lexer_(in, context_quote) {}

  // The token `offset` places after the current one; End past the input, and End marked
  // kTruncated past the lookahead.
  const Token& at(size_t offset) {
    if (offset >= kLookahead) return truncated_;
    while (count_ <= offset) {
      if (ended_) return end_;
      Token t = lexer_.next();
      if (t.kind == Kind::End) {
        ended_ = true;
        end_ = t;
        return end_;
      }
      ring_[(base_ + count_) % kCapacity] = t;
      ++count_;
    }
    return ring_[(base_ + offset) % kCapacity];
  }

  bool at_end() { return at(0).kind == Kind::End; }
  const Lexer& lexer() const { return lexer_; }

  void advance() {
    if (at_end()) return;
    base_ = (base_ + 1) % kCapacity;
    --count_;
  }

 private:
  Lexer lexer_;
  std::array<Token, kCapacity> ring_{};
  size_t base_ = 0;
  size_t count_ = 0;
  bool ended_ = false;
  Token end_{};
  Token truncated_{Kind::End, Kw::None, 0, kTruncated};
};

// What an operand is, from weakest to strongest evidence of SQL.
enum class Value : uint8_t {
  Invalid,  // not an operand: the text is not SQL here
  Column,   // a bare word: a column name in SQL, any word in prose
  Literal,  // a number, string, NULL, variable, or a common function's result
  Strong,   // a subquery, a system variable, a function only SQL calls
};

// How much a condition says "this is SQL": 3 a comparison of literals (a tautology) or a
// telltale function, 2 a column compared with a literal, 1 a lone literal or a comparison
// of two columns, 0 a lone word.
int comparison_strength(Value a, Value b) {
  if (a == Value::Strong || b == Value::Strong) return 3;
  if (a == Value::Literal && b == Value::Literal) return 3;
  if (a == Value::Literal || b == Value::Literal) return 2;
  return 1;
}
int lone_strength(Value v) {
  switch (v) {
    case Value::Strong:
      return 3;
    case Value::Literal:
      return 1;
    default:
      return 0;
  }
}
Value combine(Value a, Value b) {
  if (a == Value::Invalid || b == Value::Invalid) return Value::Invalid;
  if (a == Value::Strong || b == Value::Strong) return Value::Strong;
  if (a == Value::Column || b == Value::Column) return Value::Column;
  return Value::Literal;
}

// What a parsed expression contained.
struct Facts {
  int conditions = 0;    // top-level conditions joined by AND/OR/XOR
  int max_strength = 0;  // of the strongest condition
  int operators = 0;     // binary operators at any depth
  int calls = 0;         // function calls at any depth
  int columns = 0;       // bare words read as column names
  bool logic = false;    // an AND/OR/XOR at the top level
  bool comparison = false;
  bool symbolic_comparison = false;  // =, <, <>, ... rather than LIKE or IS
  bool strong = false;               // a telltale call, subquery, system variable, catalog or CASE
  bool case_when = false;            // a CASE WHEN ... END
  bool parens = false;
  bool open_string_last = false;  // ends in a string the application's own quote closes

  void absorb(const Facts& inner) {
    operators += inner.operators;
    calls += inner.calls;
    columns += inner.columns;
    comparison |= inner.comparison;
    symbolic_comparison |= inner.symbolic_comparison;
    strong |= inner.strong;
    case_when |= inner.case_when;
    parens |= inner.parens;
  }
};

// Where an injected fragment may stop: the input ends, a statement ends, or a comment
// swallows the rest of the application's query.
bool is_terminal(const Token& t) {
  return (t.kind == Kind::End && !(t.flags & kTruncated)) || t.kind == Kind::Semicolon ||
         (t.kind == Kind::Comment && (t.flags & kTerminating));
}

// A recursive-descent reader of SQL expressions over the window. It never looks further
// than TokenWindow::kLookahead tokens and nests at most kMaxDepth deep; running out of
// either reads as the end of the input (the evidence gathered so far decides).
class ExprParser {
 public:
  ExprParser(TokenWindow& w, std::string_view in, size_t start, char context_quote)
      : w_(w), in_(in), i_(start), context_quote_(context_quote) {}

  // Skips closed /* */ comments, which SQL reads as blanks.
  const Token& peek() {
    while (w_.at(i_).kind == Kind::Comment && !(w_.at(i_).flags & kTerminating)) ++i_;
    return w_.at(i_);
  }
  const Token& peek_after() {
    peek();
    size_t j = i_ + 1;
    while (w_.at(j).kind == Kind::Comment && !(w_.at(j).flags & kTerminating)) ++j;
    return w_.at(j);
  }
  Token take() {
    const Token t = peek();
    if (t.kind != Kind::End) ++i_;
    return t;
  }
  bool exhausted() { return peek().kind == Kind::End; }
  size_t position() {
    peek();
    return i_;
  }

  // cond ((AND|OR|XOR) cond)*; at the top level unmatched ')' may sit between them.
  Value expression(Facts& facts, bool top) {
    Value v = Value::Literal;
    for (int guard = 0; guard < 64; ++guard) {
      int strength = 0;
      const Value c = condition(facts, strength);
      if (c == Value::Invalid) return Value::Invalid;
      v = facts.conditions == 0 ? c : combine(v, c);
      ++facts.conditions;
      facts.max_strength = std::max(facts.max_strength, strength);
      if (top) {  // unmatched ')' closing the application's parentheses
        while (peek().kind == Kind::RParen) take();
      }
      if (peek().kind != Kind::Logic) return v;
      take();
      facts.logic = true;
      ++facts.operators;
    }
    return v;
  }

  // One operand with its prefix operators; Invalid when none starts here.
  Value operand(Facts& facts) { return unary(facts); }

  // Operands joined by operators, comparisons among them: a + 1 = b, x IS NOT NULL,
  // x [NOT] IN (...), x [NOT] BETWEEN a AND b, x SOUNDS LIKE y, x = ANY (SELECT ...).
  Value condition(Facts& facts, int& strength) {
    Value v = arithmetic(facts);
    if (v == Value::Invalid) return v;
    strength = lone_strength(v);
    for (int guard = 0; guard < 64; ++guard) {
      const Token t = peek();
      if (t.kind != Kind::Operator) return v;
      if (t.kw == Kw::Not && (peek_after().kw == Kw::Like || peek_after().kw == Kw::In ||
                              peek_after().kw == Kw::Between)) {
        take();
        continue;
      }
      if (!(t.flags & kCompare)) return v;
      take();
      ++facts.operators;
      facts.comparison = true;
      if (t.flags & kSymbolic) facts.symbolic_comparison = true;
      Value rhs = Value::Invalid;
      if (t.kw == Kw::Is) {
        if (peek().kw == Kw::Not) take();
        rhs = arithmetic(facts);
      } else if (t.kw == Kw::In) {
        if (peek().kind == Kind::LParen) rhs = primary(facts);
      } else if (t.kw == Kw::Sounds) {
        if (peek().kw == Kw::Like) {
          take();
          rhs = arithmetic(facts);
        }
      } else if (t.kw == Kw::Between) {
        rhs = arithmetic(facts);
        if (peek().kind != Kind::Logic || peek().kw != Kw::And) return Value::Invalid;
        take();
        rhs = combine(rhs, arithmetic(facts));
      } else {
        if (peek().kw == Kw::Any || peek().kw == Kw::Some || peek().kw == Kw::All) take();
        rhs = arithmetic(facts);
      }
      if (rhs == Value::Invalid) return rhs;
      strength = std::max(strength, comparison_strength(v, rhs));
      v = combine(v, rhs);
    }
    return v;
  }

 private:
  static constexpr int kMaxDepth = 12;

  char byte(const Token& t) const { return t.pos < in_.size() ? in_[t.pos] : '\0'; }

  // unary (op unary)* for arithmetic, bitwise and string operators.
  Value arithmetic(Facts& facts) {
    Value v = unary(facts);
    for (int guard = 0; guard < 64; ++guard) {
      if (v == Value::Invalid) return v;
      const Token t = peek();
      if (t.kw == Kw::Collate) {
        take();
        if (peek().kind != Kind::Word) return Value::Invalid;
        take();
        continue;
      }
      if (t.kind != Kind::Operator || (t.flags & kCompare) || t.kw == Kw::Not ||
          t.kw == Kw::Binary) {
        return v;
      }
      const char c = byte(t);
      if (t.len == 1 && (c == '!' || c == '~')) return v;
      take();
      ++facts.operators;
      if (t.len == 2 && c == ':') {  // PostgreSQL cast: x::text
        if (peek().kind != Kind::Word) return Value::Invalid;
        take();
        continue;
      }
      v = combine(v, unary(facts));
    }
    return v;
  }

  Value unary(Facts& facts) {
    for (int guard = 0; guard < 16 && peek().kind == Kind::Operator && (peek().flags & kUnary);
         ++guard) {
      take();
    }
    return primary(facts);
  }

  Value primary(Facts& facts) {
    if (depth_ >= kMaxDepth) return Value::Literal;
    const Token t = peek();
    switch (t.kind) {
      case Kind::Number:
        take();
        if ((t.flags & kGlued) && peek().kind == Kind::Word && !(peek().cls & kReserved) &&
            peek().pos == t.pos + t.len) {
          take();
          ++facts.columns;
          return Value::Column;
        }
        return Value::Literal;
      case Kind::String: {
        // Adjacent literals concatenate: 'a' 'b' is 'ab'.
        Token last = take();
        for (int guard = 0; guard < 8 && peek().kind == Kind::String; ++guard) last = take();
        if (!(last.flags & kTerminated) && !(last.flags & kEscapes) &&
            last.quote == context_quote_) {
          facts.open_string_last = true;
        }
        return Value::Literal;
      }
      case Kind::Variable:
        take();
        if (!(t.flags & kSystem)) return Value::Literal;
        facts.strong = true;
        return Value::Strong;
      case Kind::LParen:
        return parenthesised(facts, Value::Literal);
      case Kind::Word:
        return word(facts);
      case Kind::Operator:
        if (t.len == 1 && byte(t) == '*') {  // COUNT(*), SELECT *
          take();
          ++facts.columns;
          return Value::Column;
        }
        return Value::Invalid;
      case Kind::Other:
        // MySQL's \N is NULL.
        if (byte(t) == '\\' && t.pos + 1 < in_.size() && in_[t.pos + 1] == 'N') {
          take();
          take();
          return Value::Literal;
        }
        return Value::Invalid;
      default:
        return Value::Invalid;
    }
  }

  Value word(Facts& facts) {
    const Token t = take();
    if (t.kw == Kw::Case) {
      const Value v = case_expression();
      if (v == Value::Strong) facts.strong = facts.case_when = true;
      return v;
    }
    if (t.flags & kCall) {
      if (t.kw == Kw::Exists || t.kw == Kw::Any || t.kw == Kw::Some) {
        return parenthesised(facts, Value::Strong);
      }
      if (t.cls & kReserved) return Value::Invalid;
      ++facts.calls;
      Value result = Value::Column;  // an unknown function
      if (t.cls & (kTelltale | kDangerous)) {
        result = Value::Strong;
        facts.strong = true;
      } else if (t.cls & kFunction) {
        result = Value::Literal;
      }
      const bool char_code =
          (t.kw == Kw::Char || t.kw == Kw::Chr) && peek_after().kind == Kind::Number;
      const Value args = parenthesised(facts, result);
      if (args == Value::Invalid) return args;
      if (char_code) facts.strong = true;
      if (char_code || args == Value::Strong) return Value::Strong;
      return result;
    }
    if (t.cls & kLiteral) return Value::Literal;
    if (t.cls & kReserved) return Value::Invalid;
    // Qualified names: db.table.column, master..sysdatabases, dbms_pipe.receive_message(...).
    Value v = Value::Column;
    if (t.cls & kCatalog) v = Value::Strong;
    for (int guard = 0; guard < 8 && peek().kind == Kind::Dot; ++guard) {
      take();
      if (peek().kind == Kind::Dot) continue;
      if (peek().kind != Kind::Word || (peek().cls & kReserved)) break;
      const Token part = take();
      if (part.cls & kCatalog) v = Value::Strong;
      if (part.flags & kCall) {
        ++facts.calls;
        return parenthesised(facts, v);
      }
    }
    if (v == Value::Strong) {
      facts.strong = true;
    } else {
      ++facts.columns;
    }
    return v;
  }

  // '(' then a subquery, or a comma-separated list of expressions (arguments, IN lists,
  // rows), each optionally followed by the AS/USING/FROM/FOR parts of CAST, CONVERT and
  // SUBSTRING; then ')'. The end of the input closes it.
  Value parenthesised(Facts& facts, Value result) {
    if (peek().kind != Kind::LParen) return Value::Invalid;
    take();
    facts.parens = true;
    if (peek().kw == Kw::Select) {
      skip_subquery();
      facts.strong = true;
      return Value::Strong;
    }
    if (peek().kind == Kind::RParen) {
      take();
      return result;
    }
    ++depth_;
    Value inner = Value::Literal;
    for (int guard = 0; guard < 64; ++guard) {
      Facts inner_facts;
      Value v = expression(inner_facts, false);
      facts.absorb(inner_facts);
      if (v == Value::Invalid) {
        --depth_;
        return v;
      }
      if (inner_facts.max_strength >= 3) v = Value::Strong;
      inner = guard == 0 ? v : combine(inner, v);
      for (int part = 0; part < 4; ++part) {
        const Kw kw = peek().kw;
        if (kw != Kw::As && kw != Kw::Using && kw != Kw::From && kw != Kw::For) break;
        take();
        if (peek().kind == Kind::Word && !(peek().cls & kReserved) && !(peek().flags & kCall)) {
          take();
        } else {
          Facts more;
          if (expression(more, false) == Value::Invalid) {
            --depth_;
            return Value::Invalid;
          }
          facts.absorb(more);
        }
      }
      if (peek().kind != Kind::Comma) break;
      take();
    }
    --depth_;
    if (peek().kind == Kind::RParen) {
      take();
    } else if (!exhausted()) {
      return Value::Invalid;
    }
    if (inner == Value::Strong) return Value::Strong;
    return result == Value::Literal ? inner : result;
  }

  // Past a SELECT inside parentheses, to its closing ')'.
  void skip_subquery() {
    int depth = 1;
    while (!exhausted()) {
      const Token t = take();
      if (t.kind == Kind::LParen) ++depth;
      if (t.kind == Kind::RParen && --depth == 0) return;
    }
  }

  // CASE ... WHEN ... END, read loosely; the input may end before END.
  Value case_expression() {
    bool when = false;
    while (!exhausted()) {
      const Token t = take();
      if (t.kw == Kw::When) when = true;
      if (t.kw == Kw::End) return when ? Value::Strong : Value::Invalid;
      if (t.kind == Kind::Semicolon) return Value::Invalid;
    }
    return when ? Value::Strong : Value::Invalid;
  }

  TokenWindow& w_;
  std::string_view in_;
  size_t i_;
  char context_quote_;
  int depth_ = 0;
};

// A select list read loosely, the way libinjection tolerates unbalanced parentheses.
struct SelectList {
  bool valid = false;    // reads as a select list
  bool literal = false;  // selects numbers, strings, calls or variables
  bool star = false;     // selects '*'
  bool from = false;     // followed by FROM and a source
};

// One reading of the input (as-is, or from inside a quoted string) and the rules over it.
class Scan {
 public:
  Scan(std::string_view in, char context_quote, Sensitivity s)
      : in_(in), quote_(context_quote), high_(s == Sensitivity::High), w_(in, context_quote) {}

  bool injection() {
    if (anchored()) return true;
    Token previous{};  // kind End: the start of the input
    while (!w_.at_end()) {
      const Token t = w_.at(0);
      if (t.kind != Kind::Comment) {
        if (at_token(t, previous)) return true;
        previous = t;
      }
      w_.advance();
    }
    return w_.lexer().executable_comments() > 0;
  }

 private:
  ExprParser parser(size_t start) { return ExprParser(w_, in_, start, quote_); }

  // The next token at or after `j` that is not a comment.
  size_t significant(size_t j) {
    while (w_.at(j).kind == Kind::Comment) ++j;
    return j;
  }
  bool text_starts(const Token& t, std::string_view prefix) {
    return t.len >= prefix.size() && detect::has_word_at(in_, t.pos, prefix);
  }

  // The input read from its first byte: does it close the literal it was placed in (a
  // string, or a number) and go on as SQL? Modelled on libinjection's fingerprints.
  bool anchored() {
    const Token first = w_.at(0);
    if (quote_ != 0 && !(first.kind == Kind::String && (first.flags & kTerminated))) return false;
    ExprParser p = parser(0);
    Facts f;
    // "AND 1=1" with no value before it: the application supplied the left side.
    const bool leading_logic = quote_ == 0 && first.kind == Kind::Logic;
    if (leading_logic) p.take();
    if (p.expression(f, true) == Value::Invalid) return false;
    if (leading_logic) {
      f.logic = true;
      ++f.operators;
    }
    const Token end = p.peek();
    const bool single = f.conditions == 1 && f.operators == 0;

    if (end.kind == Kind::Comment) return before_comment(f, end, single);
    if (is_terminal(end) && end.kind != Kind::Comment) {
      // x' OR 'a'='a : the application's own closing quote completes the injection.
      if (quote_ != 0 && f.open_string_last && completes_string(f)) return true;
      if (f.logic) return f.max_strength >= logic_threshold();
      if (quote_ != 0) return false;
      // ASCII(SUBSTRING(VERSION(), 1, 1)), DATABASE() LIKE SCHEMA(); HIGH also 1=1.
      if (f.strong && (f.calls >= 2 || f.operators >= 1 || f.case_when)) return true;
      return high_ && f.max_strength >= 3;
    }
    if (end.kind == Kind::Word) {
      // x' AND 1=0 UNION ...: a condition, then the next clause.
      if ((end.cls & kReserved) && f.logic && f.max_strength >= logic_threshold()) return true;
      if (clause(p, f, single, 0)) return true;
    }
    // 11 AND ASCII(SUBSTRING(USER(),1,1))=109m: blind-injection probes with junk after.
    return f.logic && f.strong && f.max_strength >= 3;
  }

  // How strong the strongest condition after AND/OR must be when the input ends there:
  // x' OR 1 (HIGH), 1 OR x=1 (HIGH), x' OR a=1, 1 OR 1=1.
  int logic_threshold() const {
    if (quote_ == '\'') return high_ ? 1 : 2;
    if (quote_ == '"') return 2;
    return high_ ? 2 : 3;
  }

  // The injection ends in a comment that swallows the rest of the query: admin'--.
  bool before_comment(const Facts& f, const Token& comment, bool single) {
    const bool hash = in_[comment.pos] == '#';
    if (quote_ != 0) {
      if (single) {
        if (comment.flags & kStrong) return true;
        // admin'# , but not FOO BAR'# BLAH or SOAP 1 '#.
        const size_t quote = w_.at(0).len - 1;
        return high_ && hash && blank(comment.pos + 1, comment.pos + comment.len) && quote > 0 &&
               !is_blank(static_cast<unsigned char>(in_[quote - 1]));
      }
      return f.max_strength >= 2 || (f.max_strength >= 1 && (!hash || high_));
    }
    if (f.logic && f.max_strength >= (high_ ? 1 : 2)) return true;
    const Token first = w_.at(0);
    const bool literal_start = first.kind != Kind::Word && first.kind != Kind::String;
    // ((1))-- , 1 OR (1 OR 1)-- : literals closing the application's parentheses.
    if (f.columns == 0 && literal_start && (comment.flags & kStrong) && (f.parens || f.logic)) {
      return true;
    }
    if (!high_) return false;
    // 1=1-- , 1--, @@version/* (not TRUE#LAST)
    return (!single && f.max_strength >= 3) || (f.columns == 0 && literal_start);
  }

  bool blank(size_t from, size_t to) const {
    for (size_t i = from; i < to && i < in_.size(); ++i) {
      if (!is_blank(static_cast<unsigned char>(in_[i]))) return false;
    }
    return true;
  }

  // Whether an expression that ends inside the application's closing quote is an
  // injection. Double quotes are common in text (inches, quotations), so there it takes
  // a real comparison or condition; single quotes take any operator at HIGH ('^', '&').
  bool completes_string(const Facts& f) const {
    if (f.operators == 0) return false;
    if (quote_ == '"') return f.symbolic_comparison || (f.logic && f.max_strength >= 2);
    return f.comparison || f.logic || (high_ && f.operators <= 3);
  }

  // What may follow an expression that closed its literal: ORDER BY 1, GROUP BY ...
  // HAVING 1=1, WHERE, LIMIT, PROCEDURE ANALYSE, INTO OUTFILE, or a statement of its own
  // (SQL Server needs no ';' between statements).
  bool clause(ExprParser& p, const Facts& f, bool single, int depth) {
    if (depth > 3) return false;
    const size_t at = p.position();
    const Token t = p.take();
    const bool numeric = quote_ != 0 || f.columns == 0;
    if ((t.cls & kStatement) && t.kw != Kw::Select) return statement(at, false);
    switch (t.kw) {
      case Kw::Order:
      case Kw::Group: {
        if (p.peek().kw != Kw::By) return false;
        p.take();
        const Token key = p.peek();
        Facts keys;
        bool strong_key = false;
        for (int guard = 0; guard < 16; ++guard) {
          const Value v = p.expression(keys, false);
          if (v == Value::Invalid) return false;
          strong_key |= v == Value::Strong;
          if (p.peek().kind != Kind::Comma) break;
          p.take();
        }
        // GROUP BY CONCAT(VERSION(), FLOOR(RAND(0)*2)), ORDER BY IF(1<2, a, b)
        if (keys.strong || strong_key) return true;
        const Token next = p.peek();
        if (next.kind == Kind::Word) {
          return clause(p, f, false, depth + 1) || (key.kind == Kind::Number && numeric);
        }
        if (!is_terminal(next)) return false;
        if (key.kind == Kind::Number) return numeric || high_;
        return high_ && quote_ != 0;
      }
      case Kw::Having:
      case Kw::Where: {
        Facts condition;
        if (p.expression(condition, false) == Value::Invalid) return false;
        const Token next = p.peek();
        if (!is_terminal(next) && !(next.cls & kReserved)) return false;
        // HIGH: HAVING (1 OR 1), but not WHERE'S GEORGE.
        return condition.max_strength >= 2 || condition.strong ||
               (high_ && condition.max_strength >= 1 && condition.operators >= 1);
      }
      case Kw::Limit: {
        if (p.take().kind != Kind::Number) return false;
        if (p.peek().kind == Kind::Comma) {
          p.take();
          if (p.take().kind != Kind::Number) return false;
        }
        return is_terminal(p.peek()) && (numeric || high_) && single;
      }
      case Kw::Procedure:
        return p.peek().kw == Kw::Analyse;
      case Kw::Into:
        return p.peek().kw == Kw::Outfile || p.peek().kw == Kw::Dumpfile;
      default:
        return false;
    }
  }

  // Rules that hold wherever they occur: UNION SELECT, a stacked statement, a delay
  // function, a system catalog, a subquery.
  bool at_token(const Token& t, const Token& previous) {
    switch (t.kind) {
      case Kind::Semicolon:
        return statement(significant(1), false);
      case Kind::Variable:
        return (t.flags & kSystem) && t.len >= 5;  // @@version
      case Kind::Logic:
        return high_ && tautology(significant(1));
      case Kind::Word:
        break;
      default:
        return false;
    }
    if (t.flags & kQuoted) return (t.cls & kCatalog) && (high_ || previous.kw == Kw::From);
    if (previous.kind == Kind::End && quote_ == 0 && (t.cls & kStatement) && statement(0, true)) {
      return true;
    }
    const Token next = w_.at(significant(1));
    switch (t.kw) {
      case Kw::Union:
        return union_select(previous);
      case Kw::Select:
        return select(previous);
      case Kw::Waitfor:
        return waitfor(significant(1));
      case Kw::Into:
        return next.kw == Kw::Outfile || next.kw == Kw::Dumpfile;
      case Kw::Exec:
        return next.kind == Kind::Word && (text_starts(next, "xp_") || text_starts(next, "sp_") ||
                                           text_starts(next, "master"));
      case Kw::Mysql:  // mysql.user
        return next.kind == Kind::Dot && w_.at(significant(significant(1) + 1)).kw == Kw::User;
      default:
        break;
    }
    if (t.cls & kDangerous) return dangerous(t);
    if (t.cls & kCatalog) return high_ || previous.kw == Kw::From || next.kind == Kind::Dot;
    return false;
  }

  bool union_select(const Token& previous) {
    size_t j = significant(1);
    for (int guard = 0; guard < 8; ++guard) {
      const Token& n = w_.at(j);
      if (n.kw != Kw::All && n.kw != Kw::Distinct && n.kind != Kind::LParen) break;
      j = significant(j + 1);
    }
    if (w_.at(j).kw == Kw::Select) return true;
    // HIGH: "-1 UNION" probing, or UNION with a mangled SELECT.
    const Token& next = w_.at(significant(1));
    return high_ &&
           (previous.kind == Kind::Number || previous.kind == Kind::RParen ||
            previous.kind == Kind::String) &&
           (next.kind == Kind::End || next.kind == Kind::Number || next.kind == Kind::Operator ||
            next.kind == Kind::Comma || next.kind == Kind::LParen);
  }

  bool waitfor(size_t j) {
    const Token& what = w_.at(j);
    if (what.kw != Kw::Delay && what.kw != Kw::Time) return false;
    return w_.at(significant(j + 1)).kind == Kind::String;
  }

  // SLEEP(5), BENCHMARK(...), xp_cmdshell, dbms_pipe.receive_message(...).
  bool dangerous(const Token& t) {
    if (!(t.flags & kCall)) {
      if (text_starts(t, "xp_") || text_starts(t, "sp_")) return true;
      // dbms_pipe.receive_message, utl_inaddr.get_host_address (not benchmark.cpp)
      return (text_starts(t, "dbms_") || text_starts(t, "utl_")) &&
             w_.at(significant(1)).kind == Kind::Dot;
    }
    ExprParser p = parser(0);
    Facts f;
    if (p.operand(f) == Value::Invalid) return false;
    // Not "sleep(well)" or "Benchmark (micro)": the first argument must be more than a word.
    const Token& arg = w_.at(significant(significant(1) + 1));
    return !(arg.kind == Kind::Word && arg.cls == 0 && !(arg.flags & kCall));
  }

  // Whether the statement starting at token j (after a ';', after a closed literal, or as
  // the whole input) does something. Each keyword needs its own continuation: ";SET
  // SWAROVSKI" is not SQL. At the start of the input the bar is higher still.
  bool statement(size_t j, bool at_start) {
    const Token t = w_.at(j);
    const size_t n1 = significant(j + 1);
    const size_t n2 = significant(n1 + 1);
    const Token a = w_.at(n1);
    const Token b = w_.at(n2);
    const Token c = w_.at(significant(n2 + 1));
    const bool plain_a = a.kind == Kind::Word && !(a.cls & kReserved);
    switch (t.kw) {
      case Kw::Select: {
        if (at_start) return false;
        const SelectList list = select_list(j);
        return list.valid && (list.literal || list.star || list.from);
      }
      case Kw::Drop:
      case Kw::Create:
      case Kw::Alter:
      case Kw::Truncate:
        if (a.kw == Kw::Table || a.kw == Kw::Database || a.kw == Kw::Schema || a.kw == Kw::View ||
            a.kw == Kw::Procedure || a.kw == Kw::Function || a.kw == Kw::User ||
            a.kw == Kw::Index || a.kw == Kw::Trigger || a.kw == Kw::Login) {
          return true;
        }
        return !at_start && (t.kw == Kw::Drop || t.kw == Kw::Truncate) && plain_a && is_terminal(b);
      case Kw::Insert:
        // At the start: INSERT INTO t (...) / VALUES / SELECT, not "Insert into the slot".
        return a.kw == Kw::Into &&
               (!at_start || c.kind == Kind::LParen || c.kw == Kw::Values || c.kw == Kw::Select);
      case Kw::Update: {
        if (!plain_a || b.kw != Kw::Set) return false;
        const Token d = w_.at(significant(significant(n2 + 1) + 1));
        return !at_start || (c.kind == Kind::Word && (d.flags & kCompare));
      }
      case Kw::Delete:
        // At the start: DELETE FROM t WHERE ..., not "Delete from my account please".
        if (at_start) return a.kw == Kw::From && (is_terminal(c) || c.kw == Kw::Where);
        return a.kw == Kw::From || (plain_a && b.kw == Kw::From);
      case Kw::Exec:
        if (a.kind == Kind::LParen) {
          const Kind arg = w_.at(significant(n1 + 1)).kind;
          return !at_start || arg == Kind::Variable || arg == Kind::String;
        }
        return (!at_start && a.kind == Kind::Variable) ||
               (a.kind == Kind::Word && (text_starts(a, "xp_") || text_starts(a, "sp_") ||
                                         text_starts(a, "master") || (a.cls & kDangerous)));
      case Kw::Declare:
        return a.kind == Kind::Variable;
      case Kw::Shutdown:
        return !at_start && (is_terminal(a) || a.kw == Kw::End || a.kw == Kw::None);
      case Kw::Waitfor:
        return waitfor(n1);
      case Kw::Set:
        return a.kind == Kind::Variable && (!at_start || (b.flags & kCompare));
      case Kw::If:
        return !at_start && if_statement(j);
      case Kw::Do:
        return !at_start && a.kind == Kind::LParen;
      case Kw::Call:
        return !at_start && a.kind == Kind::Word && (a.flags & kCall);
      case Kw::Load:
        return a.kw == Kw::Data || a.kw == Kw::Xml;
      case Kw::Begin:
        return !at_start && (a.cls & kStatement) && a.kw != Kw::Begin && statement(n1, false);
      case Kw::Grant:
      case Kw::Rename:
        return a.kind == Kind::Word && (a.cls & kReserved);
      default:
        return false;
    }
  }

  // IF(1=1, SLEEP(5), 0) or IF 1=1 SHUTDOWN; not "; if not, write to ...".
  bool if_statement(size_t j) {
    ExprParser p = parser(j);
    Facts f;
    if (w_.at(j).flags & kCall) {
      return p.operand(f) != Value::Invalid && (f.comparison || f.strong);
    }
    p.take();
    int strength = 0;
    if (p.condition(f, strength) == Value::Invalid || strength < 2) return false;
    const size_t next = p.position();
    return (w_.at(next).cls & kStatement) && statement(next, false);
  }

  // Reads the select list after the SELECT at j loosely: tokens up to FROM, failing on
  // prose (three bare words in a row) and on keywords that cannot appear there.
  SelectList select_list(size_t j) {
    SelectList r;
    int depth = 0;
    int words_in_row = 0;
    size_t k = significant(j + 1);
    for (int guard = 0; guard < 48; ++guard, k = significant(k + 1)) {
      const Token t = w_.at(k);
      switch (t.kind) {
        case Kind::End:
        case Kind::Semicolon:
          r.valid = true;
          return r;
        case Kind::Number:
        case Kind::String:
        case Kind::Variable:
          r.literal = true;
          words_in_row = 0;
          break;
        case Kind::Word:
          // Clause words end the list even inside unbalanced parentheses.
          if (t.kw == Kw::From) {
            const Token source = w_.at(significant(k + 1));
            r.from = source.kind == Kind::Word || source.kind == Kind::LParen;
            r.valid = r.from;
            return r;
          }
          if ((t.flags & kCall) || (t.cls & kLiteral) || t.kw == Kw::Case || t.kw == Kw::When ||
              t.kw == Kw::Then || t.kw == Kw::Else || t.kw == Kw::End) {
            r.literal = true;
            words_in_row = 0;
            break;
          }
          if (t.kw == Kw::As || t.kw == Kw::Distinct || t.kw == Kw::All || t.kw == Kw::Top) {
            words_in_row = 0;
            break;
          }
          if (t.kw == Kw::Union || t.kw == Kw::Into || t.kw == Kw::Where || t.kw == Kw::Limit ||
              t.kw == Kw::Order || t.kw == Kw::Group || t.kw == Kw::Having) {
            r.valid = true;
            return r;
          }
          if ((t.cls & kReserved) || ++words_in_row > 2) return r;
          break;
        case Kind::LParen:
          ++depth;
          words_in_row = 0;
          break;
        case Kind::RParen:
          if (--depth < 0) {
            r.valid = true;
            return r;
          }
          words_in_row = 0;
          break;
        case Kind::Operator:
          if (t.len == 1 && in_[t.pos] == '*') r.star = true;
          words_in_row = 0;
          break;
        case Kind::Comma:
        case Kind::Logic:
          words_in_row = 0;
          break;
        case Kind::Dot:
          if (words_in_row > 0) --words_in_row;  // a.b is one name
          break;
        default:
          return r;
      }
    }
    r.valid = true;  // ran past the lookahead still reading a select list
    return r;
  }

  // A SELECT somewhere in the input. After '(', UNION, an operator or a condition it is a
  // subquery and a select list is enough; elsewhere it must read FROM something and, at
  // LOW, select more than bare words ("select x from y" is English too).
  bool select(const Token& previous) {
    const SelectList list = select_list(0);
    if (!list.valid) return false;
    const bool selects = list.literal || list.star;
    if (previous.kind == Kind::LParen) return selects || list.from || high_;
    if (previous.kind == Kind::Operator || previous.kind == Kind::Logic) {
      return selects || list.from;
    }
    // Elsewhere a whole query: "select * from inventory" in a JSON body is a query the
    // user typed, not an injection, unless it selects values (1, 'x', version()).
    if (list.literal && list.from) return true;
    if (!high_) return false;
    return list.from || (previous.kind == Kind::End && selects);
  }

  // HIGH: OR 1=1, AND 'a'='a' anywhere in the input.
  bool tautology(size_t j) {
    ExprParser p = parser(j);
    Facts f;
    int strength = 0;
    if (p.condition(f, strength) == Value::Invalid) return false;
    return strength >= 3 && f.comparison;
  }

  std::string_view in_;
  char quote_;
  bool high_;
  TokenWindow w_;
};

}  // namespace

bool sqli_match(std::string_view input, Sensitivity s) {
  if (input.empty()) return false;
  if (Scan(input, 0, s).injection()) return true;
  if (input.find('\'') != std::string_view::npos && Scan(input, '\'', s).injection()) return true;
  if (input.find('"') != std::string_view::npos && Scan(input, '"', s).injection()) return true;
  return false;
}

}  // namespace eg::waf
