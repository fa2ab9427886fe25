#include "proxy/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/strings.h"

namespace eg::proxy {
namespace {

// Mozilla "intermediate" TLS 1.2 ciphers; TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string ssl_error() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct SniEntry {
  std::vector<std::string> names;  // lowercase; "*.example.com" allowed
  SSL_CTX* ctx;
};

struct SniTable {
  std::vector<SniEntry> entries;
  std::vector<std::shared_ptr<asio::ssl::context>> keep;  // owns the per-certificate contexts
};

bool name_matches(std::string_view pattern, std::string_view host) {
  if (starts_with(pattern, "*.")) {
    size_t dot = host.find('.');
    return dot != std::string_view::npos && iequals(pattern.substr(1), host.substr(dot));
  }
  return iequals(pattern, host);
}

std::vector<std::string> certificate_names(SSL_CTX* ctx) {
  std::vector<std::string> names;
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (!cert) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      auto* s = gn->d.dNSName;
      names.push_back(to_lower(std::string_view(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), size_t(ASN1_STRING_length(s)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(to_lower(cn));
  }
  return names;
}

int sni_callback(SSL* ssl, int*, void* arg) {
  auto* table = static_cast<SniTable*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  for (const auto& e : table->entries)
    for (const auto& n : e.names)
      if (name_matches(n, name)) {
        SSL_set_SSL_CTX(ssl, e.ctx);
        return SSL_TLSEXT_ERR_OK;
      }
  return SSL_TLSEXT_ERR_OK;  // the default certificate answers
}

std::shared_ptr<asio::ssl::context> base_server_context(const config::TlsListener& cfg,
                                                        const config::Certificate& c,
                                                        std::string* error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, cfg.min_version == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(
      h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(h, kCiphers);
  SSL_CTX_set_mode(h, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(h, c.cert_file.c_str()) != 1) {
    *error = "certificate " + c.cert_file + ": " + ssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(h, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "key " + c.key_file + ": " + ssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(h) != 1) {
    *error = "key " + c.key_file + " does not match certificate " + c.cert_file;
    return nullptr;
  }
  return ctx;
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_tls(const config::TlsListener& cfg,
                                                    std::string* error) {
  if (cfg.certificates.empty()) {
    *error = "no certificate";
    return nullptr;
  }
  auto table = std::make_shared<SniTable>();
  std::shared_ptr<asio::ssl::context> first;
  for (const auto& c : cfg.certificates) {
    auto ctx = base_server_context(cfg, c, error);
    if (!ctx) return nullptr;
    table->entries.push_back({certificate_names(ctx->native_handle()), ctx->native_handle()});
    table->keep.push_back(ctx);
    if (!first) first = ctx;
  }
  // The default context owns the table through ex_data-free aliasing: the returned
  // shared_ptr keeps the table alive for as long as the context lives.
  SSL_CTX_set_tlsext_servername_callback(first->native_handle(), sni_callback);
  SSL_CTX_set_tlsext_servername_arg(first->native_handle(), table.get());
  auto holder =
      std::make_shared<std::pair<std::shared_ptr<SniTable>, std::shared_ptr<asio::ssl::context>>>(
          table, first);
  return std::shared_ptr<asio::ssl::context>(holder, holder->second.get());
}

std::shared_ptr<asio::ssl::context> make_client_tls(const config::Origin& origin,
                                                    std::string* error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  if (origin.tls_verify) {
    ctx->set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (!origin.ca_file.empty()) {
      ctx->load_verify_file(origin.ca_file, ec);
      if (ec) {
        *error = "ca_file " + origin.ca_file + ": " + ec.message();
        return nullptr;
      }
    } else {
      ctx->set_default_verify_paths(ec);
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  return ctx;
}

}  // namespace eg::proxy
