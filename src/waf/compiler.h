// What a statement's parser may ask of the compiler: nested statements, interned fields,
// referenced sets, decoded search strings, checked regexes, databases, rate state.
#pragma once
#include <memory>
#include <string>

#include "waf/context.h"
#include "waf/document.h"
#include "waf/fields.h"
#include "waf/model.h"

namespace eg::waf {

class RateLimiter;
class IpSetHandle;

// Where a statement appears; some statements are allowed only at a rule's top level.
struct Place {
  bool top_level = true;  // the rule's Statement itself (not nested, not a scope-down)
  std::string rule_name;  // for state keys (rate limiters)
};

class Compiler {
 public:
  virtual ~Compiler() = default;
  virtual std::unique_ptr<Statement> statement(const JNode& n, const Place& p) = 0;
  virtual const FieldSpec& field(const JNode& statement, const FieldParseOptions& o = {}) = 0;
  virtual std::shared_ptr<IpSetHandle> ip_set(const JNode& arn) = 0;
  virtual const RegexSet& regex_set(const JNode& arn) = 0;
  // SearchString as bytes: base64-decoded or as written, per the document's encoding.
  virtual std::string search_string(const JNode& n) = 0;
  virtual std::unique_ptr<RE2> regex(const JNode& n) = 0;
  virtual const GeoDatabase& geo(const JNode& where) = 0;
  virtual const AsnDatabase& asn(const JNode& where) = 0;
  virtual std::shared_ptr<RateLimiter> rate_limiter(const std::string& state_key, uint32_t window_s,
                                                    uint64_t limit) = 0;
  // Rate windows pass this many times faster than the wall clock (1 outside tests).
  virtual double rate_clock_speed() const = 0;
  // The evaluating rule's limiter, for the admin API's list of limited keys.
  virtual void register_rate_limiter(std::shared_ptr<RateLimiter> l) = 0;
};

ForwardedIpConfig parse_forwarded_ip(const JNode& n, bool with_position);
// RE2 with AWS's restrictions: length <= 200, no constructs RE2 refuses (backreferences,
// lookaround, possessive quantifiers...), each refusal explained.
std::unique_ptr<RE2> compile_regex(const JNode& n);

// The registration table (statements/registry.cc): one line per statement type.
using StatementParser = std::unique_ptr<Statement> (*)(const JNode& body, Compiler& c,
                                                       const Place& p);
StatementParser find_statement_parser(std::string_view type);
std::string_view statement_names();

}  // namespace eg::waf
