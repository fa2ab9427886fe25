// TLS contexts: server side per listener (several certificates chosen by SNI, TLS 1.2+
// with modern ciphers), client side per origin (verification on by default).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/snapshot.h"
#include "proxy/io.h"

namespace eg::proxy {

// Builds the listener's context; each certificate's names (SAN DNS entries, else CN) are
// matched against the ClientHello's server name, wildcards included; no match -> first.
std::shared_ptr<asio::ssl::context> make_server_tls(const config::TlsListener& cfg,
                                                    std::string* error);

std::shared_ptr<asio::ssl::context> make_client_tls(const config::Origin& origin,
                                                    std::string* error);

}  // namespace eg::proxy
