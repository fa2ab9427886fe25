// Evaluation with AWS's semantics (§3.5-3.7): rules by priority, rule groups expanded in
// place, Allow/Block terminate, Count continues, Captcha/Challenge terminate unless the token
// is good, labels visible to later rules only, the default action last.
#include <nlohmann/json.hpp>

#include "waf/context.h"
#include "waf/state.h"

namespace eg::waf {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::Allow:
      return "ALLOW";
    case Action::Block:
      return "BLOCK";
    case Action::Count:
      return "COUNT";
    case Action::Captcha:
      return "CAPTCHA";
    case Action::Challenge:
      return "CHALLENGE";
  }
  return "ALLOW";
}

Acl::~Acl() = default;
const std::string& Acl::name() const { return model_->name; }
const ChallengeService& Acl::challenge() const { return *model_->challenge; }
FailurePolicy Acl::on_error() const { return model_->on_error; }
bool Acl::count_only() const { return model_->count_only; }
size_t Acl::rule_count() const { return model_->rules.size(); }

namespace {

http::Response block_response(const RuleAction& a) {
  http::Response r;
  r.status = a.response_code;
  for (const auto& h : a.response_headers) r.headers.add(h.name, h.value);
  if (a.body) {
    r.headers.set("Content-Type", a.body->content_type);
    r.body = a.body->content;
  } else if (a.response_code == 403) {
    r.headers.set("Content-Type", "text/plain");
    r.body = "403 Forbidden: the request was blocked by the web ACL\n";
  }
  return r;
}

class Evaluator {
 public:
  Evaluator(const AclModel& m, const Request& r, WafState& s, Verdict& v, bool trace)
      : m_(m), v_(v), ctx_(r, m, s, v.labels), trace_(trace) {
    ctx_.rate_matches = &v.rate_limited;
  }

  void run() {
    for (const auto& rule : m_.rules) {
      if (rule->group ? run_group(*rule) : run_rule(*rule, rule->action, false)) return;
    }
    finish(nullptr, m_.default_action, false);
  }

 private:
  // Returns true when evaluation ended.
  bool run_group(const CompiledRule& ref) {
    if (ref.scope_down && !ref.scope_down->matches(ctx_)) {
      if (trace_)
        v_.trace.push_back({ref.display,
                            false,
                            Action::Count,
                            false,
                            {},
                            "scope-down statement did not match; group skipped"});
      return false;
    }
    for (const auto& inner : ref.group->rules) {
      auto o = ref.action_overrides.find(inner->name);
      const RuleAction& a = o == ref.action_overrides.end() ? inner->action : o->second;
      if (run_rule(*inner, a, ref.override_count)) return true;
      if (group_ended_) {
        group_ended_ = false;
        return false;
      }
    }
    return false;
  }

  bool run_rule(const CompiledRule& rule, const RuleAction& a, bool override_count) {
    ctx_.rule = &rule;
    ctx_.pending_labels.clear();
    std::string note;
    ctx_.note = trace_ ? &note : nullptr;
    bool matched = rule.statement->matches(ctx_);
    RuleTrace t;
    if (trace_) {
      t.rule = rule.display;
      t.matched = matched;
      t.action = a.action;
    }
    // Labels of a statement that inspects every request (geo) come first, at rule end.
    for (auto& l : ctx_.pending_labels) {
      if (trace_) t.labels_added.push_back(l);
      v_.labels.push_back(std::move(l));
    }
    bool ended = false;
    if (matched) {
      rule.matched.fetch_add(1, std::memory_order_relaxed);
      for (const auto& l : rule.labels) {
        v_.labels.push_back(l);
        if (trace_) t.labels_added.push_back(l);
      }
      Action act = a.action;
      if (act == Action::Captcha || act == Action::Challenge) {
        if (!token_read_) {
          token_ = m_.challenge->token(ctx_.request);
          token_read_ = true;
        }
        bool ok = act == Action::Captcha
                      ? ChallengeService::captcha_ok(token_, ctx_.request.now_ms, a.immunity_s)
                      : ChallengeService::challenge_ok(token_, ctx_.request.now_ms, a.immunity_s);
        if (ok) {
          note = "token valid: " + std::string(act == Action::Captcha ? "CAPTCHA" : "challenge") +
                 " solved within the immunity time";
          v_.labels.push_back("awswaf:managed:token:accepted");
          (act == Action::Captcha ? rule.captcha : rule.challenged)
              .fetch_add(1, std::memory_order_relaxed);
          v_.counted.push_back(&rule);
          add_headers(a);
          if (trace_) t.note = note, v_.trace.push_back(std::move(t));
          return false;
        }
        v_.labels.push_back(token_.challenge_solved_ms || token_.captcha_solved_ms
                                ? "awswaf:managed:token:rejected"
                                : "awswaf:managed:token:absent");
      }
      if (act == Action::Count) {
        rule.counted.fetch_add(1, std::memory_order_relaxed);
        v_.counted.push_back(&rule);
        add_headers(a);
      } else if (override_count) {
        // OverrideAction Count: the group's terminating match becomes a Count and the group
        // stops; the web ACL goes on with its next rule.
        rule.counted.fetch_add(1, std::memory_order_relaxed);
        v_.counted.push_back(&rule);
        group_ended_ = true;
        note = std::string(action_name(act)) + " overridden to COUNT by the group's OverrideAction";
      } else {
        finish(&rule, a, true);
        ended = true;
      }
    }
    if (trace_) {
      t.terminated = ended;
      t.note = note;
      v_.trace.push_back(std::move(t));
    }
    return ended;
  }

  void add_headers(const RuleAction& a) {
    for (const auto& h : a.insert_headers) {
      bool replaced = false;
      for (auto& existing : v_.insert_headers)
        if (existing.name == h.name) existing.value = h.value, replaced = true;
      if (!replaced) v_.insert_headers.push_back(h);
    }
  }

  void finish(const CompiledRule* rule, const RuleAction& a, bool by_rule) {
    v_.action = a.action;
    v_.default_action = !by_rule;
    v_.terminating = rule;
    if (rule) v_.terminating_rule = rule->display;
    switch (a.action) {
      case Action::Allow:
        if (rule) rule->allowed.fetch_add(1, std::memory_order_relaxed);
        add_headers(a);
        break;
      case Action::Block:
        if (rule) rule->blocked.fetch_add(1, std::memory_order_relaxed);
        v_.response = block_response(a);
        break;
      case Action::Captcha:
        if (rule) rule->captcha.fetch_add(1, std::memory_order_relaxed);
        v_.response = m_.challenge->captcha_response(ctx_.request);
        break;
      case Action::Challenge:
        if (rule) rule->challenged.fetch_add(1, std::memory_order_relaxed);
        v_.response = m_.challenge->challenge_response(ctx_.request);
        break;
      case Action::Count:
        break;
    }
  }

  const AclModel& m_;
  Verdict& v_;
  EvalContext ctx_;
  bool trace_;
  bool group_ended_ = false;
  bool token_read_ = false;
  TokenTimes token_;
};

void record_sample(const CompiledRule& rule, const Request& r, const Verdict& v, size_t ring) {
  if (!rule.sampled || ring == 0) return;
  int64_t last = rule.last_sample_ms.load(std::memory_order_relaxed);
  if (r.now_ms - last < CompiledRule::kSampleIntervalMs ||
      !rule.last_sample_ms.compare_exchange_strong(last, r.now_ms, std::memory_order_relaxed))
    return;
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& h : r.headers) headers.push_back({{"Name", h.name}, {"Value", h.value}});
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& l : v.labels) labels.push_back({{"Name", l}});
  std::string uri(r.uri_path);
  nlohmann::json s = {
      {"Request",
       {{"ClientIP", to_string(r.client_ip)},
        {"Country", "XX"},
        {"URI", uri},
        {"Method", std::string(r.method)},
        {"HTTPVersion", "HTTP/1.1"},
        {"Headers", headers}}},
      {"Weight", 1},
      {"Timestamp", double(r.now_ms) / 1000.0},
      {"Action", std::string(action_name(&rule == v.terminating ? v.action : Action::Count))},
      {"Labels", labels}};
  if (!rule.rule_group.empty()) s["RuleNameWithinRuleGroup"] = rule.name;
  if (v.response) s["ResponseCodeSent"] = v.response->status;
  // Header values may be any bytes: a strict dump() would throw on invalid UTF-8 and turn a
  // blocked request into an evaluation failure (fail-open lets it through).
  std::string text = s.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lk(rule.samples_mu);
  if (rule.samples.size() < ring)
    rule.samples.push_back(std::move(text));
  else
    rule.samples[rule.samples_next] = std::move(text);
  rule.samples_next = (rule.samples_next + 1) % ring;
  ++rule.samples_total;
}

}  // namespace

Verdict Acl::evaluate(const Request& r, bool trace) const {
  Verdict v;
  Evaluator(*model_, r, *state_, v, trace).run();
  if (model_->count_only) v.enforced = false;
  if (v.terminating) record_sample(*v.terminating, r, v, model_->sampled_per_rule);
  for (const auto* c : v.counted) record_sample(*c, r, v, model_->sampled_per_rule);
  return v;
}

std::vector<RuleMetrics> Acl::metrics() const {
  std::vector<RuleMetrics> out;
  auto add = [&](const CompiledRule& r) {
    out.push_back({r.display, r.matched.load(), r.allowed.load(), r.blocked.load(),
                   r.counted.load(), r.challenged.load(), r.captcha.load(), r.limiter != nullptr,
                   r.limiter ? r.limiter->tracked_keys() : 0,
                   r.limiter ? RateLimiter::bytes_per_key() : 0});
  };
  for (const auto& r : model_->rules) {
    if (!r->group)
      add(*r);
    else
      for (const auto& inner : r->group->rules) add(*inner);
  }
  return out;
}

}  // namespace eg::waf
