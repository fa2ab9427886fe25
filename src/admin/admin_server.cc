#include "admin/admin_server.h"

#include <openssl/crypto.h>

#include "core/log.h"
#include "http/parser.h"
#include "proxy/web_acl_stage.h"

namespace eg::admin {

using boost::system::error_code;
using proxy::nothrow;

AdminServer::AdminServer(boost::asio::io_context& io, proxy::Server& server)
    : io_(io), server_(server) {}

bool AdminServer::start(std::string* error) {
  auto snap = server_.current();
  if (!snap->admin.enabled) return true;
  error_code ec;
  auto addr = boost::asio::ip::make_address(snap->admin.host, ec);
  if (ec) {
    *error = "admin address " + snap->admin.host + ": " + ec.message();
    return false;
  }
  acceptor_ = std::make_unique<proxy::tcp::acceptor>(io_);
  proxy::tcp::endpoint ep(addr, snap->admin.port);
  acceptor_->open(ep.protocol(), ec);
  if (!ec) acceptor_->set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(ep, ec);
  if (!ec) acceptor_->listen(64, ec);
  if (ec) {
    *error = "cannot listen on admin address " + snap->admin.host + ":" +
             std::to_string(snap->admin.port) + ": " + ec.message();
    return false;
  }
  boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
  return true;
}

void AdminServer::stop() {
  if (acceptor_) {
    error_code ec;
    acceptor_->close(ec);
  }
}

proxy::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_->async_accept(nothrow);
    if (ec) {
      if (!acceptor_->is_open()) co_return;
      continue;
    }
    boost::asio::co_spawn(io_, serve(std::move(sock)), boost::asio::detached);
  }
}

namespace {

std::string response(int status, std::string_view content_type, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(http::reason_phrase(status)) + "\r\nContent-Type: " +
                    std::string(content_type) + "\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 401) out += "WWW-Authenticate: Bearer realm=\"edgeguard-admin\"\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

bool token_ok(const http::Request& req, const std::string& token) {
  const std::string* auth = req.headers.find("authorization");
  if (!auth || token.empty()) return false;
  std::string_view v = *auth;
  if (v.substr(0, 7) != "Bearer ") return false;
  v.remove_prefix(7);
  return v.size() == token.size() && CRYPTO_memcmp(v.data(), token.data(), v.size()) == 0;
}

}  // namespace

proxy::awaitable<void> AdminServer::serve(proxy::tcp::socket sock) {
  // One request per connection: admin traffic is rare, simplicity wins.
  std::string buf;
  http::RequestParser parser;
  http::Request req;
  size_t consumed = 0;
  boost::asio::steady_timer timer(io_, std::chrono::seconds(10));
  timer.async_wait([&sock](error_code ec) {
    if (!ec) sock.close(ec);
  });
  for (;;) {
    size_t old = buf.size();
    buf.resize(old + 4096);
    auto [ec, n] = co_await sock.async_read_some(boost::asio::buffer(buf.data() + old, 4096), nothrow);
    buf.resize(old + n);
    if (ec) co_return;
    auto st = parser.parse(buf, req, consumed);
    if (st == http::ParseStatus::Done) break;
    if (st == http::ParseStatus::Error) {
      std::string out = response(parser.error().status, "text/plain", parser.error().message + "\n");
      co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
      co_return;
    }
  }
  auto snap = server_.current();
  std::string out;
  if (!token_ok(req, snap->admin.token)) {
    out = response(401, "text/plain", "401 Unauthorized: send Authorization: Bearer <admin token>\n");
  } else if (req.path == "/ready" && (req.method == "GET" || req.method == "HEAD")) {
    out = response(200, "text/plain", "ready\n");
  } else if (req.path == "/stats" && req.method == "GET") {
    std::string text = server_.metrics().render_prometheus();
    if (snap->waf.acl) text += proxy::render_web_acl_metrics(*snap->waf.acl);
    out = response(200, "text/plain; version=0.0.4", text);
  } else if (req.path == "/config" && req.method == "GET") {
    out = response(200, "application/json", config_json(*snap, server_.generation()));
  } else if (req.path == "/reload" && req.method == "POST") {
    auto errors = server_.reload();
    if (errors.empty()) {
      out = response(200, "text/plain",
                     "reloaded: generation " + std::to_string(server_.generation()) + "\n");
    } else {
      std::string body = "reload refused; the running config keeps serving:\n";
      for (const auto& e : errors) body += e + "\n";
      out = response(400, "text/plain", body);
    }
  } else if (req.path == "/ready" || req.path == "/stats" || req.path == "/config" ||
             req.path == "/reload") {
    out = response(405, "text/plain", "405 Method Not Allowed\n");
  } else {
    out = response(404, "text/plain", "404 Not Found: try /ready, /stats, /config, POST /reload\n");
  }
  co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
  timer.cancel();
  error_code ec;
  sock.shutdown(proxy::tcp::socket::shutdown_both, ec);
}

}  // namespace eg::admin
