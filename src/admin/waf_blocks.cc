#include "admin/waf_blocks.h"

#include <time.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/http_date.h"
#include "core/strings.h"
#include "waf/acl.h"
#include "waf/ip_address.h"
#include "waf/model.h"
#include "waf/state.h"

namespace eg::admin {

namespace {

using json = nlohmann::json;

AdminReply reply(int status, const json& j) {
  return {status, "application/json", j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"};
}

AdminReply error(int status, std::string_view message) {
  return reply(status, {{"error", message}});
}

std::string scope_of(std::string_view arn) {
  return arn.find(":regional/") != std::string_view::npos ? "REGIONAL" : "CLOUDFRONT";
}

std::string known_sets(const WafApiContext& ctx) {
  std::string out;
  for (const auto& h : ctx.state->ip_sets()) out += (out.empty() ? "" : ", ") + h->name;
  return out.empty() ? "none are loaded" : "known: " + out;
}

// By ARN, Id or name. A name may be shared by a CLOUDFRONT and a REGIONAL set (AWS allows
// it): then the caller must say which, rather than have one picked for them.
std::shared_ptr<waf::IpSetHandle> find_set(const WafApiContext& ctx, const std::string& key,
                                           std::string& ambiguity) {
  auto sets = ctx.state->ip_sets();
  for (const auto& by : {&waf::IpSetHandle::arn, &waf::IpSetHandle::id, &waf::IpSetHandle::name}) {
    std::vector<std::shared_ptr<waf::IpSetHandle>> found;
    for (const auto& h : sets)
      if ((*h).*by == key) found.push_back(h);
    if (found.size() == 1) return found[0];
    if (found.size() > 1) {
      ambiguity = key + " names " + std::to_string(found.size()) + " IP sets; use the ARN:";
      for (const auto& h : found) ambiguity += " " + h->arn;
      return nullptr;
    }
  }
  return nullptr;
}

json ip_sets_json(const WafApiContext& ctx) {
  json sets = json::array();
  for (const auto& h : ctx.state->ip_sets()) {
    json addresses = json::array();
    for (const auto& e : h->entries()) {
      json a = {{"address", e.text}};
      if (e.expires_ms) {
        a["expires"] = format_iso8601(e.expires_ms, false);
        a["expires_ms"] = e.expires_ms;
        a["expires_in_seconds"] = std::max<int64_t>(0, (e.expires_ms - ctx.now_ms + 999) / 1000);
      } else {
        a["expires"] = nullptr;  // permanent
      }
      addresses.push_back(std::move(a));
    }
    sets.push_back({{"name", h->name},
                    {"id", h->id},
                    {"arn", h->arn},
                    {"scope", scope_of(h->arn)},
                    {"ip_address_version", h->v6 ? "IPV6" : "IPV4"},
                    {"lock_token", h->lock_token()},
                    {"file", h->source_file},
                    {"addresses", std::move(addresses)}});
  }
  return {{"ip_sets", std::move(sets)}};
}

// "203.0.113.7" is taken as "203.0.113.7/32" (and a bare IPv6 address as /128): IP sets hold
// CIDRs, and the operator's intent is plain.
std::string as_cidr(std::string_view text) {
  std::string s(trim(text));
  if (s.find('/') == std::string::npos) {
    if (auto a = waf::parse_ip(s)) s += a->v6 ? "/128" : "/32";
  }
  return s;
}

AdminReply add_address(const std::shared_ptr<waf::IpSetHandle>& h, std::string_view body,
                       const WafApiContext& ctx) {
  json req = json::parse(body, nullptr, false);
  if (!req.is_object())
    return error(400, R"(the body is a JSON object: {"address": "203.0.113.7/32", "ttl": "10m"})");
  auto addr = req.find("address");
  if (addr == req.end() || !addr->is_string() || addr->get_ref<const std::string&>().empty())
    return error(400, "\"address\" (a CIDR string such as \"203.0.113.7/32\") is required");
  std::string cidr = as_cidr(addr->get_ref<const std::string&>());
  auto p = waf::parse_prefix(cidr);
  if (!p.prefix) return error(400, cidr + ": " + p.error);
  if (p.prefix->length == 0) return error(400, cidr + ": /0 is not allowed in an IP set");
  int64_t expires_ms = 0;
  auto ttl = req.find("ttl");
  if (ttl != req.end() && !ttl->is_null()) {
    std::optional<int64_t> ms;
    if (ttl->is_string())
      ms = parse_duration_ms(ttl->get_ref<const std::string&>());
    else if (ttl->is_number_unsigned() && ttl->get<uint64_t>() <= 366ull * 86400)
      ms = int64_t(ttl->get<uint64_t>()) * 1000;
    if (!ms || *ms <= 0)
      return error(400,
                   "\"ttl\" is a positive duration (\"90s\", \"10m\", \"2h\") or a number "
                   "of seconds; leave it out for a permanent entry");
    expires_ms = ctx.now_ms + *ms;
  }
  // A temporary block of an address the set already holds for good must not end the
  // permanent one when it expires.
  for (const auto& e : h->entries())
    if (e.text == cidr && e.expires_ms == 0) expires_ms = 0;
  std::string why;
  if (!h->add(cidr, expires_ms, why)) return error(400, why);
  json out = {{"ip_set", h->name}, {"address", cidr}, {"lock_token", h->lock_token()}};
  out["expires"] = expires_ms ? json(format_iso8601(expires_ms, false)) : json(nullptr);
  if (expires_ms) out["expires_ms"] = expires_ms;
  return reply(200, out);
}

AdminReply remove_address(const std::shared_ptr<waf::IpSetHandle>& h, std::string_view raw) {
  auto decoded = percent_decode(raw);
  if (!decoded || decoded->empty())
    return error(400,
                 "the address in the path is not a valid "
                 "url-encoded CIDR (203.0.113.7%2F32)");
  std::string cidr = as_cidr(*decoded);
  if (!h->remove(cidr) && !h->remove(*decoded))
    return error(404, cidr + " is not in IP set " + h->name);
  return reply(200, {{"ip_set", h->name}, {"removed", cidr}, {"lock_token", h->lock_token()}});
}

json rate_limited_json(const WafApiContext& ctx) {
  json rules = json::array();
  if (!ctx.acl) return {{"rules", rules}};
  const waf::AclModel& m = ctx.acl->model();
  auto now_s = int64_t(double(ctx.now_ms) * m.rate_clock_speed / 1000.0);
  auto add = [&](const waf::CompiledRule& r) {
    if (!r.limiter) return;
    std::vector<std::string> keys = r.limiter->limited_keys(now_s);
    std::sort(keys.begin(), keys.end());
    json shown = json::array();
    for (auto k : keys) {
      // Custom keys are joined with the unit separator; show them as the traces do.
      std::replace(k.begin(), k.end(), '\x1f', '|');
      shown.push_back(k.empty() ? "(constant)" : k);
    }
    rules.push_back({{"rule", r.display},
                     {"limit", r.limiter->options().limit},
                     {"window_seconds", r.limiter->options().window_seconds},
                     {"keys", std::move(shown)}});
  };
  for (const auto& r : m.rules) {
    add(*r);
    if (r->group)
      for (const auto& inner : r->group->rules) add(*inner);
  }
  return {{"rules", rules}};
}

AdminReply method_not_allowed(std::string_view allowed) {
  return error(405, "use " + std::string(allowed));
}

}  // namespace

std::optional<AdminReply> handle_waf_admin(std::string_view method, std::string_view path,
                                           std::string_view body, const WafApiContext& ctx) {
  if (path == "/waf/rate-limited") {
    if (method != "GET") return method_not_allowed("GET");
    return reply(200, rate_limited_json(ctx));
  }
  if (path == "/waf/ip-sets" || path == "/waf/ip-sets/") {
    if (method != "GET") return method_not_allowed("GET");
    return reply(200, ip_sets_json(ctx));
  }
  constexpr std::string_view kSets = "/waf/ip-sets/";
  if (!path.starts_with(kSets)) {
    if (path == "/waf" || path.starts_with("/waf/"))
      return error(404,
                   "try GET /waf/ip-sets, POST /waf/ip-sets/<name>/addresses, DELETE "
                   "/waf/ip-sets/<name>/addresses/<cidr>, GET /waf/rate-limited");
    return std::nullopt;
  }
  std::string_view rest = path.substr(kSets.size());
  size_t slash = rest.find('/');
  std::string_view raw_name = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
  constexpr std::string_view kAddresses = "/addresses";
  if (!tail.starts_with(kAddresses) ||
      (tail.size() > kAddresses.size() && tail[kAddresses.size()] != '/'))
    return error(404,
                 "try POST /waf/ip-sets/<name>/addresses or DELETE "
                 "/waf/ip-sets/<name>/addresses/<url-encoded cidr>");
  auto name = percent_decode(raw_name);
  if (!name || name->empty()) return error(400, "the IP set name in the path is not valid");
  std::string why;
  auto h = find_set(ctx, *name, why);
  if (!h)
    return error(why.empty() ? 404 : 409,
                 why.empty() ? "no IP set named " + *name + " (" + known_sets(ctx) + ")" : why);
  std::string_view cidr = tail.substr(std::min(tail.size(), kAddresses.size() + 1));
  if (cidr.empty()) {
    if (method != "POST") return method_not_allowed("POST (to add an address)");
    return add_address(h, body, ctx);
  }
  if (method != "DELETE") return method_not_allowed("DELETE (to remove the address)");
  return remove_address(h, cidr);
}

}  // namespace eg::admin
