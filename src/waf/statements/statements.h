// The statement parsers (one family per file in this folder), registered in registry.cc.
#pragma once
#include "waf/compiler.h"

namespace eg::waf {

#define EG_WAF_STATEMENT(fn) \
  std::unique_ptr<Statement> fn(const JNode& body, Compiler& c, const Place& p)

// text.cc
EG_WAF_STATEMENT(parse_byte_match);
EG_WAF_STATEMENT(parse_regex_match);
EG_WAF_STATEMENT(parse_regex_pattern_set_reference);
EG_WAF_STATEMENT(parse_size_constraint);
EG_WAF_STATEMENT(parse_sqli_match);
EG_WAF_STATEMENT(parse_xss_match);
// address.cc
EG_WAF_STATEMENT(parse_ip_set_reference);
EG_WAF_STATEMENT(parse_geo_match);
EG_WAF_STATEMENT(parse_asn_match);
// logical.cc
EG_WAF_STATEMENT(parse_label_match);
EG_WAF_STATEMENT(parse_and);
EG_WAF_STATEMENT(parse_or);
EG_WAF_STATEMENT(parse_not);
EG_WAF_STATEMENT(parse_group_reference_misplaced);
// rate_based.cc
EG_WAF_STATEMENT(parse_rate_based);

#undef EG_WAF_STATEMENT

}  // namespace eg::waf
