// `web_acl:` — a WAFv2 web ACL (and the IP sets, regex pattern sets and rule groups it
// references) compiled at load time, so a bad document is refused with the old config still
// serving. The short form is a path to the WebACL JSON.
#include "config/sections.h"
#include "waf/acl.h"
#include "waf/state.h"

namespace eg::config::detail {

namespace {

constexpr size_t kMaxDocumentBytes = 16 << 20;

bool read_document(LoadContext& c, const Val& v, waf::Document& out) {
  if (!read_path(c.r, v, c.base_dir, PathKind::File, out.source)) return false;
  std::string why;
  auto text = read_small_file(out.source, kMaxDocumentBytes, why);
  if (!text) {
    c.r.error(v, "cannot read " + out.source + ": " + why);
    return false;
  }
  out.text = std::move(*text);
  return true;
}

void read_documents(LoadContext& c, const Val& v, std::vector<waf::Document>& out) {
  for (const auto& item : items(c.r, v)) {
    waf::Document d;
    if (read_document(c, item, d)) out.push_back(std::move(d));
  }
}

}  // namespace

void load_web_acl(LoadContext& c, const Val& v, std::shared_ptr<waf::WafState> state) {
  waf::AclInput in;
  WebAcl& w = c.snap.waf;
  Val file_val = v;
  if (v.node.IsScalar()) {
    if (!read_document(c, v, in.web_acl)) return;
  } else {
    MapReader m(c.r, v,
                {"file", "ip_sets", "regex_sets", "rule_groups", "search_strings", "geo_database",
                 "asn_database", "mode", "on_error", "challenge_key", "rate_limit_max_keys",
                 "sampled_requests", "log", "rate_clock_speed"});
    if (!m.ok()) return;
    file_val = m.require("file");
    if (!read_document(c, file_val, in.web_acl)) return;
    read_documents(c, m.get("ip_sets"), in.ip_sets);
    read_documents(c, m.get("regex_sets"), in.regex_sets);
    read_documents(c, m.get("rule_groups"), in.rule_groups);
    std::string choice;
    if (read_choice(c.r, m.get("search_strings"), choice, {"auto", "base64", "text"}))
      in.search_strings = choice == "base64" ? waf::SearchStrings::Base64
                          : choice == "text" ? waf::SearchStrings::Text
                                             : waf::SearchStrings::Auto;
    read_path(c.r, m.get("geo_database"), c.base_dir, PathKind::File, in.geo_database);
    read_path(c.r, m.get("asn_database"), c.base_dir, PathKind::File, in.asn_database);
    if (read_choice(c.r, m.get("mode"), choice, {"enforce", "count"}))
      in.count_only = choice == "count";
    if (read_choice(c.r, m.get("on_error"), choice, {"open", "closed"}))
      in.on_error = choice == "closed" ? waf::FailurePolicy::Closed : waf::FailurePolicy::Open;
    if (m.has("challenge_key")) {
      Val kv = m.get("challenge_key");
      MapReader km(c.r, kv, {"secret"});
      std::string name;
      if (km.ok() && read_string(c.r, km.require("secret"), name))
        if (const Secret* s = find_secret(c, km.get("secret"), name))
          if (const SecretVersion* cur = s->current()) in.challenge_key = cur->value;
    }
    int64_t n = 0;
    if (read_int(c.r, m.get("rate_limit_max_keys"), n, 100, 100'000'000))
      in.rate_max_keys = size_t(n);
    if (read_int(c.r, m.get("sampled_requests"), n, 0, 500)) in.sampled_per_rule = size_t(n);
    if (read_int(c.r, m.get("rate_clock_speed"), n, 1, 3600)) in.rate_clock_speed = double(n);
    read_path(c.r, m.get("log"), c.base_dir, PathKind::ParentDirectory, w.log_file);
  }
  c.snap.web_acl = in.web_acl.source;
  if (c.r.error_count()) return;
  auto loaded = waf::load_acl(in, state ? state : std::make_shared<waf::WafState>());
  if (!loaded.acl) {
    c.r.error(file_val, loaded.error);
    return;
  }
  w.acl = std::move(loaded.acl);
}

}  // namespace eg::config::detail
