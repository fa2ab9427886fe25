// listeners (with TLS certificates), admin, limits, access_log.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "aws/sigv4_verify.h"
#include "config/sections.h"
#include "core/strings.h"

namespace eg::config::detail {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxTokenBytes = 4096;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

int no_password(char*, int, int, void*) { return -1; }  // never prompt on a terminal

std::string display_name(const Val& v) {
  return v.node.IsScalar() ? "'" + v.node.Scalar() + "'" : std::string("file");
}

// Reads the PEM file at `path` (already known to exist) as a certificate chain or a key.
std::unique_ptr<X509, X509Free> read_cert(LoadContext& c, const Val& v, const std::string& path) {
  std::string why;
  auto data = read_small_file(path, kMaxPemBytes, why);
  if (!data) {
    c.r.error(v, "cannot read certificate " + display_name(v) + ": " + why);
    return nullptr;
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(data->data(), int(data->size())));
  std::unique_ptr<X509, X509Free> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr) : nullptr);
  ERR_clear_error();
  if (!cert) {
    c.r.error(v,
              display_name(v) + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
  }
  return cert;
}

std::unique_ptr<EVP_PKEY, PkeyFree> read_key(LoadContext& c, const Val& v,
                                             const std::string& path) {
  std::string why;
  auto data = read_small_file(path, kMaxPemBytes, why);
  if (!data) {
    c.r.error(v, "cannot read key " + display_name(v) + ": " + why);
    return nullptr;
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(data->data(), int(data->size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) {
    if (data->find("ENCRYPTED") != std::string::npos)
      c.r.error(v,
                display_name(v) + " is an encrypted key; edgeguard needs an unencrypted PEM key");
    else
      c.r.error(
          v, display_name(v) + " holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)");
  }
  return key;
}

void load_certificate(LoadContext& c, MapReader& m, std::vector<Certificate>& out) {
  Val cv = m.require("cert");
  Val kv = m.require("key");
  Certificate cert;
  bool have_cert = read_path(c.r, cv, c.base_dir, PathKind::File, cert.cert_file);
  bool have_key = read_path(c.r, kv, c.base_dir, PathKind::File, cert.key_file);
  std::unique_ptr<X509, X509Free> x509;
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
  if (have_cert) x509 = read_cert(c, cv, cert.cert_file);
  if (have_key) pkey = read_key(c, kv, cert.key_file);
  if (x509 && pkey && X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    c.r.error(kv, "key " + display_name(kv) + " does not match certificate " + display_name(cv));
    return;
  }
  out.push_back(std::move(cert));
}

void load_tls(LoadContext& c, const Val& v, TlsListener& tls) {
  MapReader m(c.r, v, {"cert", "key", "certificates", "min_version"});
  if (!m.ok()) return;
  bool shorthand = m.has("cert") || m.has("key");
  if (shorthand && m.has("certificates")) {
    c.r.error(m.get("certificates"), "use either cert/key or certificates, not both");
  } else if (shorthand) {
    load_certificate(c, m, tls.certificates);
  } else if (m.has("certificates")) {
    Val list = m.get("certificates");
    auto certs = items(c.r, list);
    if (list.node.IsSequence() && certs.empty())
      c.r.error(list, "at least one certificate is required");
    for (const auto& item : certs) {
      MapReader cm(c.r, item, {"cert", "key"});
      if (cm.ok()) load_certificate(c, cm, tls.certificates);
    }
  } else {
    c.r.error(v, "a TLS listener needs cert and key, or certificates");
  }
  read_choice(c.r, m.get("min_version"), tls.min_version, {"TLSv1.2", "TLSv1.3"});
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }
bool same_family(const std::string& a, const std::string& b) {
  return (a.find(':') == std::string::npos) == (b.find(':') == std::string::npos);
}

std::string show_address(const std::string& host, uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// Two sockets on one port where one address covers the other: the kernel (with
// SO_REUSEPORT) would split or steal connections between them.
std::string overlap(const std::string& h1, uint16_t p1, const std::string& h2, uint16_t p2) {
  if (p1 != p2 || !same_family(h1, h2)) return "";
  if (h1 == h2) return "duplicate address";
  if (is_wildcard(h1) || is_wildcard(h2)) return "overlapping address";
  return "";
}

// admin.wafv2: the access keys AWS clients sign with (secrets from the store, as for
// shield.sigv4); the verifier is built here so a request never meets a half-made one.
void load_admin_wafv2(LoadContext& c, const Val& v, Admin& a) {
  MapReader m(c.r, v, {"region", "keys"});
  if (!m.ok()) return;
  AdminWafv2 w;
  Val rv = m.get("region");
  if (read_string(c.r, rv, w.region)) {
    bool ok = !w.region.empty();
    for (char ch : w.region)
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
    if (!ok) c.r.error(rv, "'" + w.region + "' is not a region name (like us-east-1)");
  }
  std::vector<aws::sigv4::AccessKey> keys = load_access_keys(c, m.require("keys"));
  for (const auto& key : keys) w.access_key_ids.push_back(key.access_key_id);
  aws::sigv4::VerifierOptions opts;
  opts.service = "wafv2";
  opts.region = w.region;
  opts.allow_presigned = false;  // AWS SDKs and the CLI sign the Authorization header
  w.verifier = std::make_shared<const aws::sigv4::Verifier>(std::move(keys), opts);
  a.wafv2 = std::move(w);
}

}  // namespace

void load_listeners(LoadContext& c, const Val& v) {
  auto list = items(c.r, v);
  if (v.present && v.node.IsSequence() && list.empty())
    c.r.error(v, "at least one listener is required");
  std::vector<std::string> paths;
  for (const auto& item : list) {
    MapReader m(c.r, item, {"address", "tls"});
    if (!m.ok()) continue;
    Listener l;
    Val av = m.require("address");
    std::string addr, why;
    bool addr_ok = false;
    if (read_string(c.r, av, addr)) {
      addr_ok = parse_host_port(addr, l.host, l.port, why);
      if (!addr_ok) c.r.error(av, why);
    }
    if (addr_ok) {
      for (size_t i = 0; i < c.snap.listeners.size(); ++i) {
        const auto& o = c.snap.listeners[i];
        if (o.port == 0) continue;
        std::string what = overlap(l.host, l.port, o.host, o.port);
        if (!what.empty())
          c.r.error(av, what + " " + show_address(l.host, l.port) + ": " + paths[i] +
                            " listens on " + show_address(o.host, o.port));
      }
    }
    if (m.has("tls")) {
      l.tls.emplace();
      load_tls(c, m.get("tls"), *l.tls);
    }
    paths.push_back(item.path);
    c.snap.listeners.push_back(std::move(l));
  }
}

void load_admin(LoadContext& c, const Val& v) {
  Admin& a = c.snap.admin;
  if (!v.present) {
    a.enabled = false;  // no admin section: no admin listener
    return;
  }
  MapReader m(c.r, v, {"address", "token_file", "enabled", "wafv2"});
  if (!m.ok()) return;
  read_bool(c.r, m.get("enabled"), a.enabled);
  if (m.has("wafv2")) load_admin_wafv2(c, m.get("wafv2"), a);
  Val av = m.get("address");
  std::string addr, why;
  if (read_string(c.r, av, addr)) {
    if (!parse_host_port(addr, a.host, a.port, why)) c.r.error(av, why);
  }
  if (a.enabled) {
    for (size_t i = 0; i < c.snap.listeners.size(); ++i) {
      const auto& o = c.snap.listeners[i];
      if (o.port == 0) continue;
      std::string what = overlap(a.host, a.port, o.host, o.port);
      if (!what.empty())
        c.r.error(av.present ? av : m.self(), what + " " + show_address(a.host, a.port) +
                                                  ": listeners[" + std::to_string(i) +
                                                  "] listens on " + show_address(o.host, o.port));
    }
  }
  Val tv = a.enabled ? m.require("token_file") : m.get("token_file");
  if (!read_path(c.r, tv, c.base_dir, PathKind::File, a.token_file)) return;
  auto data = read_small_file(a.token_file, kMaxTokenBytes, why);
  if (!data) {
    c.r.error(tv, "cannot read token file: " + why);
    return;
  }
  std::string_view t = *data;
  auto is_space = [](char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
  };
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
  for (char ch : t) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      c.r.error(tv, "the token must not contain whitespace or control characters");
      return;
    }
  }
  if (t.size() < 16) {
    c.r.error(tv, "the token must be at least 16 characters long (the file holds " +
                      std::to_string(t.size()) + ")");
    return;
  }
  a.token = std::string(t);
}

void load_limits(LoadContext& c, const Val& v) {
  MapReader m(c.r, v,
              {"max_request_line", "max_header_bytes", "max_header_count", "max_request_body",
               "header_timeout", "body_timeout", "idle_timeout", "send_timeout", "drain_timeout"});
  if (!m.ok()) return;
  Limits& l = c.snap.limits;
  constexpr uint64_t kGiB = 1ull << 30;
  uint64_t n = 0;
  if (read_size(c.r, m.get("max_request_line"), n, 16, kGiB)) l.max_request_line = n;
  if (read_size(c.r, m.get("max_header_bytes"), n, 64, kGiB)) l.max_header_bytes = n;
  if (read_size(c.r, m.get("max_request_body"), n, 0, UINT64_MAX)) l.max_request_body = n;
  int64_t count = 0;
  if (read_int(c.r, m.get("max_header_count"), count, 1, 100'000)) l.max_header_count = count;
  read_duration(c.r, m.get("header_timeout"), l.header_timeout);
  read_duration(c.r, m.get("body_timeout"), l.body_timeout);
  read_duration(c.r, m.get("idle_timeout"), l.idle_timeout);
  read_duration(c.r, m.get("send_timeout"), l.send_timeout);
  read_duration(c.r, m.get("drain_timeout"), l.drain_timeout, 0);
}

void load_access_log(LoadContext& c, const Val& v) {
  MapReader m(c.r, v,
              {"path", "format", "edge_location", "log_cookies", "buffer_size", "flush_interval"});
  if (!m.ok()) return;
  AccessLog& a = c.snap.access_log;
  read_path(c.r, m.require("path"), c.base_dir, PathKind::ParentDirectory, a.path);
  std::string format;
  if (read_choice(c.r, m.get("format"), format, {"cloudfront", "json"}))
    a.format = format == "json" ? AccessLog::Format::Json : AccessLog::Format::CloudFront;
  Val ev = m.get("edge_location");
  if (read_string(c.r, ev, a.edge_location)) {
    for (char ch : a.edge_location) {
      bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '_';
      if (!ok) {
        c.r.error(ev, "may hold only letters, digits, '-' and '_'");
        break;
      }
    }
  }
  read_bool(c.r, m.get("log_cookies"), a.log_cookies);
  uint64_t n = 0;
  if (read_size(c.r, m.get("buffer_size"), n, 1, 1ull << 30)) a.buffer_bytes = n;
  read_duration(c.r, m.get("flush_interval"), a.flush_interval);
}

}  // namespace eg::config::detail
