// Statements that inspect one field's transformed text: ByteMatch, RegexMatch,
// RegexPatternSetReference, SizeConstraint, SqliMatch, XssMatch.
#include <cstring>

#include "waf/detect.h"
#include "waf/statements/statements.h"

namespace eg::waf {

namespace {

// The shared shape: a field, and a test applied to each of its items (any match wins).
template <typename Test>
class FieldStatement : public Statement {
 public:
  FieldStatement(const FieldSpec& f, Test t) : field_(f), test_(std::move(t)) {}
  bool matches(EvalContext& ctx) const override {
    const FieldValues& v = ctx.field(field_);
    if (v.forced != FieldValues::Forced::No) return v.forced == FieldValues::Forced::Match;
    for (const auto& item : v.items)
      if (test_(item)) return true;
    return false;
  }

 private:
  const FieldSpec& field_;
  Test test_;
};

template <typename Test>
std::unique_ptr<Statement> make(const FieldSpec& f, Test t) {
  return std::make_unique<FieldStatement<Test>>(f, std::move(t));
}

bool is_word_char(unsigned char c) { return std::isalnum(c) || c == '_'; }

enum class Position : uint8_t { Exactly, StartsWith, EndsWith, Contains, ContainsWord };

bool byte_match(std::string_view hay, std::string_view needle, Position pos) {
  switch (pos) {
    case Position::Exactly:
      return hay == needle;
    case Position::StartsWith:
      return hay.starts_with(needle);
    case Position::EndsWith:
      return hay.ends_with(needle);
    case Position::Contains:
      return hay.find(needle) != std::string_view::npos;
    case Position::ContainsWord:
      // The search string appears bounded by non-word characters or the ends (§3.2).
      for (size_t at = hay.find(needle); at != std::string_view::npos;
           at = hay.find(needle, at + 1)) {
        bool left = at == 0 || !is_word_char(hay[at - 1]);
        size_t end = at + needle.size();
        bool right = end == hay.size() || !is_word_char(hay[end]);
        if (left && right) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

std::unique_ptr<Statement> parse_byte_match(const JNode& body, Compiler& c, const Place&) {
  body.only({"SearchString", "FieldToMatch", "TextTransformations", "PositionalConstraint",
             "PreParseTextTransformations"});
  auto pc = body.choice("PositionalConstraint",
                        {"EXACTLY", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "CONTAINS_WORD"});
  Position pos = pc == "EXACTLY"       ? Position::Exactly
                 : pc == "STARTS_WITH" ? Position::StartsWith
                 : pc == "ENDS_WITH"   ? Position::EndsWith
                 : pc == "CONTAINS"    ? Position::Contains
                                       : Position::ContainsWord;
  std::string needle = c.search_string(body.at("SearchString"));
  if (needle.size() > 200)
    body.at("SearchString")
        .fail("is " + std::to_string(needle.size()) + " bytes; AWS allows at most 200");
  if (needle.empty() && pos != Position::Exactly) body.at("SearchString").fail("must not be empty");
  if (pos == Position::ContainsWord)
    for (unsigned char ch : needle)
      if (!is_word_char(ch))
        body.at("SearchString")
            .fail("CONTAINS_WORD needs a search string of A-Z, a-z, 0-9 and _ only");
  FieldParseOptions o;
  o.allow_ja3_ja4 = pos == Position::Exactly;
  const FieldSpec& f = c.field(body, o);
  return make(f, [needle = std::move(needle), pos](std::string_view item) {
    return byte_match(item, needle, pos);
  });
}

std::unique_ptr<Statement> parse_regex_match(const JNode& body, Compiler& c, const Place&) {
  body.only({"RegexString", "FieldToMatch", "TextTransformations", "PreParseTextTransformations"});
  std::shared_ptr<RE2> re = c.regex(body.at("RegexString"));
  const FieldSpec& f = c.field(body);
  // RE2::Match directly: PartialMatch's argument plumbing costs more than a short match.
  return make(f, [re](std::string_view item) {
    return re->Match(item, 0, item.size(), RE2::UNANCHORED, nullptr, 0);
  });
}

std::unique_ptr<Statement> parse_regex_pattern_set_reference(const JNode& body, Compiler& c,
                                                             const Place&) {
  body.only({"ARN", "FieldToMatch", "TextTransformations", "PreParseTextTransformations"});
  const RegexSet* set = &c.regex_set(body.at("ARN"));
  const FieldSpec& f = c.field(body);
  return make(f, [set](std::string_view item) {
    for (const auto& re : set->patterns)
      if (re->Match(item, 0, item.size(), RE2::UNANCHORED, nullptr, 0)) return true;
    return false;
  });
}

std::unique_ptr<Statement> parse_size_constraint(const JNode& body, Compiler& c, const Place&) {
  body.only({"FieldToMatch", "ComparisonOperator", "Size", "TextTransformations",
             "PreParseTextTransformations"});
  auto op = body.choice("ComparisonOperator", {"EQ", "NE", "LE", "LT", "GE", "GT"});
  int64_t size = body.integer("Size", 0, 21474836480LL);
  const FieldSpec& f = c.field(body);
  return make(f, [op = op[0] == 'E'   ? 0
                       : op[0] == 'N' ? 1
                       : op == "LE"   ? 2
                       : op == "LT"   ? 3
                       : op == "GE"   ? 4
                                      : 5,
                  size](std::string_view item) {
    int64_t n = int64_t(item.size());
    switch (op) {
      case 0:
        return n == size;
      case 1:
        return n != size;
      case 2:
        return n <= size;
      case 3:
        return n < size;
      case 4:
        return n >= size;
      default:
        return n > size;
    }
  });
}

std::unique_ptr<Statement> parse_sqli_match(const JNode& body, Compiler& c, const Place&) {
  body.only(
      {"FieldToMatch", "TextTransformations", "SensitivityLevel", "PreParseTextTransformations"});
  Sensitivity s =
      body.has("SensitivityLevel") && body.choice("SensitivityLevel", {"LOW", "HIGH"}) == "HIGH"
          ? Sensitivity::High
          : Sensitivity::Low;
  const FieldSpec& f = c.field(body);
  return make(f, [s](std::string_view item) { return sqli_match(item, s); });
}

std::unique_ptr<Statement> parse_xss_match(const JNode& body, Compiler& c, const Place&) {
  body.only({"FieldToMatch", "TextTransformations", "PreParseTextTransformations"});
  const FieldSpec& f = c.field(body);
  return make(f, [](std::string_view item) { return xss_match(item); });
}

}  // namespace eg::waf
