// A compiled web ACL: AWS WAFv2 documents (WebACL, RuleGroup, IPSet, RegexPatternSet) turned
// into an immutable object at load time, evaluated per request with AWS's semantics
// (aws-formats.md §3.5-3.7). Every limit AWS enforces is checked by the loader, so
// evaluation never meets an invalid construct. Shared read-only by every worker; per-request
// state lives in evaluate()'s stack and Verdict.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "waf/challenge.h"
#include "waf/request.h"

namespace eg::waf {

class WafState;
struct CompiledRule;
struct AclModel;
struct AclInput;
struct AclLoad;
class Acl;
AclLoad load_acl(const AclInput& in, std::shared_ptr<WafState> state);

enum class Action : uint8_t { Allow, Block, Count, Captcha, Challenge };
std::string_view action_name(Action a);  // "ALLOW", "BLOCK", ... as in AWS WAF logs

// What the loader reads. Each document is a file name (for messages) and its text.
struct Document {
  std::string source;  // "waf/acl.json"
  std::string text;
};

enum class SearchStrings : uint8_t {
  Auto,    // base64 for `aws wafv2 get-*` output ({"WebACL": ...}), text for a bare object
  Base64,  // as in the WAFv2 JSON API
  Text,    // as in CloudFormation and the console
};

enum class FailurePolicy : uint8_t { Open, Closed };

struct AclInput {
  Document web_acl;
  std::vector<Document> ip_sets;      // IPSet documents, referenced by ARN or name
  std::vector<Document> regex_sets;   // RegexPatternSet documents
  std::vector<Document> rule_groups;  // RuleGroup documents
  SearchStrings search_strings = SearchStrings::Auto;
  std::string geo_database;  // MMDB paths; needed only by Geo/ASN statements
  std::string asn_database;
  bool count_only = false;  // security switch: match and log, never enforce
  FailurePolicy on_error = FailurePolicy::Open;
  std::string challenge_key;       // empty: a random key per process
  size_t rate_max_keys = 100'000;  // per rate-based rule
  size_t sampled_per_rule = 100;   // GetSampledRequests ring size
  double rate_clock_speed = 1;     // tests only: rate windows pass this much faster
};

// One rule's outcome on one request, for `waf test` and the logs.
struct RuleTrace {
  std::string rule;  // "Rule" or "Group/InnerRule"
  bool matched = false;
  Action action = Action::Count;  // the configured (or overridden) action
  bool terminated = false;
  std::vector<std::string> labels_added;
  std::string note;  // e.g. "rate key 192.0.2.1 at 12/10 in 60 s", "token valid"
};

struct RateMatch {
  const CompiledRule* rule = nullptr;
  std::string key;  // printable aggregation key
  uint64_t limit = 0;
};

struct Verdict {
  Action action = Action::Allow;  // final: Allow, Block, Captcha or Challenge
  bool enforced = true;           // false in count-only mode (the proxy continues)
  bool default_action = true;     // no rule terminated
  const CompiledRule* terminating = nullptr;
  std::string terminating_rule = "Default_Action";  // "Rule" or "Group/Rule"
  std::vector<const CompiledRule*> counted;         // non-terminating matches, in order
  std::vector<std::string> labels;                  // fully qualified, in the order added
  std::vector<RateMatch> rate_limited;
  std::vector<http::Header> insert_headers;  // x-amzn-waf-* toward the origin
  std::optional<http::Response> response;    // Block/Captcha/Challenge answer
  std::vector<RuleTrace> trace;              // filled only when asked
};

// Per-rule counters shown in /stats.
struct RuleMetrics {
  std::string name;
  uint64_t matched = 0, allowed = 0, blocked = 0, counted = 0, challenged = 0, captcha = 0;
  bool rate_based = false;  // then: the keys it tracks and what each costs
  size_t rate_tracked_keys = 0, rate_bytes_per_key = 0;
};

class Acl {
 public:
  ~Acl();
  const std::string& name() const;
  // Never throws for a valid request; an internal failure is reported by the caller's
  // failure policy (on_error()).
  Verdict evaluate(const Request& r, bool trace = false) const;
  // Requests to the Challenge/CAPTCHA endpoint are answered before any rule runs.
  const ChallengeService& challenge() const;
  FailurePolicy on_error() const;
  bool count_only() const;
  std::vector<RuleMetrics> metrics() const;
  size_t rule_count() const;  // top-level rules
  // The WAF log record (AWS WAF log format, one JSON line without '\n').
  std::string log_record(const Request& r, const Verdict& v, std::string_view http_version,
                         int64_t timestamp_ms) const;
  const AclModel& model() const { return *model_; }
  WafState& state() const { return *state_; }

 private:
  friend AclLoad load_acl(const AclInput& in, std::shared_ptr<WafState> state);
  Acl() = default;
  std::unique_ptr<AclModel> model_;
  std::shared_ptr<WafState> state_;
};

struct AclLoad {
  std::shared_ptr<const Acl> acl;
  std::string error;  // "waf/acl.json: Rules[3].Statement...: what is wrong"
};

// Compiles the documents. `state` holds what survives reloads (IP set contents changed
// through the admin API, rate counters of unchanged rules); pass a fresh one when there is
// nothing to keep.
AclLoad load_acl(const AclInput& in, std::shared_ptr<WafState> state);
// Reads the files named by paths into Documents; errors name the file.
bool read_document(const std::string& path, Document& out, std::string& error);

}  // namespace eg::waf
