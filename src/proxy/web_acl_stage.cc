#include "proxy/web_acl_stage.h"

#include <fmt/format.h>

#include "core/log.h"
#include "logs/access_log.h"

namespace eg::proxy {

WebAclOutcome run_web_acl(const WebAclInput& in, http::Headers& extra_origin_headers) {
  WebAclOutcome out;
  const auto& challenge = in.acl.challenge();
  if (challenge.is_endpoint(in.request.uri_path)) {
    out.answer = challenge.answer_endpoint(in.request);
    return out;
  }
  waf::Verdict v;
  try {
    v = in.acl.evaluate(in.request);
  } catch (const std::exception& e) {
    // Only resource exhaustion gets here (the loader refused everything invalid).
    out.failed = true;
    log::error("web ACL {}: evaluation failed: {}", in.acl.name(), e.what());
    if (in.acl.on_error() == waf::FailurePolicy::Closed) {
      http::Response r;
      r.status = 503;
      r.headers.set("Content-Type", "text/plain");
      r.body = "503 Service Unavailable: the web ACL could not evaluate this request";
      r.body += in.development ? std::string(" (") + e.what() + ")\n" : "\n";
      out.answer = std::move(r);
    }
    return out;
  }
  if (in.log) {
    std::string line = in.acl.log_record(in.request, v, "HTTP/1.1", in.request.now_ms);
    line += '\n';
    in.log->write(line);
  }
  for (const auto& h : v.insert_headers) extra_origin_headers.set(h.name, h.value);
  if (v.response && v.enforced) out.answer = std::move(v.response);
  return out;
}

std::string render_web_acl_metrics(const waf::Acl& acl) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out,
                 "# HELP edgeguard_waf_rule_requests_total Requests a web ACL rule matched, by "
                 "what it did.\n# TYPE edgeguard_waf_rule_requests_total counter\n");
  auto esc = [](std::string_view s) {
    std::string r;
    for (char c : s) {
      if (c == '"' || c == '\\') r += '\\';
      r += c;
    }
    return r;
  };
  auto rules = acl.metrics();
  fmt::format_to(out,
                 "# HELP edgeguard_waf_rate_tracked_keys Aggregation keys a rate-based rule "
                 "tracks (bounded by rate_limit_max_keys).\n"
                 "# TYPE edgeguard_waf_rate_tracked_keys gauge\n"
                 "# HELP edgeguard_waf_rate_bytes_per_key State bytes per tracked key.\n"
                 "# TYPE edgeguard_waf_rate_bytes_per_key gauge\n");
  for (const auto& m : rules)
    if (m.rate_based)
      fmt::format_to(out,
                     "edgeguard_waf_rate_tracked_keys{{acl=\"{}\",rule=\"{}\"}} {}\n"
                     "edgeguard_waf_rate_bytes_per_key{{acl=\"{}\",rule=\"{}\"}} {}\n",
                     esc(acl.name()), esc(m.name), m.rate_tracked_keys, esc(acl.name()),
                     esc(m.name), m.rate_bytes_per_key);
  for (const auto& m : rules) {
    std::pair<std::string_view, uint64_t> rows[] = {
        {"matched", m.matched}, {"allowed", m.allowed},      {"blocked", m.blocked},
        {"counted", m.counted}, {"challenge", m.challenged}, {"captcha", m.captcha}};
    for (const auto& [what, n] : rows)
      fmt::format_to(
          out, "edgeguard_waf_rule_requests_total{{acl=\"{}\",rule=\"{}\",outcome=\"{}\"}} {}\n",
          esc(acl.name()), esc(m.name), what, n);
  }
  return o;
}

}  // namespace eg::proxy
