#include <nlohmann/json.hpp>

#include "admin/admin_server.h"

namespace eg::admin {
namespace {

constexpr const char* kRedacted = "<redacted>";

const char* mode_name(config::ForwardList::Mode m) {
  switch (m) {
    case config::ForwardList::Mode::None: return "none";
    case config::ForwardList::Mode::All: return "all";
    case config::ForwardList::Mode::Whitelist: return "whitelist";
    case config::ForwardList::Mode::AllExcept: return "allExcept";
  }
  return "?";
}

nlohmann::ordered_json forward(const config::ForwardList& f) {
  return {{"behavior", mode_name(f.mode)}, {"items", f.items}};
}

const char* vpp_name(config::ViewerProtocolPolicy p) {
  switch (p) {
    case config::ViewerProtocolPolicy::AllowAll: return "allow-all";
    case config::ViewerProtocolPolicy::RedirectToHttps: return "redirect-to-https";
    case config::ViewerProtocolPolicy::HttpsOnly: return "https-only";
  }
  return "?";
}

}  // namespace

std::string config_json(const config::Snapshot& s, uint64_t generation) {
  using J = nlohmann::ordered_json;
  J j;
  j["generation"] = generation;
  j["source_file"] = s.source_file;
  J listeners = J::array();
  for (const auto& l : s.listeners) {
    J lj{{"address", l.host + ":" + std::to_string(l.port)}};
    if (l.tls) {
      J certs = J::array();
      for (const auto& c : l.tls->certificates) certs.push_back({{"cert", c.cert_file}, {"key", c.key_file}});
      lj["tls"] = {{"certificates", certs}, {"min_version", l.tls->min_version}};
    }
    listeners.push_back(lj);
  }
  j["listeners"] = listeners;
  J origins = J::object();
  for (const auto& o : s.origins) {
    J oj;
    switch (o.kind) {
      case config::OriginKind::Http:
        oj["url"] = std::string(o.https ? "https://" : "http://") + o.host + ":" +
                    std::to_string(o.port) + o.path_prefix;
        oj["connect_timeout_ms"] = o.connect_timeout.count();
        oj["read_timeout_ms"] = o.read_timeout.count();
        oj["keepalive_timeout_ms"] = o.keepalive_timeout.count();
        if (o.https) oj["tls"] = {{"verify", o.tls_verify}, {"ca_file", o.ca_file}, {"sni", o.sni}};
        break;
      case config::OriginKind::Directory:
        oj["directory"] = o.directory;
        oj["index_document"] = o.index_document;
        break;
      case config::OriginKind::Echo:
        oj["echo"] = true;
        break;
    }
    J headers = J::object();
    for (const auto& h : o.custom_headers)
      headers[h.name] = h.secret.empty() ? J(kRedacted) : J{{"secret", h.secret}};
    if (!headers.empty()) oj["custom_headers"] = headers;
    origins[o.name] = oj;
  }
  j["origins"] = origins;
  J behaviors = J::array();
  for (const auto& b : s.behaviors) {
    const auto& p = b.origin_request_policy;
    J bj{{"path", b.path_pattern},
         {"origin", b.origin},
         {"allowed_methods", b.allowed_methods},
         {"cached_methods", b.cached_methods},
         {"viewer_protocol_policy", vpp_name(b.viewer_protocol_policy)},
         {"origin_request_policy",
          {{"name", p.name},
           {"headers", forward(p.headers)},
           {"cookies", forward(p.cookies)},
           {"query_strings", forward(p.query_strings)},
           {"forward_host", p.forward_host}}},
         {"cache_policy", b.cache_policy}};
    if (b.rewrite.kind == config::PathRewrite::Kind::StripPrefix)
      bj["rewrite"] = {{"strip_prefix", b.rewrite.prefix}};
    else if (b.rewrite.kind == config::PathRewrite::Kind::Wildcard)
      bj["rewrite"] = {{"from", b.rewrite.from}, {"to", b.rewrite.to}};
    J fns = J::object();
    for (const auto& f : b.functions) fns[f.event] = {{f.kind, f.name}, {"include_body", f.include_body}};
    if (!fns.empty()) bj["functions"] = fns;
    behaviors.push_back(bj);
  }
  j["behaviors"] = behaviors;
  J errors = J::array();
  for (const auto& e : s.custom_error_responses)
    errors.push_back({{"error_code", e.error_code},
                      {"response_page_path", e.response_page_path},
                      {"response_code", e.response_code},
                      {"error_caching_min_ttl", e.error_caching_min_ttl}});
  j["custom_error_responses"] = errors;
  J secrets = J::object();
  for (const auto& [name, sec] : s.secrets) {
    J versions = J::array();
    for (const auto& v : sec.versions)
      versions.push_back({{"id", v.id}, {"stages", v.stages}, {"value", kRedacted}});
    secrets[name] = {{"versions", versions}};
  }
  j["secrets"] = {{"file", s.secrets_file}, {"names", secrets}};
  j["access_log"] = {{"path", s.access_log.path},
                     {"format", s.access_log.format == config::AccessLog::Format::Json ? "json" : "cloudfront"},
                     {"edge_location", s.access_log.edge_location},
                     {"log_cookies", s.access_log.log_cookies}};
  j["admin"] = {{"address", s.admin.host + ":" + std::to_string(s.admin.port)},
                {"token_file", s.admin.token_file},
                {"token", kRedacted}};
  if (s.admin.wafv2)
    j["admin"]["wafv2"] = {{"region", s.admin.wafv2->region},
                           {"access_key_ids", s.admin.wafv2->access_key_ids}};
  const auto& l = s.limits;
  j["limits"] = {{"max_request_line", l.max_request_line},
                 {"max_header_bytes", l.max_header_bytes},
                 {"max_header_count", l.max_header_count},
                 {"max_request_body", l.max_request_body},
                 {"header_timeout_ms", l.header_timeout.count()},
                 {"body_timeout_ms", l.body_timeout.count()},
                 {"idle_timeout_ms", l.idle_timeout.count()},
                 {"send_timeout_ms", l.send_timeout.count()},
                 {"drain_timeout_ms", l.drain_timeout.count()}};
  j["development"] = s.development;
  if (!s.web_acl.empty()) j["web_acl"] = s.web_acl;
  return j.dump(2) + "\n";
}

}  // namespace eg::admin
