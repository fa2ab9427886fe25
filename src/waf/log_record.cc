// One WAF log record in AWS WAF's log format (JSON lines), so tools that read AWS WAF logs
// read ours: terminatingRuleId, action, httpRequest, labels, nonTerminatingMatchingRules,
// rateBasedRuleList, ruleGroupList, requestHeadersInserted, responseCodeSent.
#include <nlohmann/json.hpp>

#include "waf/model.h"
#include "waf/state.h"

namespace eg::waf {

namespace {

std::string_view rule_type(const CompiledRule* r) {
  if (!r) return "REGULAR";
  if (r->limiter) return "RATE_BASED";
  if (!r->rule_group.empty()) return "GROUP";
  return "REGULAR";
}

}  // namespace

std::string Acl::log_record(const Request& r, const Verdict& v, std::string_view http_version,
                            int64_t timestamp_ms) const {
  using nlohmann::json;
  json headers = json::array();
  for (const auto& h : r.headers) headers.push_back({{"name", h.name}, {"value", h.value}});
  json labels = json::array();
  for (const auto& l : v.labels) labels.push_back({{"name", l}});
  json non_terminating = json::array(), groups = json::array();
  for (const auto* c : v.counted) {
    json entry = {{"ruleId", c->name}, {"action", "COUNT"}, {"ruleMatchDetails", json::array()}};
    if (c->rule_group.empty())
      non_terminating.push_back(entry);
    else
      groups.push_back({{"ruleGroupId", c->rule_group},
                        {"terminatingRule", nullptr},
                        {"nonTerminatingMatchingRules", json::array({entry})},
                        {"excludedRules", nullptr}});
  }
  if (v.terminating && !v.terminating->rule_group.empty())
    groups.push_back(
        {{"ruleGroupId", v.terminating->rule_group},
         {"terminatingRule",
          {{"ruleId", v.terminating->name}, {"action", std::string(action_name(v.action))}}},
         {"nonTerminatingMatchingRules", json::array()},
         {"excludedRules", nullptr}});
  json rate = json::array();
  for (const auto& m : v.rate_limited)
    rate.push_back({{"rateBasedRuleId", m.rule ? m.rule->display : ""},
                    {"rateBasedRuleName", m.rule ? m.rule->name : ""},
                    {"limitKey", "IP"},
                    {"maxRateAllowed", m.limit},
                    {"limitValue", m.key}});
  json inserted = nullptr;
  if (!v.insert_headers.empty()) {
    inserted = json::array();
    for (const auto& h : v.insert_headers)
      inserted.push_back({{"name", h.name}, {"value", h.value}});
  }
  json rec = {
      {"timestamp", timestamp_ms},
      {"formatVersion", 1},
      {"webaclId", model_->arn},
      {"terminatingRuleId", v.terminating ? v.terminating->name : "Default_Action"},
      {"terminatingRuleType", rule_type(v.terminating)},
      {"action", std::string(action_name(v.action))},
      {"terminatingRuleMatchDetails", json::array()},
      {"httpSourceName", "CF"},
      {"httpSourceId", "edgeguard"},
      {"ruleGroupList", groups},
      {"rateBasedRuleList", rate},
      {"nonTerminatingMatchingRules", non_terminating},
      {"requestHeadersInserted", inserted},
      {"responseCodeSent", v.response ? json(v.response->status) : json(nullptr)},
      {"httpRequest",
       {{"clientIp", to_string(r.client_ip)},
        {"country", "XX"},
        {"headers", headers},
        {"uri", std::string(r.uri_path)},
        {"args", std::string(r.query_string)},
        {"httpVersion", std::string(http_version)},
        {"httpMethod", std::string(r.method)},
        {"requestId", std::string(r.request_id)}}},
      {"labels", labels},
  };
  if (!v.enforced) rec["edgeguardCountOnly"] = true;  // the ACL runs in count-only mode
  if (!r.ja3.empty()) rec["ja3Fingerprint"] = std::string(r.ja3);
  if (!r.ja4.empty()) rec["ja4Fingerprint"] = std::string(r.ja4);
  return rec.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace eg::waf
