#include "admin/wafv2_api.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "core/base64.h"
#include "core/request_id.h"
#include "waf/acl.h"
#include "waf/ip_address.h"
#include "waf/model.h"
#include "waf/state.h"

namespace eg::admin {

namespace {

using json = nlohmann::json;

// AWS's own wording (the curly apostrophes included), so scripts that match on it work.
constexpr std::string_view kOptimisticLockMessage =
    "AWS WAF couldn’t save your changes because you tried to update or delete a resource that "
    "has changed since you last retrieved it. Get the resource again, make any changes you "
    "need, and retry your request.";
constexpr std::string_view kNonexistentMessage =
    "AWS WAF couldn’t perform the operation because your resource doesn’t exist.";
constexpr size_t kMaxAddresses = 10'000;              // CIDRs per IP set (§3.8)
constexpr int64_t kSampleWindowMs = 3 * 3600 * 1000;  // samples are kept for three hours

std::string dump(const json& j) {
  // Header values in samples may hold any bytes: never throw on invalid UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Wafv2Response ok(const json& j) { return {200, "", dump(j)}; }

Wafv2Response nonexistent(std::string_view what) {
  return wafv2_error(400, "WAFNonexistentItemException",
                     std::string(kNonexistentMessage) + " (" + std::string(what) + ")");
}

Wafv2Response invalid_parameter(std::string_view field, std::string_view parameter,
                                std::string_view reason) {
  json j = {{"__type", "WAFInvalidParameterException"},
            {"Field", field},
            {"Parameter", parameter},
            {"Reason", reason},
            {"message", "Error reason: " + std::string(reason) + ", field: " + std::string(field) +
                            ", parameter: " + std::string(parameter)}};
  return {400, "WAFInvalidParameterException", dump(j)};
}

// Reads the request's parameters; the first problem becomes the answer (AWS reports one).
class Input {
 public:
  explicit Input(const json& body) : body_(body) {}

  bool failed() const { return error_.has_value(); }
  Wafv2Response error() const { return *error_; }
  void fail(Wafv2Response r) {
    if (!error_) error_ = std::move(r);
  }

  const json* find(std::string_view name) const {
    auto it = body_.find(name);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }

  std::string text(std::string_view name, std::string_view field, bool required = true,
                   size_t max_length = 2048) {
    const json* v = find(name);
    if (!v) {
      if (required) fail(invalid_parameter(field, name, "The parameter is required."));
      return "";
    }
    if (!v->is_string()) {
      fail(invalid_parameter(field, name, "The parameter must be a string."));
      return "";
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty() || s.size() > max_length) {
      fail(invalid_parameter(
          field, s.substr(0, 256),
          "The parameter must be 1 to " + std::to_string(max_length) + " characters long."));
      return "";
    }
    return s;
  }

  std::optional<int64_t> integer(std::string_view name, std::string_view field, int64_t min,
                                 int64_t max, bool required) {
    const json* v = find(name);
    if (!v) {
      if (required) fail(invalid_parameter(field, name, "The parameter is required."));
      return std::nullopt;
    }
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > max) {
      fail(invalid_parameter(field, v->dump(),
                             std::string(name) + " must be an integer from " + std::to_string(min) +
                                 " to " + std::to_string(max) + "."));
      return std::nullopt;
    }
    return v->get<int64_t>();
  }

  std::string scope() {
    std::string s = text("Scope", "SCOPE_VALUE");
    if (!failed() && s != "CLOUDFRONT" && s != "REGIONAL")
      fail(invalid_parameter("SCOPE_VALUE", s, "The scope is CLOUDFRONT or REGIONAL."));
    return s;
  }

 private:
  const json& body_;
  std::optional<Wafv2Response> error_;
};

// The scope an ARN belongs to: "…:global/ipset/…" is CLOUDFRONT, "…:regional/…" REGIONAL.
std::string_view scope_of(std::string_view arn) {
  return arn.find(":regional/") != std::string_view::npos ? "REGIONAL" : "CLOUDFRONT";
}

// ---- IP sets -----------------------------------------------------------------------------

std::shared_ptr<waf::IpSetHandle> find_ip_set(const WafApiContext& ctx, std::string_view name,
                                              std::string_view id, std::string_view scope) {
  for (auto& h : ctx.state->ip_sets())
    if (h->id == id && h->name == name && scope_of(h->arn) == scope) return h;
  return nullptr;
}

json ip_set_json(const waf::IpSetHandle& h) {
  json addresses = json::array();
  for (const auto& e : h.entries()) addresses.push_back(e.text);
  json set = {{"Name", h.name}, {"Id", h.id}, {"ARN", h.arn}};
  if (!h.description.empty()) set["Description"] = h.description;
  set["IPAddressVersion"] = h.v6 ? "IPV6" : "IPV4";
  set["Addresses"] = std::move(addresses);
  return set;
}

Wafv2Response list_ip_sets(Input& in, const WafApiContext& ctx) {
  std::string scope = in.scope();
  auto limit = in.integer("Limit", "ENTITY_LIMIT", 1, 100, false);
  std::string marker = in.text("NextMarker", "ENTITY_LIMIT", false, 256);
  if (in.failed()) return in.error();
  auto sets = ctx.state->ip_sets();  // sorted by ARN: the marker is the next set's ARN
  json summaries = json::array();
  json out = json::object();
  for (const auto& h : sets) {
    if (scope_of(h->arn) != scope || (!marker.empty() && h->arn < marker)) continue;
    if (summaries.size() == size_t(limit.value_or(100))) {
      out["NextMarker"] = h->arn;
      break;
    }
    json s = {{"Name", h->name}, {"Id", h->id}, {"LockToken", h->lock_token()}, {"ARN", h->arn}};
    if (!h->description.empty()) s["Description"] = h->description;
    summaries.push_back(std::move(s));
  }
  out["IPSets"] = std::move(summaries);
  return ok(out);
}

Wafv2Response get_ip_set(Input& in, const WafApiContext& ctx) {
  std::string name = in.text("Name", "IP_SET", true, 128);
  std::string scope = in.scope();
  std::string id = in.text("Id", "IP_SET", true, 36);
  if (in.failed()) return in.error();
  auto h = find_ip_set(ctx, name, id, scope);
  if (!h) return nonexistent("no " + scope + " IP set named " + name + " with Id " + id);
  // The token first: should the set change in between, the update will be refused.
  std::string token = h->lock_token();
  return ok({{"IPSet", ip_set_json(*h)}, {"LockToken", token}});
}

Wafv2Response update_ip_set(Input& in, const WafApiContext& ctx) {
  std::string name = in.text("Name", "IP_SET", true, 128);
  std::string scope = in.scope();
  std::string id = in.text("Id", "IP_SET", true, 36);
  std::string token = in.text("LockToken", "IP_SET", true, 36);
  std::string description = in.text("Description", "IP_SET", false, 256);
  const json* addresses = in.find("Addresses");
  if (!in.failed() && (!addresses || !addresses->is_array()))
    in.fail(invalid_parameter(
        "IP_ADDRESS", "Addresses",
        addresses ? "Addresses must be a list of CIDR strings." : "The parameter is required."));
  if (in.failed()) return in.error();
  auto h = find_ip_set(ctx, name, id, scope);
  if (!h) return nonexistent("no " + scope + " IP set named " + name + " with Id " + id);
  if (addresses->size() > kMaxAddresses)
    return wafv2_error(400, "WAFLimitsExceededException",
                       "AWS WAF couldn’t perform the operation because you exceeded your "
                       "resource limit: an IP set holds at most 10000 addresses (" +
                           std::to_string(addresses->size()) + " given).");

  // A full replacement, except that an address that stays keeps its expiry: a read-modify-
  // write with the CLI must not turn an operator's temporary block into a permanent one.
  std::map<std::string, int64_t> expiry;
  for (const auto& e : h->entries())
    if (e.expires_ms) expiry[e.text] = e.expires_ms;
  std::vector<waf::IpSetEntry> entries;
  std::set<std::string> seen;
  for (const auto& a : *addresses) {
    if (!a.is_string() || a.get_ref<const std::string&>().empty() ||
        a.get_ref<const std::string&>().size() > 50)
      return invalid_parameter("IP_ADDRESS", a.is_string() ? a.get<std::string>() : a.dump(),
                               "The parameter contains formatting that isn't valid: each "
                               "address is a CIDR string of 1 to 50 characters.");
    const auto& text = a.get_ref<const std::string&>();
    auto p = waf::parse_prefix(text);
    if (!p.prefix)
      return invalid_parameter("IP_ADDRESS", text,
                               "The parameter contains formatting that isn't valid: " + p.error);
    if (p.prefix->length == 0)
      return invalid_parameter("IP_ADDRESS", text,
                               "The parameter contains formatting that isn't valid: /0 is not "
                               "allowed in an IP set.");
    if (p.prefix->address.v6 != h->v6)
      return invalid_parameter("IP_ADDRESS_VERSION", text,
                               std::string("The address is ") + (h->v6 ? "IPv4" : "IPv6") +
                                   "; IP set " + h->name + " holds " + (h->v6 ? "IPV6" : "IPV4") +
                                   " addresses only.");
    if (!seen.insert(text).second) continue;
    auto kept = expiry.find(text);
    entries.push_back({text, *p.prefix, kept == expiry.end() ? 0 : kept->second});
  }
  std::string error;
  auto status = h->update(entries, &token, in.find("Description") ? &description : nullptr, error);
  switch (status) {
    case waf::IpSetHandle::UpdateStatus::Stale:
      return wafv2_error(400, "WAFOptimisticLockException", kOptimisticLockMessage);
    case waf::IpSetHandle::UpdateStatus::Invalid:
      return invalid_parameter("IP_ADDRESS", "Addresses",
                               "The parameter contains formatting that isn't valid: " + error);
    case waf::IpSetHandle::UpdateStatus::Ok:
      break;
  }
  return ok({{"NextLockToken", h->lock_token()}});
}

// ---- the web ACL -------------------------------------------------------------------------

// The loaded ACL, if it is the one the caller names (Name and Id, in the right scope).
const waf::AclModel* find_acl(const WafApiContext& ctx, std::string_view name, std::string_view id,
                              std::string_view scope) {
  if (!ctx.acl) return nullptr;
  const waf::AclModel& m = ctx.acl->model();
  if (m.name != name || m.id != id || scope_of(m.arn) != scope) return nullptr;
  return &m;
}

std::string acl_description(const WafApiContext& ctx) {
  if (!ctx.acl) return "no web ACL is configured (web_acl)";
  const auto& m = ctx.acl->model();
  return "the gateway's web ACL is " + m.name + " with Id " + m.id;
}

// ByteMatchStatement.SearchString is a blob: base64 on the wire, whatever the file held.
void encode_search_strings(json& j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (key == "ByteMatchStatement" && value.is_object() && value.contains("SearchString") &&
          value["SearchString"].is_string())
        value["SearchString"] = base64_encode(value["SearchString"].get_ref<const std::string&>());
      encode_search_strings(value);
    }
  } else if (j.is_array()) {
    for (auto& item : j) encode_search_strings(item);
  }
}

json web_acl_json(const waf::AclModel& m) {
  json doc = json::parse(m.document_json, nullptr, false);
  if (!doc.is_object()) doc = json::object();
  if (!m.search_strings_base64) encode_search_strings(doc);
  doc["Name"] = m.name;
  doc["Id"] = m.id;
  doc["ARN"] = m.arn;
  if (!doc.contains("LabelNamespace")) doc["LabelNamespace"] = m.label_namespace;
  return doc;
}

// The ACL is changed by editing its file and reloading, never through this API, so its lock
// token only needs to change when the document does: a digest of it, in UUID form.
std::string acl_lock_token(const waf::AclModel& m) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(m.document_json.data()), m.document_json.size(),
         digest);
  digest[6] = (digest[6] & 0x0f) | 0x40;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  return format_uuid(digest);
}

Wafv2Response get_web_acl(Input& in, const WafApiContext& ctx) {
  std::string name = in.text("Name", "WEB_ACL", true, 128);
  std::string scope = in.scope();
  std::string id = in.text("Id", "WEB_ACL", true, 36);
  if (in.failed()) return in.error();
  const waf::AclModel* m = find_acl(ctx, name, id, scope);
  if (!m) return nonexistent(acl_description(ctx));
  return ok({{"WebACL", web_acl_json(*m)}, {"LockToken", acl_lock_token(*m)}});
}

// ---- sampled requests --------------------------------------------------------------------

// The rules whose samples a metric name selects: a rule, every rule of a referenced group, or
// (the web ACL's own metric name) every rule.
std::vector<const waf::CompiledRule*> rules_for_metric(const waf::AclModel& m,
                                                       std::string_view metric) {
  std::vector<const waf::CompiledRule*> out;
  auto add = [&](const waf::CompiledRule& r) {
    if (!r.group) {
      out.push_back(&r);
      return;
    }
    for (const auto& inner : r.group->rules) out.push_back(inner.get());
  };
  json doc = json::parse(m.document_json, nullptr, false);
  bool whole_acl = doc.is_object() && doc.contains("VisibilityConfig") &&
                   doc["VisibilityConfig"].is_object() &&
                   doc["VisibilityConfig"].value("MetricName", "") == metric;
  for (const auto& r : m.rules) {
    if (whole_acl || r->metric_name == metric) {
      add(*r);
      continue;
    }
    if (r->group)  // AWS takes the group statement's metric; an inner rule's is a bonus
      for (const auto& inner : r->group->rules)
        if (inner->metric_name == metric) out.push_back(inner.get());
  }
  return out;
}

std::optional<double> timestamp(const json* v) {
  if (!v || !v->is_number()) return std::nullopt;
  double t = v->get<double>();
  if (!std::isfinite(t)) return std::nullopt;
  return t;
}

Wafv2Response get_sampled_requests(Input& in, const WafApiContext& ctx) {
  std::string arn = in.text("WebAclArn", "RESOURCE_ARN", true, 2048);
  std::string metric = in.text("RuleMetricName", "METRIC_NAME", true, 255);
  std::string scope = in.scope();
  auto max_items = in.integer("MaxItems", "ENTITY_LIMIT", 1, 500, true);
  const json* window = in.find("TimeWindow");
  std::optional<double> start, end;
  if (!in.failed()) {
    if (window && window->is_object()) {
      start = timestamp(window->contains("StartTime") ? &(*window)["StartTime"] : nullptr);
      end = timestamp(window->contains("EndTime") ? &(*window)["EndTime"] : nullptr);
    }
    if (!start || !end || *start > *end)
      in.fail(invalid_parameter("EXPIRE_TIMESTAMP", "TimeWindow",
                                "TimeWindow needs StartTime and EndTime (seconds since the "
                                "epoch), StartTime not after EndTime."));
  }
  if (in.failed()) return in.error();
  if (!ctx.acl || ctx.acl->model().arn != arn || scope_of(arn) != scope)
    return nonexistent(ctx.acl ? "the gateway's web ACL is " + ctx.acl->model().arn
                               : acl_description(ctx));
  const waf::AclModel& m = ctx.acl->model();
  auto rules = rules_for_metric(m, metric);
  if (rules.empty())
    return nonexistent("no rule of web ACL " + m.name + " has metric name " + metric);

  // As AWS: a window reaching further back than three hours starts three hours ago.
  *start = std::max(*start, double(ctx.now_ms - kSampleWindowMs) / 1000.0);
  if (*start > *end) *start = *end;
  std::vector<std::pair<double, json>> samples;
  for (const auto* r : rules) {
    std::vector<std::string> copy;
    {
      std::lock_guard lk(r->samples_mu);
      copy = r->samples;
    }
    for (const auto& text : copy) {
      json s = json::parse(text, nullptr, false);
      if (!s.is_object()) continue;
      auto t = timestamp(s.contains("Timestamp") ? &s["Timestamp"] : nullptr);
      if (t && *t >= *start && *t <= *end) samples.emplace_back(*t, std::move(s));
    }
  }
  std::stable_sort(samples.begin(), samples.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t population = samples.size();
  size_t skip = population > size_t(*max_items) ? population - size_t(*max_items) : 0;
  json list = json::array();
  for (size_t i = skip; i < samples.size(); ++i) list.push_back(std::move(samples[i].second));
  return ok({{"SampledRequests", std::move(list)},
             {"PopulationSize", population},
             {"TimeWindow", {{"StartTime", *start}, {"EndTime", *end}}}});
}

// ---- rate-based rules --------------------------------------------------------------------

Wafv2Response get_rate_based_statement_managed_keys(Input& in, const WafApiContext& ctx) {
  std::string scope = in.scope();
  std::string acl_name = in.text("WebACLName", "WEB_ACL", true, 128);
  std::string acl_id = in.text("WebACLId", "WEB_ACL", true, 36);
  std::string rule_name = in.text("RuleName", "RULE", true, 128);
  std::string inner_name = in.text("RuleGroupRuleName", "RULE", false, 128);
  if (in.failed()) return in.error();
  const waf::AclModel* m = find_acl(ctx, acl_name, acl_id, scope);
  if (!m) return nonexistent(acl_description(ctx));
  const waf::CompiledRule* rule = nullptr;
  for (const auto& r : m->rules)
    if (r->name == rule_name) rule = r.get();
  if (rule && !inner_name.empty()) {
    const waf::CompiledRule* outer = rule;
    rule = nullptr;
    if (outer->group)
      for (const auto& r : outer->group->rules)
        if (r->name == inner_name) rule = r.get();
  }
  std::string shown = inner_name.empty() ? rule_name : rule_name + "/" + inner_name;
  if (!rule) return nonexistent("web ACL " + m->name + " has no rule " + shown);
  if (!rule->limiter) return invalid_parameter("RULE", shown, "The rule is not a rate-based rule.");
  if (!rule->rate_keys_are_addresses)
    return wafv2_error(400, "WAFInvalidOperationException",
                       "The operation isn't valid: rule " + shown +
                           " does not aggregate on IP or FORWARDED_IP, so its keys are not "
                           "addresses.");
  // The limiter's clock runs rate_clock_speed times faster in tests: read it the same way.
  auto now_s = int64_t(double(ctx.now_ms) * m->rate_clock_speed / 1000.0);
  json v4 = json::array(), v6 = json::array();
  std::vector<std::string> keys = rule->limiter->limited_keys(now_s);
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    auto a = waf::parse_ip(key);
    if (!a) continue;
    if (a->v6)
      v6.push_back(waf::to_string(*a) + "/128");
    else
      v4.push_back(waf::to_string(*a) + "/32");
  }
  return ok({{"ManagedKeysIPV4", {{"IPAddressVersion", "IPV4"}, {"Addresses", v4}}},
             {"ManagedKeysIPV6", {{"IPAddressVersion", "IPV6"}, {"Addresses", v6}}}});
}

// ---- dispatch ----------------------------------------------------------------------------

struct Operation {
  std::string_view name;
  Wafv2Response (*run)(Input& in, const WafApiContext& ctx);
};

constexpr Operation kOperations[] = {
    {"ListIPSets", list_ip_sets},
    {"GetIPSet", get_ip_set},
    {"UpdateIPSet", update_ip_set},
    {"GetWebACL", get_web_acl},
    {"GetSampledRequests", get_sampled_requests},
    {"GetRateBasedStatementManagedKeys", get_rate_based_statement_managed_keys},
};

}  // namespace

Wafv2Response wafv2_error(int status, std::string_view type, std::string_view message) {
  json j = {{"__type", type}, {"Message", message}};
  return {status, std::string(type), dump(j)};
}

Wafv2Response handle_wafv2(std::string_view target, std::string_view body,
                           const WafApiContext& ctx) {
  const Operation* op = nullptr;
  if (target.starts_with(kWafv2TargetPrefix)) {
    std::string_view name = target.substr(kWafv2TargetPrefix.size());
    for (const auto& o : kOperations)
      if (o.name == name) op = &o;
  }
  if (!op) {
    std::string known;
    for (const auto& o : kOperations) known += (known.empty() ? "" : ", ") + std::string(o.name);
    return wafv2_error(400, "UnknownOperationException",
                       "X-Amz-Target '" + std::string(target.substr(0, 200)) +
                           "' is not an operation this gateway serves (" +
                           std::string(kWafv2TargetPrefix) + "{" + known + "})");
  }
  json params = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (!params.is_object())
    return wafv2_error(400, "SerializationException",
                       "the request body is not a JSON object (AWS JSON 1.1)");
  try {
    Input in(params);
    return op->run(in, ctx);
  } catch (const std::exception& e) {
    // Not expected (every input is checked before use); a bug must not take the admin
    // listener down with it.
    return wafv2_error(500, "WAFInternalErrorException",
                       std::string("Your request is valid, but AWS WAF couldn’t perform the "
                                   "operation because of a system problem: ") +
                           e.what());
  }
}

}  // namespace eg::admin
