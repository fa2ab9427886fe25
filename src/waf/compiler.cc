// Loading: AWS WAFv2 documents -> AclModel. Every check AWS makes at create/update time is
// made here, with the path into the document in the message; evaluation never meets an
// invalid construct.
#include "waf/compiler.h"

#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "core/base64.h"
#include "core/json_depth.h"
#include "core/strings.h"
#include "waf/managed_groups.h"
#include "waf/state.h"

namespace eg::waf {

namespace {

const std::set<int> kResponseCodes = {200, 201, 202, 204, 206, 300, 301, 302, 303, 304, 307,
                                      308, 400, 401, 403, 404, 405, 408, 409, 411, 412, 413,
                                      414, 415, 416, 421, 429, 500, 501, 502, 503, 504, 505};

const std::set<std::string, std::less<>> kReservedLabelWords = {
    "awswaf", "aws", "waf", "rulegroup", "webacl", "regexpatternset", "ipset", "managed"};

// "source:line:column" of the byte at `offset`, so a message points at the text.
std::string position(const Document& d, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < d.text.size(); ++i) {
    if (d.text[i] == '\n')
      ++line, col = 1;
    else
      ++col;
  }
  return d.source + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// The compiler and json::dump() recurse once per level of nesting: without a bound, a deep
// enough document overflows the stack. No WAF document comes near this.
constexpr size_t kMaxJsonDepth = 128;

nlohmann::json parse_json(const Document& d) {
  if (size_t at = json_too_deep(d.text, kMaxJsonDepth); at != std::string_view::npos)
    throw DocError(position(d, at) + ": nested more than " + std::to_string(kMaxJsonDepth) +
                   " levels deep");
  try {
    return nlohmann::json::parse(d.text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    throw DocError(position(d, e.byte ? e.byte - 1 : 0) + ": not valid JSON: " + what);
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error: a number too large for a double (out_of_range 406), say.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    throw DocError(d.source + ": not valid JSON: " + what);
  }
}

// `{"WebACL": {...}, "LockToken": ...}` (get-web-acl output) or the bare object.
std::pair<const nlohmann::json*, std::string> unwrap(const nlohmann::json& j,
                                                     std::string_view envelope) {
  if (j.is_object() && j.contains(envelope) && j[std::string(envelope)].is_object())
    return {&j[std::string(envelope)], std::string(envelope)};
  return {&j, ""};
}

std::string check_label_name(const JNode& n, std::string_view name) {
  if (name.empty() || name.size() > 1024) n.fail("must be 1 to 1,024 characters");
  auto parts = split(name, ':');
  if (parts.size() > 6) n.fail(json_quoted(name) + " has more than 5 namespaces");
  for (auto part : parts) {
    if (part.empty()) n.fail(json_quoted(name) + " has an empty component");
    if (part.size() > 128)
      n.fail(json_quoted(name) + " has a component longer than 128 characters");
    for (unsigned char c : part)
      if (!std::isalnum(c) && c != '_' && c != '-')
        n.fail(json_quoted(name) + " may contain only A-Z, a-z, 0-9, _ and - between ':'");
    if (kReservedLabelWords.count(part))
      n.fail(json_quoted(name) + " uses the reserved word \"" + std::string(part) +
             "\" (reserved: awswaf, aws, waf, rulegroup, webacl, regexpatternset, ipset, managed)");
  }
  return std::string(name);
}

struct Source {
  const Document* doc = nullptr;
  nlohmann::json json;
};

}  // namespace

// A managed group's document, parsed once per process (reloads and every reference reuse it).
const nlohmann::json& managed_document(const ManagedGroup& g) {
  static std::mutex mu;
  static std::map<std::string_view, std::unique_ptr<const nlohmann::json>> parsed;
  std::lock_guard lk(mu);
  auto& slot = parsed[g.name];
  if (!slot) slot = std::make_unique<const nlohmann::json>(nlohmann::json::parse(g.document));
  return *slot;
}

class AclCompiler final : public Compiler {
 public:
  AclCompiler(const AclInput& in, std::shared_ptr<WafState> state, AclModel& m)
      : in_(in), state_(std::move(state)), m_(m) {}

  void compile();

  std::unique_ptr<Statement> statement(const JNode& n, const Place& p) override {
    std::string type = n.single_key("statement (" + std::string(statement_names()) + ")");
    auto parser = find_statement_parser(type);
    if (!parser) n.at(type).fail("is not a statement (" + std::string(statement_names()) + ")");
    return parser(n.at(type).object(), *this, p);
  }

  const FieldSpec& field(const JNode& statement, const FieldParseOptions& o) override {
    FieldSpec f = parse_field(statement, o);
    for (const auto& existing : m_.fields)
      if (existing.key == f.key) return existing;
    f.id = uint32_t(m_.fields.size());
    m_.fields.push_back(std::move(f));
    return m_.fields.back();
  }

  std::shared_ptr<IpSetHandle> ip_set(const JNode& arn) override {
    std::string key = arn.str();
    // Managed IP reputation lists read a user-supplied set by name; absent, they are empty.
    bool managed = key.starts_with("managed:");
    std::string name = managed ? key.substr(8) : key;
    for (const auto& s : ip_sets_)
      if (s->arn == key || s->name == name) return s;
    if (managed) {
      auto h = std::make_shared<IpSetHandle>();
      h->name = key.substr(8);
      h->arn = key;
      return h;
    }
    arn.fail("no IP set with this ARN or name was loaded (list its file under web_acl.ip_sets; " +
             std::to_string(ip_sets_.size()) + " loaded" + names_of(ip_sets_) + ")");
  }

  const RegexSet& regex_set(const JNode& arn) override {
    std::string key = arn.str();
    for (const auto& s : m_.regex_sets)
      if (s->arn == key || s->name == key) return *s;
    arn.fail(
        "no regex pattern set with this ARN or name was loaded (list its file under "
        "web_acl.regex_sets)");
  }

  std::string search_string(const JNode& n) override {
    std::string s = n.str();
    if (!base64_) return s;
    auto decoded = base64_decode(s);
    if (!decoded)
      n.fail(json_quoted(s) +
             " is not valid base64; this document's SearchStrings are read as "
             "base64 (AWS API output). For plain text set web_acl.search_strings: text");
    return *decoded;
  }

  std::unique_ptr<RE2> regex(const JNode& n) override { return compile_regex(n); }

  const GeoDatabase& geo(const JNode& where) override {
    return open_once(m_.geo, in_.geo_database, where,
                     "needs a geo database: set web_acl.geo_database to a MaxMind Country or "
                     "City database (.mmdb)");
  }

  const AsnDatabase& asn(const JNode& where) override {
    return open_once(m_.asn, in_.asn_database, where,
                     "needs an ASN database: set web_acl.asn_database to a MaxMind ASN database "
                     "(.mmdb)");
  }

  std::shared_ptr<RateLimiter> rate_limiter(const std::string& key, uint32_t window_s,
                                            uint64_t limit) override {
    RateLimiterOptions o;
    o.window_seconds = window_s;
    o.limit = limit;
    o.max_keys = in_.rate_max_keys;
    return state_->rate_limiter(key, o);
  }

  double rate_clock_speed() const override { return in_.rate_clock_speed; }
  void register_rate_limiter(std::shared_ptr<RateLimiter> l) override {
    current_limiter_ = std::move(l);
  }

 private:
  // A database is opened by the first statement that needs it; its errors point there.
  template <typename Db>
  static const Db& open_once(std::unique_ptr<Db>& slot, const std::string& path, const JNode& where,
                             std::string_view missing) {
    if (!slot) {
      if (path.empty()) where.fail(missing);
      std::string error;
      slot = Db::open(path, error);
      if (!slot) where.fail(error);
    }
    return *slot;
  }

  template <typename T>
  static std::string names_of(const std::vector<T>& sets) {
    std::string out;
    for (const auto& s : sets) out += (out.empty() ? ": " : ", ") + s->name;
    return out;
  }

  void load_ip_sets();
  void load_regex_sets();
  void load_rule_group_sources();
  std::vector<std::unique_ptr<CompiledRule>> rules(
      const JNode& list, bool in_group, std::map<std::string, CustomResponseBody>& bodies,
      const std::string& group_name);
  RuleAction action(const JNode& n, const std::map<std::string, CustomResponseBody>& bodies);
  void custom_bodies(const JNode& owner, std::map<std::string, CustomResponseBody>& out);
  const RuleGroupModel* group(const JNode& stmt, bool managed, CompiledRule& rule);

  const AclInput& in_;
  std::shared_ptr<WafState> state_;
  AclModel& m_;
  std::vector<std::shared_ptr<IpSetHandle>> ip_sets_;
  std::vector<Source> rule_group_sources_;
  bool base64_ = false;
  const std::string* label_namespace_ = nullptr;
  std::shared_ptr<RateLimiter> current_limiter_;
  size_t references_ = 0;
};

std::unique_ptr<RE2> compile_regex(const JNode& n) {
  std::string pattern = n.str();
  if (pattern.empty()) n.fail("must not be empty");
  if (pattern.size() > 200)
    n.fail("is " + std::to_string(pattern.size()) + " characters; AWS allows at most 200");
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);
  auto re = std::make_unique<RE2>(pattern, o);
  if (re->ok()) return re;
  std::string why;
  switch (re->error_code()) {
    case RE2::ErrorBadEscape:
      why = "a backreference or an escape RE2 and AWS WAF do not support";
      break;
    case RE2::ErrorRepeatOp:
    case RE2::ErrorRepeatArgument:
      why =
          "a repetition operator in a place it cannot apply (possessive quantifiers like a++ "
          "are not supported)";
      break;
    case RE2::ErrorMissingParen:
    case RE2::ErrorUnexpectedParen:
    case RE2::ErrorMissingBracket:
      why = "unbalanced parentheses or brackets";
      break;
    case RE2::ErrorBadPerlOp:
    case RE2::ErrorBadNamedCapture:
      why =
          "a construct RE2 and AWS WAF do not support (lookahead/lookbehind (?=, (?!, (?<=, "
          "atomic groups (?>, conditionals and recursion)";
      break;
    case RE2::ErrorPatternTooLarge:
      why = "a pattern too large to run in linear time";
      break;
    default:
      why = "invalid syntax";
      break;
  }
  n.fail(json_quoted(pattern) + " is not a supported regular expression: " + why +
         " (RE2: " + re->error() + ")");
}

void AclCompiler::load_ip_sets() {
  for (const auto& d : in_.ip_sets) {
    nlohmann::json j = parse_json(d);
    auto [set_json, prefix] = unwrap(j, "IPSet");
    JNode s(*set_json, prefix);
    try {
      auto h = std::make_shared<IpSetHandle>();
      h->name = s.str("Name");
      h->id = s.str_or("Id", h->name);
      h->arn = s.str_or(
          "ARN", "arn:aws:wafv2:us-east-1:000000000000:global/ipset/" + h->name + "/" + h->id);
      h->description = s.str_or("Description", "");
      h->v6 = s.choice("IPAddressVersion", {"IPV4", "IPV6"}) == "IPV6";
      h->envelope = !prefix.empty();
      std::map<std::string, int64_t> expiry;
      if (s.has("EdgeguardExpiry"))
        for (const auto& [k, v] : s.at("EdgeguardExpiry").object().json().items())
          if (v.is_number_integer()) expiry[k] = v.get<int64_t>();
      std::vector<IpSetEntry> entries;
      for (const auto& a : s.items("Addresses", 0, 10000)) {
        std::string text = a.str();
        auto p = parse_prefix(text);
        if (!p.prefix) a.fail(p.error);
        if (p.prefix->length == 0) a.fail(json_quoted(text) + ": /0 is not allowed in an IP set");
        if (p.prefix->address.v6 != h->v6)
          a.fail(json_quoted(text) + " is an " + (h->v6 ? "IPv4" : "IPv6") +
                 " address in an IPAddressVersion " + (h->v6 ? "IPV6" : "IPV4") + " set");
        entries.push_back(IpSetEntry{text, *p.prefix, expiry.count(text) ? expiry[text] : 0});
      }
      std::string ignored;
      h->update(entries, nullptr, nullptr, ignored);
      h->source_file = d.source;  // set after update(): loading never writes the file back
      for (const auto& other : ip_sets_)
        if (other->arn == h->arn) s.fail("IP set " + h->arn + " is loaded twice");
      ip_sets_.push_back(state_->adopt_ip_set(std::move(h)));
    } catch (const DocError& e) {
      throw DocError(d.source + ": " + e.what());
    }
  }
}

void AclCompiler::load_regex_sets() {
  for (const auto& d : in_.regex_sets) {
    nlohmann::json j = parse_json(d);
    auto [set_json, prefix] = unwrap(j, "RegexPatternSet");
    JNode s(*set_json, prefix);
    try {
      auto rs = std::make_unique<RegexSet>();
      rs->name = s.str("Name");
      rs->arn = s.str_or("ARN", "arn:aws:wafv2:us-east-1:000000000000:global/regexpatternset/" +
                                    rs->name + "/" + s.str_or("Id", rs->name));
      for (const auto& r : s.items("RegularExpressionList", 1, 10))
        rs->patterns.push_back(compile_regex(r.at("RegexString")));
      m_.regex_sets.push_back(std::move(rs));
    } catch (const DocError& e) {
      throw DocError(d.source + ": " + e.what());
    }
  }
}

void AclCompiler::load_rule_group_sources() {
  for (const auto& d : in_.rule_groups) rule_group_sources_.push_back({&d, parse_json(d)});
}

void AclCompiler::custom_bodies(const JNode& owner,
                                std::map<std::string, CustomResponseBody>& out) {
  if (!owner.has("CustomResponseBodies")) return;
  JNode bodies = owner.at("CustomResponseBodies").object();
  if (bodies.json().size() > 50) bodies.fail("has more than 50 custom response bodies");
  size_t total = 0;
  for (const auto& [key, _] : bodies.json().items()) {
    JNode b = bodies.at(key);
    b.only({"ContentType", "Content"});
    auto type = b.choice("ContentType", {"TEXT_PLAIN", "TEXT_HTML", "APPLICATION_JSON"});
    std::string content = b.str("Content");
    if (content.empty() || content.size() > 4096)
      b.at("Content").fail("must be 1 to 4,096 bytes, got " + std::to_string(content.size()));
    total += content.size();
    out[key] = CustomResponseBody{type == "TEXT_PLAIN"  ? "text/plain"
                                  : type == "TEXT_HTML" ? "text/html"
                                                        : "application/json",
                                  content};
  }
  if (total > 50 * 1024) bodies.fail("custom response bodies total more than 50 KB");
}

RuleAction AclCompiler::action(const JNode& n,
                               const std::map<std::string, CustomResponseBody>& bodies) {
  RuleAction a;
  std::string kind = n.single_key("action (Allow, Block, Count, Captcha, Challenge)");
  JNode body = n.at(kind).object();
  if (kind == "Allow")
    a.action = Action::Allow;
  else if (kind == "Block")
    a.action = Action::Block;
  else if (kind == "Count")
    a.action = Action::Count;
  else if (kind == "Captcha")
    a.action = Action::Captcha;
  else if (kind == "Challenge")
    a.action = Action::Challenge;
  else
    n.at(kind).fail("is not an action (Allow, Block, Count, Captcha, Challenge)");
  if (a.action == Action::Block) {
    body.only({"CustomResponse"});
    if (body.has("CustomResponse")) {
      JNode cr = body.at("CustomResponse");
      cr.only({"ResponseCode", "CustomResponseBodyKey", "ResponseHeaders"});
      JNode code = cr.at("ResponseCode");
      a.response_code = int(code.integer(200, 599));
      if (!kResponseCodes.count(a.response_code))
        code.fail(std::to_string(a.response_code) + " is not a status AWS WAF can send");
      if (cr.has("CustomResponseBodyKey")) {
        JNode key = cr.at("CustomResponseBodyKey");
        auto it = bodies.find(key.str());
        if (it == bodies.end())
          key.fail(json_quoted(key.str()) + " is not a key of CustomResponseBodies");
        a.body = &it->second;
      }
      if (cr.has("ResponseHeaders"))
        for (const auto& h : cr.items("ResponseHeaders", 1, 10)) {
          h.only({"Name", "Value"});
          a.response_headers.push_back({h.str("Name"), h.str("Value")});
        }
    }
  } else {
    body.only({"CustomRequestHandling"});
    if (body.has("CustomRequestHandling")) {
      JNode crh = body.at("CustomRequestHandling");
      crh.only({"InsertHeaders"});
      for (const auto& h : crh.items("InsertHeaders", 1, 10)) {
        h.only({"Name", "Value"});
        std::string name = h.str("Name"), value = h.str("Value");
        if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum((unsigned char)c) || c == '.' || c == '_' || c == '$' || c == '-';
            }))
          h.at("Name").fail("must be 1 to 64 characters of A-Z, a-z, 0-9, . _ $ -");
        if (value.empty() || value.size() > 255) h.at("Value").fail("must be 1 to 255 characters");
        a.insert_headers.push_back({"x-amzn-waf-" + name, value});
      }
    }
  }
  return a;
}

static uint32_t immunity(const JNode& config, uint32_t fallback, uint32_t min) {
  if (!config.has("ImmunityTimeProperty")) return fallback;
  JNode t = config.at("ImmunityTimeProperty");
  return uint32_t(t.integer("ImmunityTime", min, 259200));
}

const RuleGroupModel* AclCompiler::group(const JNode& stmt, bool managed, CompiledRule& rule) {
  const nlohmann::json* doc = nullptr;
  std::string source, envelope, label_ns, name;
  if (managed) {
    stmt.only({"VendorName", "Name", "Version", "ExcludedRules", "ScopeDownStatement",
               "ManagedRuleGroupConfigs", "RuleActionOverrides"});
    const ManagedGroup* g = find_managed_group(stmt.str("VendorName"), stmt.str("Name"));
    if (!g)
      stmt.fail("unknown managed rule group " + stmt.str("VendorName") + "/" + stmt.str("Name") +
                " (edgeguard provides " + managed_group_names() + ")");
    doc = &managed_document(*g);
    source = "managed rule group " + std::string(g->name);
    label_ns = "awswaf:managed:aws:" + std::string(g->label_namespace) + ":";
    name = g->name;
  } else {
    stmt.only({"ARN", "ExcludedRules", "RuleActionOverrides"});
    std::string arn = stmt.str("ARN");
    // json::value() throws on a member of another type; such a member names nothing here,
    // and the document is refused with its path below if it is the one referenced.
    auto text_member = [](const nlohmann::json& j, const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    for (const auto& src : rule_group_sources_) {
      auto [g, prefix] = unwrap(src.json, "RuleGroup");
      if (g->is_object() && (text_member(*g, "ARN") == arn || text_member(*g, "Name") == arn)) {
        doc = g;
        source = src.doc->source;
        envelope = prefix;
      }
    }
    if (!doc)
      stmt.at("ARN").fail(
          "no rule group with this ARN or name was loaded (list its file under "
          "web_acl.rule_groups)");
    try {
      JNode g(*doc, envelope);
      name = g.str_or("Name", "");
      std::string account = "000000000000";
      // split() returns views: the ARN string must outlive them.
      std::string group_arn = g.str_or("ARN", "");
      if (auto arn_parts = split(group_arn, ':'); arn_parts.size() > 4)
        account = std::string(arn_parts[4]);
      label_ns = g.str_or("LabelNamespace", "awswaf:" + account + ":rulegroup:" + name + ":");
    } catch (const DocError& e) {
      throw DocError(source + ": " + e.what());
    }
  }

  auto model = std::make_unique<RuleGroupModel>();
  model->name = name;
  model->label_namespace = label_ns;
  const std::string* saved_ns = label_namespace_;
  label_namespace_ = &model->label_namespace;
  bool saved_base64 = base64_;
  if (managed)
    base64_ = false;
  else if (in_.search_strings == SearchStrings::Auto)
    base64_ = !envelope.empty();
  try {
    JNode g(*doc, envelope);
    model->arn = g.str_or("ARN", name);
    custom_bodies(g, model->bodies);
    model->rules = rules(g.at("Rules"), true, model->bodies, name);
  } catch (const DocError& e) {
    throw DocError(source + ": " + e.what());
  }
  label_namespace_ = saved_ns;
  base64_ = saved_base64;

  auto known = [&](const JNode& n) {
    std::string r = n.str();
    for (const auto& inner : model->rules)
      if (inner->name == r) return r;
    n.fail(json_quoted(r) + " is not a rule of rule group " + name);
  };
  if (stmt.has("ExcludedRules"))
    for (const auto& e : stmt.items("ExcludedRules", 0, 100)) {
      RuleAction count;
      count.action = Action::Count;
      rule.action_overrides[known(e.at("Name"))] = count;
    }
  if (stmt.has("RuleActionOverrides"))
    for (const auto& o : stmt.items("RuleActionOverrides", 0, 100)) {
      o.only({"Name", "ActionToUse"});
      rule.action_overrides[known(o.at("Name"))] = action(o.at("ActionToUse"), m_.bodies);
    }
  if (managed && stmt.has("ScopeDownStatement")) {
    Place p;
    p.top_level = false;
    rule.scope_down = statement(stmt.at("ScopeDownStatement"), p);
  }
  m_.groups.push_back(std::move(model));
  return m_.groups.back().get();
}

std::vector<std::unique_ptr<CompiledRule>> AclCompiler::rules(
    const JNode& list, bool in_group, std::map<std::string, CustomResponseBody>& bodies,
    const std::string& group_name) {
  std::vector<std::unique_ptr<CompiledRule>> out;
  std::set<int64_t> priorities;
  std::set<std::string> names;
  size_t rate_rules = 0;
  for (const auto& n : list.items()) {
    n.only({"Name", "Priority", "Statement", "Action", "OverrideAction", "VisibilityConfig",
            "RuleLabels", "CaptchaConfig", "ChallengeConfig"});
    auto r = std::make_unique<CompiledRule>();
    r->name = n.str("Name");
    if (r->name.empty() || r->name.size() > 128) n.at("Name").fail("must be 1 to 128 characters");
    if (!names.insert(r->name).second)
      n.at("Name").fail("rule name " + json_quoted(r->name) + " is used twice");
    r->priority = n.integer("Priority", 0, INT32_MAX);
    if (!priorities.insert(r->priority).second)
      n.at("Priority")
          .fail("priority " + std::to_string(r->priority) +
                " is used by another rule; priorities must be unique");
    r->rule_group = group_name;
    r->display = group_name.empty() ? r->name : group_name + "/" + r->name;
    if (n.has("VisibilityConfig")) {
      JNode v = n.at("VisibilityConfig");
      r->sampled = v.boolean("SampledRequestsEnabled", true);
      r->metric_name = v.str_or("MetricName", r->name);
    }
    if (n.has("RuleLabels"))
      for (const auto& l : n.items("RuleLabels", 0, 100))
        r->labels.push_back(*label_namespace_ + check_label_name(l.at("Name"), l.str("Name")));

    JNode stmt = n.at("Statement");
    std::string type = stmt.single_key("statement");
    bool reference = type == "RuleGroupReferenceStatement" || type == "ManagedRuleGroupStatement";
    if (reference) {
      if (in_group) stmt.at(type).fail("a rule group cannot reference another rule group");
      if (n.has("Action"))
        n.at("Action").fail(
            "a rule group reference takes OverrideAction ({\"None\":{}} or "
            "{\"Count\":{}}), not Action");
      JNode o = n.at("OverrideAction");
      auto kind = o.single_key("override action (None, Count)");
      if (kind != "None" && kind != "Count") o.at(kind).fail("is not None or Count");
      o.at(kind).object().only({});
      r->override_count = kind == "Count";
      if (++references_ > 50) stmt.fail("more than 50 rule group references in one web ACL");
      r->group = group(stmt.at(type).object(), type == "ManagedRuleGroupStatement", *r);
    } else {
      if (n.has("OverrideAction"))
        n.at("OverrideAction").fail("OverrideAction is only for rule group references; use Action");
      r->action = action(n.at("Action"), bodies);
      if (type == "RateBasedStatement" && ++rate_rules > (in_group ? 4u : 10u))
        stmt.fail(std::string("more than ") + (in_group ? "4" : "10") +
                  " rate-based rules in one " + (in_group ? "rule group" : "web ACL"));
      Place p;
      p.top_level = true;
      p.rule_name = r->display;
      current_limiter_.reset();
      r->statement = statement(stmt, p);
      r->limiter = std::move(current_limiter_);
      if (r->limiter) {
        std::string keys = stmt.at(type).str_or("AggregateKeyType", "");
        r->rate_keys_are_addresses = keys == "IP" || keys == "FORWARDED_IP";
      }
    }
    if (n.has("ChallengeConfig"))
      r->action.immunity_s = immunity(n.at("ChallengeConfig"), m_.challenge_immunity_s, 300);
    else if (n.has("CaptchaConfig"))
      r->action.immunity_s = immunity(n.at("CaptchaConfig"), m_.captcha_immunity_s, 60);
    else
      r->action.immunity_s =
          r->action.action == Action::Captcha ? m_.captcha_immunity_s : m_.challenge_immunity_s;
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->priority < b->priority; });
  return out;
}

void AclCompiler::compile() {
  load_ip_sets();
  load_regex_sets();
  load_rule_group_sources();

  const Document& d = in_.web_acl;
  nlohmann::json j = parse_json(d);
  auto [acl_json, envelope] = unwrap(j, "WebACL");
  base64_ = in_.search_strings == SearchStrings::Base64 ||
            (in_.search_strings == SearchStrings::Auto && !envelope.empty());
  JNode acl(*acl_json, envelope);
  try {
    acl.object();
    m_.name = acl.str("Name");
    m_.id = acl.str_or("Id", m_.name);
    m_.arn = acl.str_or(
        "ARN", "arn:aws:wafv2:us-east-1:000000000000:global/webacl/" + m_.name + "/" + m_.id);
    m_.description = acl.str_or("Description", "");
    std::string account = "000000000000";
    if (auto parts = split(m_.arn, ':'); parts.size() > 4) account = std::string(parts[4]);
    m_.label_namespace =
        acl.str_or("LabelNamespace", "awswaf:" + account + ":webacl:" + m_.name + ":");
    label_namespace_ = &m_.label_namespace;
    custom_bodies(acl, m_.bodies);
    JNode def = acl.at("DefaultAction");
    auto kind = def.single_key("default action (Allow or Block)");
    if (kind != "Allow" && kind != "Block") def.at(kind).fail("a DefaultAction is Allow or Block");
    m_.default_action = action(def, m_.bodies);
    if (acl.has("ChallengeConfig"))
      m_.challenge_immunity_s = immunity(acl.at("ChallengeConfig"), 300, 300);
    if (acl.has("CaptchaConfig"))
      m_.captcha_immunity_s = immunity(acl.at("CaptchaConfig"), 300, 60);
    if (acl.has("AssociationConfig")) {
      JNode assoc = acl.at("AssociationConfig");
      if (assoc.has("RequestBody") && assoc.at("RequestBody").has("CLOUDFRONT")) {
        auto limit =
            assoc.at("RequestBody")
                .at("CLOUDFRONT")
                .choice("DefaultSizeInspectionLimit", {"KB_16", "KB_32", "KB_48", "KB_64"});
        m_.body_limit = size_t(std::stoi(limit.substr(3))) * 1024;
      }
    }
    ChallengeOptions co;
    co.key = in_.challenge_key;
    if (co.key.empty()) {
      co.key.resize(32);
      RAND_bytes(reinterpret_cast<unsigned char*>(co.key.data()), 32);
    }
    if (acl.has("TokenDomains"))
      for (const auto& t : acl.items("TokenDomains", 0, 10))
        co.token_domains.push_back(to_lower(t.str()));
    m_.challenge = std::make_unique<ChallengeService>(co);
    m_.rules = rules(acl.at("Rules"), false, m_.bodies, "");
    m_.document_json = acl_json->dump();
    m_.search_strings_base64 = base64_;
  } catch (const DocError& e) {
    throw DocError(d.source + ": " + e.what());
  }
  m_.count_only = in_.count_only;
  m_.on_error = in_.on_error;
  m_.sampled_per_rule = in_.sampled_per_rule;
  m_.rate_clock_speed = in_.rate_clock_speed;
}

AclLoad load_acl(const AclInput& in, std::shared_ptr<WafState> state) {
  AclLoad out;
  auto model = std::make_unique<AclModel>();
  try {
    AclCompiler c(in, state, *model);
    c.compile();
  } catch (const DocError& e) {
    out.error = e.what();
    return out;
  }
  auto acl = std::shared_ptr<Acl>(new Acl());
  acl->model_ = std::move(model);
  acl->state_ = std::move(state);
  out.acl = std::move(acl);
  return out;
}

bool read_document(const std::string& path, Document& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = path + ": cannot be read (" + std::string(std::strerror(errno)) + ")";
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  out.source = path;
  out.text = ss.str();
  return true;
}

}  // namespace eg::waf
