// Origin lock-down settings: a behavior's `shield:` (what the shield side admits) and an
// origin's `sign:` (SigV4 on the edge side).
#include <algorithm>

#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"
#include "config/sections.h"
#include "core/strings.h"

namespace eg::config::detail {
namespace {

constexpr size_t kMaxAddressFileBytes = 8 << 20;

void load_address_file(LoadContext& c, const Val& fv, Shield& s) {
  if (!read_path(c.r, fv, c.base_dir, PathKind::File, s.addresses_file)) return;
  std::string why;
  auto text = read_small_file(s.addresses_file, kMaxAddressFileBytes, why);
  if (!text) {
    c.r.error(fv, "cannot read the address file: " + why);
    return;
  }
  Reader file_reader(s.addresses_file, c.errors);  // errors point into the address file
  int line_no = 0;
  for (std::string_view line : split(*text, '\n')) {
    ++line_no;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    auto p = parse_address_prefix(line, why);
    if (!p) {
      file_reader.error(Pos{line_no, 1}, "", why);
      continue;
    }
    s.addresses.push_back(*p);
  }
}

void load_addresses(LoadContext& c, const Val& v, Shield& s) {
  s.check_addresses = true;
  if (v.node.IsSequence()) {
    for (const auto& item : items(c.r, v)) {
      std::string text, why;
      if (!read_string(c.r, item, text)) continue;
      if (auto p = parse_address_prefix(text, why))
        s.addresses.push_back(*p);
      else
        c.r.error(item, why);
    }
    return;
  }
  MapReader m(c.r, v, {"file", "list"});
  if (!m.ok()) return;
  if (!m.has("file") && !m.has("list"))
    c.r.error(v, "addresses needs 'file' (one prefix per line) and/or 'list'");
  if (m.has("file")) load_address_file(c, m.get("file"), s);
  if (m.has("list")) {
    Val lv = m.get("list");
    Shield tmp;
    load_addresses(c, lv, tmp);
    s.addresses.insert(s.addresses.end(), tmp.addresses.begin(), tmp.addresses.end());
  }
}

void load_verify(LoadContext& c, const Val& v, Shield& s) {
  MapReader m(c.r, v, {"header", "secret"});
  if (!m.ok()) return;
  Val hv = m.require("header");
  if (read_string(c.r, hv, s.verify_header) && !is_token(s.verify_header))
    c.r.error(hv, "'" + s.verify_header + "' is not a valid header name");
  Val sv = m.require("secret");
  if (!read_string(c.r, sv, s.verify_secret)) return;
  if (const Secret* secret = find_secret(c, sv, s.verify_secret)) {
    if (const SecretVersion* cur = secret->current()) s.verify_values.push_back(cur->value);
    if (const SecretVersion* pen = secret->pending()) s.verify_values.push_back(pen->value);
    if (s.verify_values.empty())
      c.r.error(sv, "secret '" + s.verify_secret + "' has neither a CURRENT nor a PENDING version");
  }
}

void load_sigv4_check(LoadContext& c, const Val& v, Shield& s) {
  MapReader m(c.r, v, {"keys", "service", "region", "max_skew", "errors"});
  if (!m.ok()) return;
  std::vector<aws::sigv4::AccessKey> keys = load_access_keys(c, m.require("keys"));
  aws::sigv4::VerifierOptions opts;
  read_string(c.r, m.get("service"), opts.service);
  read_string(c.r, m.get("region"), opts.region);
  Duration skew = std::chrono::seconds(opts.max_skew);
  if (read_duration(c.r, m.get("max_skew"), skew, 1000))
    opts.max_skew = std::chrono::duration_cast<std::chrono::seconds>(skew);
  opts.allow_unsigned_payload = opts.service == "s3";
  std::string shape;
  if (read_choice(c.r, m.get("errors"), shape, {"xml", "json"}))
    s.sigv4_json_errors = shape == "json";
  s.sigv4 = std::make_shared<const aws::sigv4::Verifier>(std::move(keys), opts);
}

}  // namespace

std::vector<aws::sigv4::AccessKey> load_access_keys(LoadContext& c, const Val& kv) {
  std::vector<aws::sigv4::AccessKey> keys;
  auto list = items(c.r, kv);
  if (kv.present && kv.node.IsSequence() && list.empty())
    c.r.error(kv, "at least one key is required");
  for (const auto& item : list) {
    MapReader km(c.r, item, {"access_key_id", "secret"});
    if (!km.ok()) continue;
    aws::sigv4::AccessKey key;
    Val idv = km.require("access_key_id");
    if (read_string(c.r, idv, key.access_key_id)) {
      bool listed = std::any_of(keys.begin(), keys.end(), [&](const aws::sigv4::AccessKey& k) {
        return k.access_key_id == key.access_key_id;
      });
      if (listed)
        c.r.error(idv, "access key id '" + key.access_key_id + "' is listed twice");
      else if (key.access_key_id.find_first_of("/ ,=") != std::string::npos)
        c.r.error(idv, "an access key id has no '/', ',', '=' or spaces");
    }
    Val sv = km.require("secret");
    std::string name;
    if (read_string(c.r, sv, name)) {
      if (const Secret* secret = find_secret(c, sv, name)) {
        if (const SecretVersion* cur = secret->current())
          key.secret_access_key = cur->value;
        else
          c.r.error(sv, "secret '" + name + "' has no version with stage CURRENT");
      }
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

void load_shield(LoadContext& c, const Val& v, Shield& s) {
  MapReader m(c.r, v, {"mode", "origin_verify", "sigv4", "addresses"});
  if (!m.ok()) return;
  std::string mode;
  if (read_choice(c.r, m.get("mode"), mode, {"any", "all"}))
    s.mode = mode == "all" ? Shield::Mode::All : Shield::Mode::Any;
  if (m.has("origin_verify")) load_verify(c, m.get("origin_verify"), s);
  if (m.has("sigv4")) load_sigv4_check(c, m.get("sigv4"), s);
  if (m.has("addresses")) load_addresses(c, m.get("addresses"), s);
  if (!m.has("origin_verify") && !m.has("sigv4") && !m.has("addresses"))
    c.r.error(v, "a shield needs at least one of origin_verify, sigv4 or addresses");
}

void load_origin_sign(LoadContext& c, const Val& v, Origin& o) {
  MapReader m(c.r, v, {"sigv4"});
  if (!m.ok()) return;
  Val sv = m.require("sigv4");
  MapReader sm(
      c.r, sv,
      {"service", "region", "profile", "credentials_file", "config_file", "max_signed_body"});
  if (!sm.ok()) return;
  Origin::SigV4 sig;
  read_string(c.r, sm.get("service"), sig.service);
  read_string(c.r, sm.get("region"), sig.region);
  read_string(c.r, sm.get("profile"), sig.profile);
  read_path(c.r, sm.get("credentials_file"), c.base_dir, PathKind::File, sig.credentials_file);
  read_path(c.r, sm.get("config_file"), c.base_dir, PathKind::File, sig.config_file);
  read_size(c.r, sm.get("max_signed_body"), sig.max_signed_body, 0, uint64_t(1) << 30);
  if (o.kind != OriginKind::Http) {
    c.r.error(v, "sign applies to url origins only");
    return;
  }
  if ((sig.service.empty() || sig.region.empty()) && !o.host.empty()) {
    auto inferred = aws::sigv4::infer_service_region(o.host);
    if (!inferred) {
      c.r.error(sv, "cannot tell the service and region from the host '" + o.host +
                        "'; set sigv4.service and sigv4.region");
      return;
    }
    if (sig.service.empty()) sig.service = inferred->service;
    if (sig.region.empty()) sig.region = inferred->region;
  }
  o.sigv4 = std::move(sig);
}

}  // namespace eg::config::detail
