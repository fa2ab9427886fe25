// Every WAF statement type, one line each. A new statement is one file in this folder and
// one line here.
#include <array>
#include <utility>

#include "waf/compiler.h"
#include "waf/statements/statements.h"

namespace eg::waf {

namespace {
constexpr std::array<std::pair<std::string_view, StatementParser>, 15> kStatements{{
    {"ByteMatchStatement", parse_byte_match},
    {"RegexMatchStatement", parse_regex_match},
    {"RegexPatternSetReferenceStatement", parse_regex_pattern_set_reference},
    {"SizeConstraintStatement", parse_size_constraint},
    {"SqliMatchStatement", parse_sqli_match},
    {"XssMatchStatement", parse_xss_match},
    {"IPSetReferenceStatement", parse_ip_set_reference},
    {"GeoMatchStatement", parse_geo_match},
    {"AsnMatchStatement", parse_asn_match},
    {"LabelMatchStatement", parse_label_match},
    {"AndStatement", parse_and},
    {"OrStatement", parse_or},
    {"NotStatement", parse_not},
    {"RateBasedStatement", parse_rate_based},
    // Rule-group references are expanded by the compiler at a rule's top level; anywhere
    // else they are refused by this entry.
    {"RuleGroupReferenceStatement", parse_group_reference_misplaced},
}};
}  // namespace

StatementParser find_statement_parser(std::string_view type) {
  if (type == "ManagedRuleGroupStatement") return parse_group_reference_misplaced;
  for (const auto& [name, parser] : kStatements)
    if (name == type) return parser;
  return nullptr;
}

std::string_view statement_names() {
  return "ByteMatchStatement, RegexMatchStatement, RegexPatternSetReferenceStatement, "
         "SizeConstraintStatement, SqliMatchStatement, XssMatchStatement, "
         "IPSetReferenceStatement, GeoMatchStatement, AsnMatchStatement, LabelMatchStatement, "
         "AndStatement, OrStatement, NotStatement, RateBasedStatement, "
         "RuleGroupReferenceStatement, ManagedRuleGroupStatement";
}

}  // namespace eg::waf
