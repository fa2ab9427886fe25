// origins and the secrets store they reference.
#include <algorithm>

#include "config/sections.h"
#include "core/strings.h"
#include "functions/function.h"

namespace eg::config::detail {
namespace {

constexpr size_t kMaxSecretsBytes = 16 << 20;

bool is_name(std::string_view s, std::string_view extra) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              extra.find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Headers CloudFront refuses as custom origin headers, plus other hop-by-hop ones.
const std::vector<std::string> kForbiddenHeaders = {"cache-control",
                                                    "connection",
                                                    "content-length",
                                                    "cookie",
                                                    "host",
                                                    "if-match",
                                                    "if-modified-since",
                                                    "if-none-match",
                                                    "if-range",
                                                    "if-unmodified-since",
                                                    "keep-alive",
                                                    "max-forwards",
                                                    "pragma",
                                                    "proxy-authorization",
                                                    "proxy-connection",
                                                    "range",
                                                    "request-range",
                                                    "te",
                                                    "trailer",
                                                    "transfer-encoding",
                                                    "upgrade",
                                                    "via",
                                                    "x-real-ip"};

void load_secret(Reader& r, const Val& v, Secret& s) {
  MapReader m(r, v, {"versions"});
  if (!m.ok()) return;
  Val list = m.require("versions");
  auto versions = items(r, list);
  if (list.present && list.node.IsSequence() && versions.empty())
    r.error(list, "a secret needs at least one version");
  std::vector<std::pair<std::string, std::string>> stage_owner;  // stage -> version id
  for (const auto& item : versions) {
    MapReader vm(r, item, {"id", "value", "stages"});
    if (!vm.ok()) continue;
    SecretVersion sv;
    Val idv = vm.require("id");
    if (read_string(r, idv, sv.id)) {
      for (const auto& other : s.versions)
        if (other.id == sv.id) r.error(idv, "duplicate version id '" + sv.id + "'");
    }
    read_string(r, vm.require("value"), sv.value, true);
    Val stages = vm.require("stages");
    for (const auto& st : items(r, stages)) {
      std::string stage;
      if (!read_string(r, st, stage)) continue;
      if (stage == "AWSCURRENT" || stage == "AWSPENDING" || stage == "AWSPREVIOUS")
        stage = stage.substr(3);  // Secrets Manager's names for the same stages
      auto owner = std::find_if(stage_owner.begin(), stage_owner.end(),
                                [&](const auto& p) { return p.first == stage; });
      if (owner != stage_owner.end()) {
        r.error(st, "stage " + stage + " is already on version '" + owner->second + "'");
        continue;
      }
      stage_owner.emplace_back(stage, sv.id);
      sv.stages.push_back(stage);
    }
    s.versions.push_back(std::move(sv));
  }
}

bool parse_url(std::string_view url, Origin& o, std::string& why) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    why = "expected an absolute URL like https://origin.example.com";
    return false;
  }
  std::string scheme = to_lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    why = "the scheme must be http or https, found '" + scheme + "'";
    return false;
  }
  o.https = scheme == "https";
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    why = "an origin URL must not contain a query or a fragment";
    return false;
  }
  for (char ch : rest) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      why = "an origin URL must not contain spaces or control characters";
      return false;
    }
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    why = "credentials in an origin URL are not supported; use custom_headers";
    return false;
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "unterminated IPv6 address";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      why = "unexpected characters after the IPv6 address";
      return false;
    }
    if (!after.empty()) port = after.substr(1);
    if (!(host.find(':') != std::string_view::npos &&
          host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos)) {
      why = "'" + std::string(host) + "' is not an IPv6 address";
      return false;
    }
    o.host = to_lower(host);
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) {
      why = "the URL has no host";
      return false;
    }
    if (!is_dns_name(host)) {
      why = "'" + std::string(host) + "' is not a valid host name";
      return false;
    }
    o.host = to_lower(host);
    if (colon != std::string_view::npos && port.empty()) {
      why = "empty port";
      return false;
    }
  }
  o.port = o.https ? 443 : 80;
  if (!port.empty()) {
    auto n = parse_uint(port);
    if (!n || *n < 1 || *n > 65535) {
      why = "port '" + std::string(port) + "' must be a number between 1 and 65535";
      return false;
    }
    o.port = uint16_t(*n);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  o.path_prefix = std::string(path);
  return true;
}

void load_custom_headers(LoadContext& c, const Val& v, Origin& o) {
  MapReader m(c.r, v);
  if (!m.ok()) return;
  for (const auto& e : m.entries()) {
    if (!is_token(e.name)) {
      c.r.error(e.key, "'" + e.name + "' is not a valid header name");
      continue;
    }
    std::string lower = to_lower(e.name);
    if (std::find(kForbiddenHeaders.begin(), kForbiddenHeaders.end(), lower) !=
            kForbiddenHeaders.end() ||
        starts_with(lower, "x-amz-") || starts_with(lower, "x-edge-")) {
      c.r.error(e.key, "header '" + e.name + "' cannot be set as a custom origin header");
      continue;
    }
    bool dup = false;
    for (const auto& h : o.custom_headers) {
      if (iequals(h.name, e.name)) {
        c.r.error(e.key, "duplicate header '" + e.name + "' (header names ignore case)");
        dup = true;
      }
    }
    if (dup) continue;
    CustomHeader h;
    h.name = e.name;
    if (e.value.node.IsMap()) {
      MapReader sm(c.r, e.value, {"secret"});
      if (!sm.ok()) continue;
      Val sv = sm.require("secret");
      if (!read_string(c.r, sv, h.secret)) continue;
      if (const Secret* secret = find_secret(c, sv, h.secret); secret && !secret->current())
        c.r.error(sv, "secret '" + h.secret + "' has no version with stage CURRENT");
    } else if (e.value.node.IsScalar() && !e.value.node.IsNull()) {
      h.value = e.value.node.Scalar();
      if (h.value.find_first_of("\r\n", 0) != std::string::npos ||
          std::any_of(h.value.begin(), h.value.end(), [](char ch) {
            return (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f;
          })) {
        c.r.error(e.value, "a header value must not contain control characters");
        continue;
      }
    } else {
      c.r.error(e.value, "expected a header value or {secret: NAME}, found " +
                             describe(e.value.node, false));
      continue;
    }
    o.custom_headers.push_back(std::move(h));
  }
}

void load_origin(LoadContext& c, const Val& v, Origin& o) {
  static const std::vector<std::string> kHttpKeys = {
      "connect_timeout", "read_timeout", "keepalive_timeout", "max_idle_connections", "tls"};
  static const std::vector<std::string> kDirKeys = {"index_document"};
  std::vector<std::string> known = {"url", "directory", "echo", "custom_headers", "sign"};
  known.insert(known.end(), kHttpKeys.begin(), kHttpKeys.end());
  known.insert(known.end(), kDirKeys.begin(), kDirKeys.end());
  MapReader m(c.r, v, known);
  if (!m.ok()) return;

  bool echo = false;
  Val ev = m.get("echo");
  read_bool(c.r, ev, echo);
  const char* kind_key = nullptr;
  for (const char* k : {"url", "directory", "echo"}) {
    if (!m.has(k) || (std::string_view(k) == "echo" && !echo)) continue;
    if (kind_key) {
      c.r.error(m.get(k), std::string("'") + k + "' cannot be combined with '" + kind_key +
                              "': an origin has exactly one of url, directory or echo");
      continue;
    }
    kind_key = k;
  }
  if (!kind_key) {
    if (!ev.present)
      c.r.error(v, "an origin needs exactly one of 'url', 'directory' or 'echo: true'");
    else if (!echo && ev.node.IsScalar())
      c.r.error(ev,
                "echo: false leaves the origin without a kind; use url, directory or echo: true");
    return;
  }
  std::string kind = kind_key;
  o.kind = kind == "url"         ? OriginKind::Http
           : kind == "directory" ? OriginKind::Directory
                                 : OriginKind::Echo;
  for (const auto& e : m.entries()) {
    bool http_only = std::find(kHttpKeys.begin(), kHttpKeys.end(), e.name) != kHttpKeys.end();
    bool dir_only = std::find(kDirKeys.begin(), kDirKeys.end(), e.name) != kDirKeys.end();
    if ((http_only && o.kind != OriginKind::Http) || (dir_only && o.kind != OriginKind::Directory))
      c.r.error(e.key, "'" + e.name + "' applies to " + (http_only ? "url" : "directory") +
                           " origins only");
  }

  if (o.kind == OriginKind::Http) {
    Val uv = m.get("url");
    std::string url, why;
    bool url_ok = read_string(c.r, uv, url) && parse_url(url, o, why);
    if (!why.empty()) c.r.error(uv, why);
    read_duration(c.r, m.get("connect_timeout"), o.connect_timeout);
    read_duration(c.r, m.get("read_timeout"), o.read_timeout);
    read_duration(c.r, m.get("keepalive_timeout"), o.keepalive_timeout, 0);
    int64_t n = 0;
    if (read_int(c.r, m.get("max_idle_connections"), n, 0, 100'000)) o.max_idle_connections = n;
    Val tv = m.get("tls");
    if (tv.present) {
      if (url_ok && !o.https) c.r.error(tv, "tls applies to https origins only");
      MapReader tm(c.r, tv, {"verify", "ca_file", "sni"});
      if (tm.ok()) {
        read_bool(c.r, tm.get("verify"), o.tls_verify);
        read_path(c.r, tm.get("ca_file"), c.base_dir, PathKind::File, o.ca_file);
        Val sni = tm.get("sni");
        if (read_string(c.r, sni, o.sni)) {
          bool ip = o.sni.find_first_not_of("0123456789.") == std::string::npos ||
                    o.sni.find(':') != std::string::npos;
          if (ip || !is_dns_name(o.sni)) c.r.error(sni, "sni must be a DNS host name");
          o.sni = to_lower(o.sni);
        }
      }
    }
  } else if (o.kind == OriginKind::Directory) {
    read_path(c.r, m.get("directory"), c.base_dir, PathKind::Directory, o.directory);
    Val iv = m.get("index_document");
    if (read_string(c.r, iv, o.index_document, true) &&
        (o.index_document.find('/') != std::string::npos || o.index_document == "." ||
         o.index_document == ".."))
      c.r.error(iv, "index_document must be a file name without '/'");
  }
  load_custom_headers(c, m.get("custom_headers"), o);
  if (m.has("sign")) load_origin_sign(c, m.get("sign"), o);
}

}  // namespace

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  for (char ch : s) {
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              kExtra.find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (auto label : split(s, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!is_name(label, "-_")) return false;
  }
  return true;
}

const Secret* find_secret(LoadContext& c, const Val& v, const std::string& name) {
  if (!c.secrets_configured) {
    c.r.error(
        v, "secret '" + name + "' is referenced but no secrets store is configured (secrets.file)");
    return nullptr;
  }
  if (!c.secrets_ok) return nullptr;  // the store's own errors are already reported
  auto it = c.snap.secrets.find(name);
  if (it == c.snap.secrets.end()) {
    std::vector<std::string> names;
    for (const auto& [n, s] : c.snap.secrets) names.push_back(n);
    c.r.error(v, "unknown secret '" + name + "'" + did_you_mean(name, names));
    return nullptr;
  }
  return &it->second;
}

void load_secrets(LoadContext& c, const Val& v) {
  MapReader m(c.r, v, {"file"});
  if (!m.ok()) return;
  c.secrets_configured = true;
  Val fv = m.require("file");
  if (!read_path(c.r, fv, c.base_dir, PathKind::File, c.snap.secrets_file)) return;
  std::string why;
  auto text = read_small_file(c.snap.secrets_file, kMaxSecretsBytes, why);
  if (!text) {
    c.r.error(fv, "cannot read the secrets store: " + why);
    return;
  }
  size_t before = c.errors.size();
  Reader sr(c.snap.secrets_file, c.errors, /*redact=*/true);
  YAML::Node doc;
  try {
    doc = YAML::Load(*text);
  } catch (const YAML::ParserException& e) {
    sr.error(Pos{e.mark.line + 1, e.mark.column + 1}, "", "invalid JSON: " + e.msg);
    return;
  } catch (const std::exception& e) {
    sr.error(Pos{1, 1}, "", std::string("invalid JSON: ") + e.what());
    return;
  }
  Val root = sr.root(doc);
  if (!root.present || doc.IsNull()) {
    sr.error(root, "the secrets store is empty; expected {\"secrets\": {...}}");
    return;
  }
  MapReader top(sr, root, {"secrets"});
  if (!top.ok()) return;
  MapReader names(sr, top.require("secrets"));
  for (const auto& e : names.entries()) {
    if (!is_name(e.name, "/_+=.@-")) {
      sr.error(e.key, "invalid secret name '" + e.name +
                          "' (letters, digits and /_+=.@- only, up to 128 characters)");
      continue;
    }
    Secret s;
    s.name = e.name;
    load_secret(sr, e.value, s);
    c.snap.secrets.emplace(e.name, std::move(s));
  }
  c.secrets_ok = c.errors.size() == before;
}

void load_origins(LoadContext& c, const Val& v) {
  MapReader m(c.r, v);
  if (!m.ok()) return;
  if (m.entries().empty() && v.node.size() == 0) c.r.error(v, "at least one origin is required");
  for (const auto& e : m.entries()) {
    if (!is_name(e.name, "_.-")) {
      c.r.error(e.key, "invalid origin name '" + e.name +
                           "' (letters, digits, '_', '.' and '-' only, up to 128 characters)");
    }
    Origin o;
    o.name = e.name;
    load_origin(c, e.value, o);
    c.snap.origin_index[o.name] = c.snap.origins.size();
    c.snap.origins.push_back(std::move(o));
  }
}

std::shared_ptr<const functions::OriginInfo> function_view_of(const Origin& o) {
  auto info = std::make_shared<functions::OriginInfo>();
  if (o.kind == OriginKind::Http) {
    info->kind = functions::OriginInfo::Kind::Custom;
    info->domain_name = o.host;
    info->port = o.port;
    info->protocol = o.https ? "https" : "http";
    info->keepalive_timeout_s =
        int(std::chrono::duration_cast<std::chrono::seconds>(o.keepalive_timeout).count());
    info->read_timeout_s =
        int(std::chrono::duration_cast<std::chrono::seconds>(o.read_timeout).count());
  } else {
    info->kind = functions::OriginInfo::Kind::S3;
    info->domain_name = o.name + ".s3.amazonaws.com";
  }
  info->path = o.path_prefix;
  for (const auto& h : o.custom_headers)
    if (h.secret.empty() && !h.value.empty()) info->custom_headers.push_back({h.name, h.value});
  return info;
}

}  // namespace eg::config::detail
