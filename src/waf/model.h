// The compiled form of a web ACL (private to src/waf). Built once by the compiler
// (compiler.cc), read-only afterwards except for the atomic counters and sample rings.
#pragma once
#include <re2/re2.h>

#include <atomic>
#include <deque>
#include <forward_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "waf/acl.h"
#include "waf/geo.h"
#include "waf/json_body.h"
#include "waf/transform.h"

namespace eg::waf {

class EvalContext;

// ---- fields --------------------------------------------------------------------------

enum class FieldKind : uint8_t {
  UriPath,
  QueryString,
  SingleHeader,
  SingleQueryArgument,
  AllQueryArguments,
  Body,
  JsonBody,
  Method,
  Headers,
  Cookies,
  HeaderOrder,
  JA3Fingerprint,
  JA4Fingerprint,
  UriFragment,
};
enum class Oversize : uint8_t { Continue, Match, NoMatch };
enum class MatchScope : uint8_t { All, Key, Value };
enum class Fallback : uint8_t { None, Match, NoMatch };

// A FieldToMatch plus its transformations: the unit that is extracted and transformed once
// per request (interned by the compiler; `id` indexes the request's cache).
struct FieldSpec {
  FieldKind kind = FieldKind::UriPath;
  std::string name;                // SingleHeader/SingleQueryArgument (lowercased)
  std::vector<std::string> names;  // Headers/Cookies Included/Excluded
  bool excluded = false;           // names are ExcludedHeaders/ExcludedCookies
  MatchScope scope = MatchScope::All;
  Oversize oversize = Oversize::Continue;
  Fallback fallback = Fallback::None;  // JA3/JA4/UriFragment
  JsonBodySpec json;
  std::vector<PreParseTransform> pre_parse;
  std::vector<Transform> transforms;  // in priority order
  std::string key;                    // canonical text, for interning
  uint32_t id = 0;
};

// What a statement inspects: the transformed items, or an outcome forced by oversize
// handling / fallback behaviour.
struct FieldValues {
  enum class Forced : uint8_t { No, Match, NoMatch } forced = Forced::No;
  // Views into the request, or into `owned` for what extraction or transformations made:
  // an untransformed field costs no copy.
  std::vector<std::string_view> items;
  std::forward_list<std::string> owned;  // stable addresses, nothing allocated when empty
  std::string_view own(std::string s) {
    owned.push_front(std::move(s));
    return owned.front();
  }
};

// ---- statements ----------------------------------------------------------------------

class Statement {
 public:
  virtual ~Statement() = default;
  // Labels added whether or not the statement matches (GeoMatch) go to
  // ctx.pending_labels; the evaluator adds them at the end of the rule.
  virtual bool matches(EvalContext& ctx) const = 0;
};

// ---- IP sets and regex pattern sets (by ARN or name) ---------------------------------

class IpSetHandle;  // state.h

struct RegexSet {
  std::string name, arn;
  std::vector<std::unique_ptr<RE2>> patterns;
};

// ---- rules ---------------------------------------------------------------------------

struct CustomResponseBody {
  std::string content_type;  // "text/plain", ...
  std::string content;
};

struct RuleAction {
  Action action = Action::Block;
  std::vector<http::Header> insert_headers;  // x-amzn-waf- prefixed
  int response_code = 403;                   // Block
  std::vector<http::Header> response_headers;
  const CustomResponseBody* body = nullptr;
  uint32_t immunity_s = 300;  // Captcha/Challenge
};

struct RuleGroupModel;

struct CompiledRule {
  std::string name;        // as in the document
  std::string display;     // "Group/Rule" inside groups, for logs and traces
  std::string rule_group;  // group's name for inner rules ("" at top level)
  int64_t priority = 0;
  std::unique_ptr<Statement> statement;
  RuleAction action;
  std::vector<std::string> labels;  // fully qualified RuleLabels
  // Group references: the group's rules run in place of this rule's statement.
  const RuleGroupModel* group = nullptr;
  std::unique_ptr<Statement> scope_down;  // ManagedRuleGroupStatement.ScopeDownStatement
  bool override_count = false;            // OverrideAction: Count
  std::map<std::string, RuleAction> action_overrides;  // inner rule name -> action
  std::shared_ptr<class RateLimiter> limiter;          // RateBasedStatement rules
  // The limiter's keys are addresses (AggregateKeyType IP or FORWARDED_IP): only then does
  // GetRateBasedStatementManagedKeys list them, as AWS does.
  bool rate_keys_are_addresses = false;
  bool sampled = true;
  std::string metric_name;

  mutable std::atomic<uint64_t> matched{0}, allowed{0}, blocked{0}, counted{0}, challenged{0},
      captcha{0};
  // Sampling is throttled (at most one per kSampleIntervalMs per rule, like AWS's sampling
  // of a subset): building a sample copies the request, too costly for every request.
  static constexpr int64_t kSampleIntervalMs = 100;
  mutable std::atomic<int64_t> last_sample_ms{INT64_MIN / 2};
  mutable std::mutex samples_mu;
  mutable std::vector<std::string> samples;  // ring of JSON SampledHTTPRequest objects
  mutable size_t samples_next = 0;
  mutable uint64_t samples_total = 0;
};

struct RuleGroupModel {
  std::string name, arn, label_namespace;
  std::vector<std::unique_ptr<CompiledRule>> rules;  // by priority
  std::map<std::string, CustomResponseBody> bodies;
};

struct AclModel {
  std::string name, id, arn, description, label_namespace;
  RuleAction default_action;
  std::vector<std::unique_ptr<CompiledRule>> rules;  // by priority
  std::map<std::string, CustomResponseBody> bodies;
  std::vector<std::unique_ptr<RuleGroupModel>> groups;
  std::vector<std::unique_ptr<RegexSet>> regex_sets;
  std::deque<FieldSpec> fields;  // interned, indexed by FieldSpec::id (deque: stable addresses)
  size_t body_limit = 16 * 1024;
  std::unique_ptr<GeoDatabase> geo;
  std::unique_ptr<AsnDatabase> asn;
  std::unique_ptr<ChallengeService> challenge;
  uint32_t challenge_immunity_s = 300, captcha_immunity_s = 300;
  bool count_only = false;
  FailurePolicy on_error = FailurePolicy::Open;
  size_t sampled_per_rule = 100;
  double rate_clock_speed = 1;        // rate windows' clock: now_s = wall ms * speed / 1000
  std::string document_json;          // the WebACL as loaded, for GetWebACL
  bool search_strings_base64 = true;  // document_json's SearchStrings are base64 (API form)
};

}  // namespace eg::waf
