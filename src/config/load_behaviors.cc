// behaviors (methods, policies, rewrites, function bindings) and custom_error_responses.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/sections.h"
#include "core/strings.h"
#include "functions/compile.h"

namespace eg::config::detail {
namespace {

const std::vector<std::string> kAllMethods = {"GET",  "HEAD",  "OPTIONS", "PUT",
                                              "POST", "PATCH", "DELETE"};
const std::vector<std::string> kEvents = {"viewer-request", "origin-request", "origin-response",
                                          "viewer-response"};
constexpr size_t kMaxPattern = 255;
constexpr int kMaxOptionDepth = 32;
constexpr size_t kMaxOptionNodes = 10'000;

bool pattern_char_ok(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         std::string_view("_-.*?$/~\"'@:+&").find(ch) != std::string_view::npos;
}

// A list of methods or one of the keywords; must be one of CloudFront's sets.
bool read_methods(LoadContext& c, const Val& v, std::vector<std::string>& out, bool cached) {
  if (!v.present) return false;
  std::vector<std::string> set;
  std::vector<std::string> keywords = {"GET_HEAD", "GET_HEAD_OPTIONS"};
  if (!cached) keywords.push_back("ALL");
  if (v.node.IsScalar() && !v.node.IsNull()) {
    std::string kw;
    if (!read_choice(c.r, v, kw, keywords)) return false;
    size_t n = kw == "GET_HEAD" ? 2 : kw == "GET_HEAD_OPTIONS" ? 3 : kAllMethods.size();
    out.assign(kAllMethods.begin(), kAllMethods.begin() + long(n));
    return true;
  }
  if (!v.node.IsSequence()) {
    c.r.error(v, "expected a list of methods or one of " + quoted_list(keywords) + ", found " +
                     describe(v.node, false));
    return false;
  }
  bool ok = true;
  for (const auto& item : items(c.r, v)) {
    std::string m;
    if (!read_string(c.r, item, m)) {
      ok = false;
      continue;
    }
    if (std::find(kAllMethods.begin(), kAllMethods.end(), m) == kAllMethods.end()) {
      c.r.error(item, "unknown method '" + m + "'" + did_you_mean(m, kAllMethods));
      ok = false;
    } else if (std::find(set.begin(), set.end(), m) != set.end()) {
      c.r.error(item, "duplicate method '" + m + "'");
    } else {
      set.push_back(m);
    }
  }
  if (!ok) return false;
  std::vector<std::string> canon;
  for (const auto& m : kAllMethods)
    if (std::find(set.begin(), set.end(), m) != set.end()) canon.push_back(m);
  bool valid = canon.size() == 2 || canon.size() == 3 || (!cached && canon.size() == 7);
  valid = valid && std::equal(canon.begin(), canon.end(), kAllMethods.begin());
  if (!valid) {
    c.r.error(v, cached ? "cached_methods must be [GET, HEAD] or [GET, HEAD, OPTIONS]"
                        : "allowed_methods must be [GET, HEAD], [GET, HEAD, OPTIONS] or all "
                          "seven [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]");
    return false;
  }
  out = std::move(canon);
  return true;
}

void load_forward_list(LoadContext& c, const Val& v, ForwardList& fl, bool headers) {
  fl.mode = ForwardList::Mode::None;
  MapReader m(c.r, v, {"behavior", "items"});
  if (!m.ok()) return;
  std::vector<std::string> modes = {"none", "all", "whitelist", "allExcept"};
  if (headers) modes.push_back("allViewer");
  std::string mode;
  if (!read_choice(c.r, m.require("behavior"), mode, modes)) return;
  fl.mode = mode == "none"        ? ForwardList::Mode::None
            : mode == "whitelist" ? ForwardList::Mode::Whitelist
            : mode == "allExcept" ? ForwardList::Mode::AllExcept
                                  : ForwardList::Mode::All;
  bool listed = fl.mode == ForwardList::Mode::Whitelist || fl.mode == ForwardList::Mode::AllExcept;
  Val iv = m.get("items");
  if (!listed) {
    if (iv.present) c.r.error(iv, "items apply only to behavior whitelist or allExcept");
    return;
  }
  if (!iv.present) {
    c.r.error(iv, "behavior " + mode + " needs items");
    return;
  }
  for (const auto& item : items(c.r, iv)) {
    std::string s;
    if (!read_string(c.r, item, s)) continue;
    if (headers) {
      if (!is_token(s)) {
        c.r.error(item, "'" + s + "' is not a valid header name");
        continue;
      }
      s = to_lower(s);
    }
    if (std::find(fl.items.begin(), fl.items.end(), s) == fl.items.end()) fl.items.push_back(s);
  }
  if (iv.node.IsSequence() && iv.node.size() == 0) c.r.error(iv, "items must not be empty");
}

void load_origin_request_policy(LoadContext& c, const Val& v, OriginRequestPolicy& p) {
  using M = ForwardList::Mode;
  auto set = [&](M h, M k, M q, bool host) {
    p.headers = {h, {}};
    p.cookies = {k, {}};
    p.query_strings = {q, {}};
    p.forward_host = host;
  };
  if (!v.present) {
    p.name = "AllViewerExceptHostHeader";
    set(M::All, M::All, M::All, false);
    return;
  }
  if (v.node.IsMap()) {
    p.name = "custom";
    MapReader m(c.r, v, {"headers", "cookies", "query_strings", "forward_host"});
    if (!m.ok()) return;
    set(M::None, M::None, M::None, false);
    if (m.has("headers")) load_forward_list(c, m.get("headers"), p.headers, true);
    if (m.has("cookies")) load_forward_list(c, m.get("cookies"), p.cookies, false);
    if (m.has("query_strings"))
      load_forward_list(c, m.get("query_strings"), p.query_strings, false);
    read_bool(c.r, m.get("forward_host"), p.forward_host);
    return;
  }
  static const std::vector<std::string> kNames = {"None",
                                                  "AllViewer",
                                                  "AllViewerExceptHostHeader",
                                                  "UserAgentRefererHeaders",
                                                  "CORS-CustomOrigin",
                                                  "CORS-S3Origin"};
  std::string name;
  if (v.node.IsScalar() && !v.node.IsNull()) {
    name = v.node.Scalar();
    if (starts_with(name, "Managed-")) name = name.substr(8);  // CloudFront's managed names
  }
  if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) {
    c.r.error(v, "expected one of " + quoted_list(kNames) + " or a custom policy map, found " +
                     describe(v.node, false) + did_you_mean(name, kNames));
    return;
  }
  p.name = name;
  if (name == "None") set(M::None, M::None, M::None, false);
  if (name == "AllViewer") set(M::All, M::All, M::All, true);
  if (name == "AllViewerExceptHostHeader") set(M::All, M::All, M::All, false);
  if (name == "UserAgentRefererHeaders") {
    set(M::Whitelist, M::None, M::All, false);
    p.headers.items = {"user-agent", "referer"};
  }
  if (name == "CORS-CustomOrigin") {
    set(M::Whitelist, M::None, M::All, false);
    p.headers.items = {"origin"};
  }
  if (name == "CORS-S3Origin") {
    set(M::Whitelist, M::None, M::None, false);
    p.headers.items = {"origin", "access-control-request-headers", "access-control-request-method"};
  }
}

bool check_rewrite_path(LoadContext& c, const Val& v, std::string& out, bool wildcard) {
  if (!read_string(c.r, v, out)) return false;
  if (out[0] != '/') {
    c.r.error(v, "must start with '/'");
    return false;
  }
  if (wildcard) {
    size_t first = out.find("<*>");
    if (first == std::string::npos || out.find("<*>", first + 1) != std::string::npos) {
      c.r.error(v, "must contain '<*>' exactly once");
      return false;
    }
  }
  return true;
}

void load_rewrite(LoadContext& c, const Val& v, PathRewrite& rw) {
  MapReader m(c.r, v, {"strip_prefix", "from", "to"});
  if (!m.ok()) return;
  bool strip = m.has("strip_prefix"), wild = m.has("from") || m.has("to");
  if (strip && wild) {
    c.r.error(m.get("strip_prefix"), "use either strip_prefix, or from and to, not both");
    return;
  }
  if (strip) {
    Val sv = m.get("strip_prefix");
    if (!check_rewrite_path(c, sv, rw.prefix, false)) return;
    while (!rw.prefix.empty() && rw.prefix.back() == '/') rw.prefix.pop_back();
    if (rw.prefix.empty()) {
      c.r.error(sv, "strip_prefix must be a path like /hotels, not '/'");
      return;
    }
    if (rw.prefix.find_first_of("*?") != std::string::npos) {
      c.r.error(sv, "strip_prefix is a literal prefix; wildcards are not allowed");
      return;
    }
    rw.kind = PathRewrite::Kind::StripPrefix;
  } else if (wild) {
    bool ok = check_rewrite_path(c, m.require("from"), rw.from, true);
    ok = check_rewrite_path(c, m.require("to"), rw.to, true) && ok;
    if (ok) rw.kind = PathRewrite::Kind::Wildcard;
  } else {
    c.r.error(v, "rewrite needs strip_prefix, or from and to");
  }
}

// Extra keys of a function binding, kept as JSON for the functions module.
bool to_json(Reader& r, const Val& v, nlohmann::json& out, int depth, size_t& budget) {
  if (depth > kMaxOptionDepth || ++budget > kMaxOptionNodes) {
    r.error(v, "function options are nested too deeply or too large");
    return false;
  }
  const YAML::Node& n = v.node;
  if (n.IsMap()) {
    out = nlohmann::json::object();
    MapReader m(r, v);
    if (!m.ok()) return false;
    for (const auto& e : m.entries())
      if (!to_json(r, e.value, out[e.name], depth + 1, budget)) return false;
    return true;
  }
  if (n.IsSequence()) {
    out = nlohmann::json::array();
    for (const auto& item : items(r, v)) {
      out.push_back(nullptr);
      if (!to_json(r, item, out.back(), depth + 1, budget)) return false;
    }
    return true;
  }
  if (!n.IsScalar()) {
    out = nullptr;
    return true;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") {
    out = s;
    return true;
  }
  if (s == "true" || s == "True" || s == "TRUE")
    out = true;
  else if (s == "false" || s == "False" || s == "FALSE")
    out = false;
  else {
    out = s;
    int64_t i = 0;
    double d = 0;
    size_t used = 0;
    bool numeric = !s.empty() && s.find_first_not_of("0123456789+-.eE") == std::string::npos;
    try {
      if (numeric && s.find_first_of(".eE") == std::string::npos) {
        i = std::stoll(s, &used);
        if (used == s.size()) out = i;
      } else if (numeric) {
        d = std::stod(s, &used);
        if (used == s.size()) out = d;
      }
    } catch (const std::exception&) {
      // keeps the string
    }
  }
  return true;
}

void load_functions(LoadContext& c, const Val& v, std::vector<FunctionRef>& out) {
  MapReader m(c.r, v, kEvents);
  if (!m.ok()) return;
  for (const auto& event : kEvents) {
    Val bv = m.get(event);
    if (!bv.present) continue;
    MapReader bm(c.r, bv);
    if (!bm.ok()) continue;
    FunctionRef f;
    f.event = event;
    Val builtin = bm.get("builtin"), file = bm.get("file");
    if (builtin.present && file.present) {
      c.r.error(file, "use either builtin or file, not both");
      continue;
    }
    if (builtin.present) {
      f.kind = "builtin";
      if (!read_string(c.r, builtin, f.name)) continue;
      if (f.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
        c.r.error(builtin, "a builtin name holds only a-z, 0-9, '-' and '_'");
        continue;
      }
    } else if (file.present) {
      f.kind = "file";
      if (!read_path(c.r, file, c.base_dir, PathKind::File, f.name)) continue;
    } else {
      c.r.error(bv, "a function binding needs builtin: NAME or file: PATH");
      continue;
    }
    Val ib = bm.get("include_body");
    if (read_bool(c.r, ib, f.include_body) && f.include_body &&
        (event == "origin-response" || event == "viewer-response"))
      c.r.error(ib, "include_body applies to viewer-request and origin-request only");
    nlohmann::json opts = nlohmann::json::object();
    size_t budget = 0;
    bool ok = true;
    for (const auto& e : bm.entries()) {
      if (e.name == "builtin" || e.name == "file" || e.name == "include_body") continue;
      ok = to_json(c.r, e.value, opts[e.name], 1, budget) && ok;
    }
    if (!ok) continue;
    // Invalid UTF-8 in the YAML text becomes U+FFFD rather than an exception.
    f.options_json = opts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    functions::Binding binding;
    binding.event = *functions::parse_event_type(event);
    binding.builtin = f.kind == "builtin";
    binding.name = f.name;
    binding.display_name = binding.builtin ? f.name : file.node.Scalar();
    binding.include_body = f.include_body;
    binding.options = std::move(opts);
    binding.base_dir = c.base_dir;
    std::string error;
    f.compiled = functions::compile_binding(binding, error);
    if (!f.compiled) {
      c.r.error(binding.builtin ? builtin : file, error);
      continue;
    }
    out.push_back(std::move(f));
  }
}

void load_behavior(LoadContext& c, MapReader& m, Behavior& b) {
  Val pv = m.require("path");
  if (read_string(c.r, pv, b.path_pattern)) {
    if (b.path_pattern == "default") {
      b.is_default = true;
    } else {
      if (b.path_pattern[0] != '/') b.path_pattern.insert(0, "/");
      if (b.path_pattern.size() > kMaxPattern) {
        c.r.error(pv, "a path pattern is at most 255 characters");
      } else {
        for (char ch : b.path_pattern) {
          if (!pattern_char_ok(ch)) {
            std::string shown = static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f
                                    ? std::string("a control character")
                                    : "'" + std::string(1, ch) + "'";
            c.r.error(pv, shown +
                              " is not allowed in a path pattern (allowed: letters, digits "
                              "and _-.*?$/~\"'@:+&)");
            break;
          }
        }
      }
    }
  }
  Val ov = m.require("origin");
  if (read_string(c.r, ov, b.origin) && !c.snap.origin_index.empty()) {
    auto it = c.snap.origin_index.find(b.origin);
    if (it != c.snap.origin_index.end()) {
      b.origin_index = it->second;
    } else {
      std::vector<std::string> names;
      for (const auto& [n, i] : c.snap.origin_index) names.push_back(n);
      c.r.error(ov, "unknown origin '" + b.origin + "'" + did_you_mean(b.origin, names));
    }
  }
  b.allowed_methods = {"GET", "HEAD"};
  b.cached_methods = {"GET", "HEAD"};
  Val am = m.get("allowed_methods");
  bool allowed_ok = !am.present || read_methods(c, am, b.allowed_methods, false);
  Val cm = m.get("cached_methods");
  if (read_methods(c, cm, b.cached_methods, true) && allowed_ok &&
      b.cached_methods.size() > b.allowed_methods.size())
    c.r.error(cm, "cached_methods includes OPTIONS but allowed_methods does not");
  std::string vpp;
  if (read_choice(c.r, m.get("viewer_protocol_policy"), vpp,
                  {"allow-all", "redirect-to-https", "https-only"}))
    b.viewer_protocol_policy = vpp == "allow-all"           ? ViewerProtocolPolicy::AllowAll
                               : vpp == "redirect-to-https" ? ViewerProtocolPolicy::RedirectToHttps
                                                            : ViewerProtocolPolicy::HttpsOnly;
  load_origin_request_policy(c, m.get("origin_request_policy"), b.origin_request_policy);
  read_string(c.r, m.get("cache_policy"), b.cache_policy);
  if (m.has("rewrite")) load_rewrite(c, m.get("rewrite"), b.rewrite);
  if (m.has("functions")) load_functions(c, m.get("functions"), b.functions);
  for (const auto& f : b.functions)
    b.function_at[size_t(*functions::parse_event_type(f.event))] = f.compiled.get();
  // CloudFront refuses CloudFront Functions and Lambda@Edge on the viewer events of one
  // behavior (mixing across viewer and origin events is allowed).
  const functions::Function* vreq = b.function_at[size_t(functions::EventType::ViewerRequest)];
  const functions::Function* vresp = b.function_at[size_t(functions::EventType::ViewerResponse)];
  if (vreq && vresp && vreq->runtime() != vresp->runtime() && vreq->runtime() != "builtin" &&
      vresp->runtime() != "builtin")
    c.r.error(m.get("functions"),
              "viewer-request runs " + std::string(vreq->runtime()) + " and viewer-response " +
                  std::string(vresp->runtime()) +
                  ": a behavior's viewer events cannot mix CloudFront Functions and Lambda@Edge "
                  "(as CloudFront)");
  if (m.has("shield")) load_shield(c, m.get("shield"), b.shield);
}

}  // namespace

void load_function_settings(LoadContext& c, const Val& v) {
  MapReader m(c.r, v, {"log", "distribution_id", "distribution_domain"});
  if (!m.ok()) return;
  Functions& f = c.snap.functions;
  if (m.has("log")) read_path(c.r, m.get("log"), c.base_dir, PathKind::ParentDirectory, f.log_file);
  Val id = m.get("distribution_id");
  if (read_string(c.r, id, f.distribution_id) &&
      (f.distribution_id.empty() || f.distribution_id.size() > 64 ||
       f.distribution_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
           std::string::npos))
    c.r.error(id, "a distribution id is 1-64 upper-case letters and digits, like EDFDVBD6EXAMPLE");
  Val domain = m.get("distribution_domain");
  if (read_string(c.r, domain, f.distribution_domain) && !is_dns_name(f.distribution_domain))
    c.r.error(domain, "must be a DNS name, like d111111abcdef8.cloudfront.net");
}

void load_behaviors(LoadContext& c, const Val& v) {
  auto list = items(c.r, v);
  if (v.present && v.node.IsSequence() && list.empty())
    c.r.error(v, "at least one behavior is required (the last one with path: default)");
  bool seen_default = false;
  std::vector<std::pair<std::string, int>> patterns;  // pattern -> line
  for (size_t i = 0; i < list.size(); ++i) {
    MapReader m(c.r, list[i],
                {"path", "origin", "allowed_methods", "cached_methods", "viewer_protocol_policy",
                 "origin_request_policy", "cache_policy", "rewrite", "functions", "shield"});
    if (!m.ok()) continue;
    Behavior b;
    load_behavior(c, m, b);
    Val pv = m.get("path");
    if (b.is_default) {
      if (seen_default)
        c.r.error(pv, "only one behavior may have path: default");
      else if (i + 1 != list.size())
        c.r.error(pv, "the default behavior must be the last one");
      seen_default = true;
    } else if (!b.path_pattern.empty()) {
      for (const auto& [p, line] : patterns)
        if (p == b.path_pattern)
          c.r.error(pv, "duplicate path pattern '" + p + "' (first at line " +
                            std::to_string(line) + ")");
      patterns.emplace_back(b.path_pattern, pv.pos.line);
    }
    c.snap.behaviors.push_back(std::move(b));
  }
  if (!list.empty() && !seen_default)
    c.r.error(v, "the last behavior must be the default one (path: default)");
}

void load_custom_errors(LoadContext& c, const Val& v) {
  for (const auto& item : items(c.r, v)) {
    MapReader m(c.r, item,
                {"error_code", "response_page_path", "response_code", "error_caching_min_ttl"});
    if (!m.ok()) continue;
    CustomErrorResponse e;
    int64_t n = 0;
    Val ev = m.require("error_code");
    if (read_int(c.r, ev, n, 400, 599)) {
      e.error_code = int(n);
      for (const auto& other : c.snap.custom_error_responses)
        if (other.error_code == e.error_code)
          c.r.error(ev, "duplicate error_code " + std::to_string(n));
    }
    Val pv = m.get("response_page_path");
    if (read_string(c.r, pv, e.response_page_path) && e.response_page_path[0] != '/')
      c.r.error(pv, "must start with '/'");
    Val rv = m.get("response_code");
    if (read_int(c.r, rv, n, 0, 599)) {
      if (n != 0 && n < 100)
        c.r.error(rv, "must be 0 or between 100 and 599");
      else if (n != 0 && !pv.present)
        c.r.error(rv, "response_code needs a response_page_path");
      e.response_code = int(n);
    }
    if (read_int(c.r, m.get("error_caching_min_ttl"), n, 0, 31'536'000))
      e.error_caching_min_ttl = n;
    c.snap.custom_error_responses.push_back(std::move(e));
  }
}

}  // namespace eg::config::detail
