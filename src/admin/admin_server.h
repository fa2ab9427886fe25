// The admin listener (default 127.0.0.1:9901): /ready, /stats (Prometheus text), /config
// (the running config, secret values left out), POST /reload. Every call needs
// `Authorization: Bearer <token>` with the token from admin.token_file.
#pragma once
#include <memory>
#include <string>

#include "proxy/io.h"
#include "proxy/server.h"

namespace eg::admin {

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& io, proxy::Server& server);
  bool start(std::string* error);  // binds per the current snapshot's admin section
  void stop();

 private:
  proxy::awaitable<void> accept_loop();
  proxy::awaitable<void> serve(proxy::tcp::socket sock);

  boost::asio::io_context& io_;
  proxy::Server& server_;
  std::unique_ptr<proxy::tcp::acceptor> acceptor_;
};

// JSON of the running snapshot without secret values (custom header values, secret
// values and the admin token are replaced by "<redacted>").
std::string config_json(const config::Snapshot& s, uint64_t generation);

}  // namespace eg::admin
