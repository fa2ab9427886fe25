// RateBasedStatement: counts requests per aggregation key over a sliding window and matches
// while the key is over the limit (§3.2). Requests that miss any key are not counted.
#include <algorithm>

#include "core/strings.h"
#include "waf/rate_limiter.h"
#include "waf/statements/statements.h"

namespace eg::waf {

namespace {

// One element of the aggregation key.
struct KeyPart {
  enum class Kind : uint8_t { Ip, ForwardedIp, Field, LabelNamespace, Asn } kind = Kind::Ip;
  const FieldSpec* field = nullptr;  // Header, Cookie, QueryArgument, QueryString, UriPath, ...
  std::string label_namespace;
  const AsnDatabase* asn = nullptr;
};

class RateBased : public Statement {
 public:
  RateBased(std::shared_ptr<RateLimiter> limiter, std::vector<KeyPart> parts,
            std::optional<ForwardedIpConfig> fwd, std::unique_ptr<Statement> scope_down,
            uint64_t limit, double clock_speed)
      : limiter_(std::move(limiter)),
        parts_(std::move(parts)),
        fwd_(std::move(fwd)),
        scope_down_(std::move(scope_down)),
        limit_(limit),
        clock_speed_(clock_speed) {}

  bool matches(EvalContext& ctx) const override {
    if (scope_down_ && !scope_down_->matches(ctx)) return false;
    std::string key;
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (i) key += '\x1f';
      switch (append(ctx, parts_[i], key)) {
        case Part::Ok:
          break;
        case Part::Missing:
          return false;
        case Part::FallbackMatch:
          return true;
      }
    }
    int64_t now_s = int64_t(double(ctx.request.now_ms) * clock_speed_ / 1000.0);
    bool over = limiter_->count(key, now_s);
    if (over && ctx.rate_matches) ctx.rate_matches->push_back(RateMatch{ctx.rule, key, limit_});
    if (ctx.note)
      *ctx.note = "rate key " + printable(key) + (over ? " is over " : " is within ") +
                  std::to_string(limit_) + " requests per window";
    return over;
  }

 private:
  enum class Part : uint8_t { Ok, Missing, FallbackMatch };

  static std::string printable(const std::string& key) {
    std::string out = key;
    std::replace(out.begin(), out.end(), '\x1f', '|');
    return out.empty() ? "(constant)" : out;
  }

  Part append(EvalContext& ctx, const KeyPart& p, std::string& key) const {
    switch (p.kind) {
      case KeyPart::Kind::Ip:
        key += to_string(ctx.request.client_ip);
        return Part::Ok;
      case KeyPart::Kind::ForwardedIp: {
        ForwardedIps ips = ctx.forwarded_ips(*fwd_, false);
        if (ips.status == ForwardedIps::Status::Absent) return Part::Missing;
        if (ips.status == ForwardedIps::Status::Malformed)
          return fwd_->fallback_match ? Part::FallbackMatch : Part::Missing;
        key += to_string(ips.addresses.front());
        return Part::Ok;
      }
      case KeyPart::Kind::Field: {
        const FieldValues& v = ctx.field(*p.field);
        if (v.forced == FieldValues::Forced::Match) return Part::FallbackMatch;
        if (v.forced == FieldValues::Forced::NoMatch || v.items.empty()) return Part::Missing;
        for (size_t i = 0; i < v.items.size(); ++i) (key += (i ? "," : "")) += v.items[i];
        return Part::Ok;
      }
      case KeyPart::Kind::LabelNamespace: {
        std::vector<std::string_view> names;
        for (const auto& l : ctx.labels)
          if (l.starts_with(p.label_namespace) ||
              l.find(":" + p.label_namespace) != std::string::npos)
            names.push_back(l);
        if (names.empty()) return Part::Missing;
        std::sort(names.begin(), names.end());
        for (size_t i = 0; i < names.size(); ++i) (key += (i ? "," : "")) += names[i];
        return Part::Ok;
      }
      case KeyPart::Kind::Asn: {
        auto asn = p.asn->lookup(ctx.request.client_ip);
        if (!asn) return Part::Missing;
        key += std::to_string(*asn);
        return Part::Ok;
      }
    }
    return Part::Missing;
  }

  std::shared_ptr<RateLimiter> limiter_;
  std::vector<KeyPart> parts_;
  std::optional<ForwardedIpConfig> fwd_;
  std::unique_ptr<Statement> scope_down_;
  uint64_t limit_;
  double clock_speed_;
};

// A custom key that inspects a request component is an interned field with its own
// transformations; build the FieldToMatch it stands for and let the compiler intern it.

}  // namespace

std::unique_ptr<Statement> parse_rate_based(const JNode& body, Compiler& c, const Place& p) {
  if (!p.top_level) body.fail("a RateBasedStatement can only be a rule's top-level statement");
  body.only({"Limit", "EvaluationWindowSec", "AggregateKeyType", "ScopeDownStatement",
             "ForwardedIPConfig", "CustomKeys"});
  uint64_t limit = uint64_t(body.integer("Limit", 10, 2'000'000'000));
  uint32_t window = 300;
  if (body.has("EvaluationWindowSec")) {
    JNode w = body.at("EvaluationWindowSec");
    window = uint32_t(w.integer(0, 100000));
    if (window != 60 && window != 120 && window != 300 && window != 600)
      w.fail(std::to_string(window) + " is not one of 60, 120, 300, 600");
  }
  auto type = body.choice("AggregateKeyType", {"IP", "FORWARDED_IP", "CUSTOM_KEYS", "CONSTANT"});
  std::optional<ForwardedIpConfig> fwd;
  if (body.has("ForwardedIPConfig")) fwd = parse_forwarded_ip(body.at("ForwardedIPConfig"), false);

  std::vector<KeyPart> parts;
  if (type == "IP")
    parts.emplace_back().kind = KeyPart::Kind::Ip;
  else if (type == "FORWARDED_IP") {
    if (!fwd) body.fail("AggregateKeyType FORWARDED_IP needs a ForwardedIPConfig");
    parts.emplace_back().kind = KeyPart::Kind::ForwardedIp;
  } else if (type == "CONSTANT") {
    if (!body.has("ScopeDownStatement"))
      body.fail("AggregateKeyType CONSTANT needs a ScopeDownStatement");
  } else {
    auto keys = body.items("CustomKeys", 1, 5);
    bool ip_only = true;
    nlohmann::json holder;
    for (const auto& k : keys) {
      std::string kind = k.single_key("custom key");
      JNode kb = k.at(kind).object();
      KeyPart part;
      auto named = [&] {
        std::string n = kb.str("Name");
        if (n.empty() || n.size() > 64) kb.at("Name").fail("must be 1 to 64 characters");
        return n;
      };
      if (kind == "IP")
        part.kind = KeyPart::Kind::Ip;
      else if (kind == "ForwardedIP") {
        if (!fwd) kb.fail("a ForwardedIP custom key needs the statement's ForwardedIPConfig");
        part.kind = KeyPart::Kind::ForwardedIp;
      } else {
        ip_only = false;
        part.kind = KeyPart::Kind::Field;
        nlohmann::json ftm;
        if (kind == "Header")
          ftm = {{"SingleHeader", {{"Name", named()}}}};
        else if (kind == "QueryArgument")
          ftm = {{"SingleQueryArgument", {{"Name", named()}}}};
        else if (kind == "Cookie")
          ftm = {{"Cookies",
                  {{"MatchPattern", {{"IncludedCookies", {named()}}}},
                   {"MatchScope", "VALUE"},
                   {"OversizeHandling", "CONTINUE"}}}};
        else if (kind == "QueryString")
          ftm = {{"QueryString", nlohmann::json::object()}};
        else if (kind == "UriPath")
          ftm = {{"UriPath", nlohmann::json::object()}};
        else if (kind == "HTTPMethod")
          ftm = {{"Method", nlohmann::json::object()}};
        else if (kind == "JA3Fingerprint" || kind == "JA4Fingerprint")
          ftm = {
              {kind, {{"FallbackBehavior", kb.choice("FallbackBehavior", {"MATCH", "NO_MATCH"})}}}};
        else if (kind == "LabelNamespace") {
          part.kind = KeyPart::Kind::LabelNamespace;
          part.label_namespace = kb.str("Namespace");
          if (part.label_namespace.empty() || part.label_namespace.back() != ':')
            kb.at("Namespace").fail("must end with ':'");
        } else if (kind == "ASN") {
          part.kind = KeyPart::Kind::Asn;
          part.asn = &c.asn(kb);
        } else {
          k.at(kind).fail(
              "is not a custom key (Header, Cookie, QueryArgument, QueryString, "
              "HTTPMethod, ForwardedIP, IP, LabelNamespace, UriPath, "
              "JA3Fingerprint, JA4Fingerprint, ASN)");
        }
        if (part.kind == KeyPart::Kind::Field) {
          FieldParseOptions o;
          o.allow_ja3_ja4 = true;
          holder = nlohmann::json::object();
          holder["FieldToMatch"] = ftm;
          holder["TextTransformations"] =
              kb.has("TextTransformations")
                  ? kb.at("TextTransformations").json()
                  : nlohmann::json::array({{{"Priority", 0}, {"Type", "NONE"}}});
          part.field = &c.field(JNode(holder, kb.path()), o);
        }
      }
      parts.push_back(std::move(part));
    }
    if (ip_only)
      body.at("CustomKeys")
          .fail(
              "IP and ForwardedIP custom keys need at least one other key "
              "(use AggregateKeyType IP or FORWARDED_IP for an address alone)");
  }

  std::unique_ptr<Statement> scope_down;
  if (body.has("ScopeDownStatement")) {
    Place inner = p;
    inner.top_level = false;
    scope_down = c.statement(body.at("ScopeDownStatement"), inner);
  }
  // Counts survive a reload while the settings that define them stay the same (§3.2).
  std::string state_key = p.rule_name + "|" + body.json().dump();
  auto limiter = c.rate_limiter(state_key, window, limit);
  auto made = std::make_unique<RateBased>(limiter, std::move(parts), std::move(fwd),
                                          std::move(scope_down), limit, c.rate_clock_speed());
  c.register_rate_limiter(std::move(limiter));
  return made;
}

}  // namespace eg::waf
