#include "admin/admin_server.h"

#include <openssl/crypto.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "admin/waf_blocks.h"
#include "admin/wafv2_api.h"
#include "aws/sigv4_verify.h"
#include "core/log.h"
#include "core/request_id.h"
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

// An admin request's body: the WAFv2 API's largest (UpdateIPSet with 10,000 CIDRs) is
// about 600 KB.
constexpr uint64_t kMaxBody = 4 << 20;

std::string response(int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = {}) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
      "\r\nContent-Type: " + std::string(content_type) +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 401) out += "WWW-Authenticate: Bearer realm=\"edgeguard-admin\"\r\n";
  out.append(extra_headers);
  out += "\r\n";
  out.append(body);
  return out;
}

// An AWS client's call: `POST /` with an X-Amz-Target, or signed with SigV4.
bool is_wafv2_call(const http::Request& req) {
  if (req.path != "/" || req.method != "POST") return false;
  if (req.headers.contains("x-amz-target")) return true;
  const std::string* auth = req.headers.find("authorization");
  return auth && auth->starts_with("AWS4-");
}

std::string wafv2_answer(const Wafv2Response& r, std::string_view request_id) {
  std::string headers = "x-amzn-RequestId: " + std::string(request_id) + "\r\n";
  if (!r.error_type.empty()) headers += "x-amzn-ErrorType: " + r.error_type + "\r\n";
  return response(r.status, kAmzJson11, r.body, headers);
}

// The WAFv2 JSON API: SigV4 against admin.wafv2's keys (the bearer token plays no part).
std::string serve_wafv2(const http::Request& req, const config::Snapshot& snap,
                        waf::WafState& state) {
  std::string request_id = new_uuid();
  if (!snap.admin.wafv2)
    return wafv2_answer(wafv2_error(403, "AccessDeniedException",
                                    "the WAFv2 API is not enabled on this gateway (configure "
                                    "admin.wafv2.keys)"),
                        request_id);
  std::vector<aws::sigv4::HeaderField> fields;
  fields.reserve(req.headers.size());
  for (const auto& h : req.headers) fields.push_back({h.name, h.value});
  aws::sigv4::RequestView view{req.method, req.path, req.query, fields,
                               aws::sigv4::Payload::body(req.body)};
  auto verdict = snap.admin.wafv2->verifier->verify(view, std::chrono::system_clock::now());
  if (!verdict.ok()) {
    // AWS's JSON shape for the failure; the message is the verifier's (API Gateway wording).
    auto rendered = aws::sigv4::render_error(verdict, aws::sigv4::ErrorShape::kJson, request_id);
    auto parsed = nlohmann::json::parse(rendered.body, nullptr, false);
    std::string message =
        parsed.is_object() ? parsed.value("message", verdict.message) : verdict.message;
    std::string type(aws::sigv4::json_error_type(verdict.failure));
    nlohmann::json body = {{"__type", type}, {"message", message}};
    Wafv2Response r{403, type, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    return wafv2_answer(r, request_id);
  }
  const std::string* target = req.headers.find("x-amz-target");
  WafApiContext ctx;
  ctx.acl = snap.waf.acl.get();
  ctx.state = &state;
  ctx.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto r = handle_wafv2(target ? std::string_view(*target) : std::string_view(), req.body, ctx);
  // An audit line per call (admin calls are rare); the target is the client's: sanitized.
  std::string op = target ? target->substr(0, 100) : "(no X-Amz-Target)";
  for (char& ch : op)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  log::info("admin: wafv2 {} by {}: {}", op, verdict.access_key_id,
            r.error_type.empty() ? std::string("ok") : r.error_type);
  return wafv2_answer(r, request_id);
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
    auto [ec, n] =
        co_await sock.async_read_some(boost::asio::buffer(buf.data() + old, 4096), nothrow);
    buf.resize(old + n);
    if (ec) co_return;
    auto st = parser.parse(buf, req, consumed);
    if (st == http::ParseStatus::Done) break;
    if (st == http::ParseStatus::Error) {
      std::string out =
          response(parser.error().status, "text/plain", parser.error().message + "\n");
      co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
      co_return;
    }
  }
  // The body (Content-Length only: AWS SDKs and curl send it for these small bodies).
  if (req.framing == http::BodyFraming::Chunked || req.framing == http::BodyFraming::UntilClose) {
    std::string out = response(411, "text/plain", "411 Length Required: send Content-Length\n");
    co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
    co_return;
  }
  if (req.framing == http::BodyFraming::ContentLength) {
    if (req.content_length > kMaxBody) {
      std::string out = response(413, "text/plain", "413 Payload Too Large: at most 4 MiB\n");
      co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
      co_return;
    }
    if (req.expect_continue) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await boost::asio::async_write(sock, boost::asio::buffer(kContinue), nothrow);
    }
    req.body = buf.substr(std::min(consumed, buf.size()));
    while (req.body.size() < req.content_length) {
      size_t old = req.body.size();
      size_t want = std::min<size_t>(65536, req.content_length - old);
      req.body.resize(old + want);
      auto [ec, n] =
          co_await sock.async_read_some(boost::asio::buffer(req.body.data() + old, want), nothrow);
      req.body.resize(old + n);
      if (ec) co_return;
    }
    req.body.resize(req.content_length);
  }
  auto snap = server_.current();
  std::string out;
  WafApiContext waf;
  waf.acl = snap->waf.acl.get();
  waf.state = &server_.waf_state();
  waf.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::optional<AdminReply> waf_reply;
  if (is_wafv2_call(req)) {
    out = serve_wafv2(req, *snap, server_.waf_state());
  } else if (!token_ok(req, snap->admin.token)) {
    out =
        response(401, "text/plain", "401 Unauthorized: send Authorization: Bearer <admin token>\n");
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
  } else if ((waf_reply = handle_waf_admin(req.method, req.path, req.body, waf))) {
    out = response(waf_reply->status, waf_reply->content_type, waf_reply->body);
    if (req.method != "GET")
      log::info("admin: {} {}: {}", req.method, req.path.substr(0, 200), waf_reply->status);
  } else {
    out = response(404, "text/plain",
                   "404 Not Found: try /ready, /stats, /config, POST /reload, /waf/ip-sets, "
                   "/waf/rate-limited\n");
  }
  co_await boost::asio::async_write(sock, boost::asio::buffer(out), nothrow);
  timer.cancel();
  error_code ec;
  sock.shutdown(proxy::tcp::socket::shutdown_both, ec);
}

}  // namespace eg::admin
