#include "proxy/upstream.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include "core/strings.h"

namespace eg::proxy {

using boost::system::error_code;

UpstreamConn::UpstreamConn(asio::any_io_executor ex) : sock(ex) {
  deadline = std::make_shared<Deadline>(ex, [this] { close(); });
}

UpstreamConn::~UpstreamConn() {
  deadline->stop();
  close();
}

void UpstreamConn::close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

awaitable<std::tuple<error_code, size_t>> UpstreamConn::read_some(asio::mutable_buffer b) {
  if (tls) co_return co_await tls->async_read_some(b, nothrow);
  co_return co_await sock.async_read_some(b, nothrow);
}

awaitable<error_code> UpstreamConn::write_all(std::string_view data) {
  auto buf = asio::buffer(data.data(), data.size());
  auto [ec, n] = tls ? co_await asio::async_write(*tls, buf, nothrow)
                     : co_await asio::async_write(sock, buf, nothrow);
  co_return ec;
}

std::string_view to_string(FetchError e) {
  switch (e) {
    case FetchError::None:
      return "none";
    case FetchError::DnsFailure:
      return "dns_failure";
    case FetchError::Refused:
      return "connection_refused";
    case FetchError::ConnectTimeout:
      return "connect_timeout";
    case FetchError::TlsFailure:
      return "tls_failure";
    case FetchError::ReadTimeout:
      return "read_timeout";
    case FetchError::Reset:
      return "connection_reset";
    case FetchError::InvalidResponse:
      return "invalid_response";
    case FetchError::ViewerGone:
      return "viewer_gone";
  }
  return "unknown";
}

int status_for(FetchError e) {
  switch (e) {
    case FetchError::ConnectTimeout:
    case FetchError::ReadTimeout:
      return 504;
    case FetchError::ViewerGone:
      return 0;
    default:
      return 502;
  }
}

std::string pool_key(const config::Origin& o) {
  return (o.https ? "https://" : "http://") + o.host + ":" + std::to_string(o.port) + "|" + o.sni +
         "|" + (o.tls_verify ? "v" : "nv") + "|" + o.ca_file + "|" +
         std::to_string(o.connect_timeout.count()) + "|" + std::to_string(o.read_timeout.count()) +
         "|" + std::to_string(o.keepalive_timeout.count()) + "|" +
         std::to_string(o.max_idle_connections);
}

OriginPool::OriginPool(asio::any_io_executor ex, const config::Origin& origin,
                       std::shared_ptr<asio::ssl::context> tls, MetricsShard& metrics)
    : ex_(ex), origin_(origin), tls_(std::move(tls)), metrics_(metrics) {}

OriginPool::~OriginPool() { metrics_.pool_idle -= int64_t(idle_.size()); }

std::shared_ptr<UpstreamConn> OriginPool::take_idle() {
  auto now = Clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    --metrics_.pool_idle;
    if (c->is_open() && now - c->idle_since < origin_.keepalive_timeout) {
      c->reused = true;
      return c;
    }
  }
  return nullptr;
}

void OriginPool::release(std::shared_ptr<UpstreamConn> c) {
  if (!c->is_open() || !c->rbuf.empty() || idle_.size() >= origin_.max_idle_connections) return;
  c->deadline->clear();
  c->idle_since = Clock::now();
  idle_.push_back(std::move(c));
  ++metrics_.pool_idle;
}

void OriginPool::release_idle_buffers(Clock::time_point idle_before) {
  for (auto& c : idle_) {
    if (c->idle_since >= idle_before) continue;
    c->in.release();
    std::string().swap(c->rbuf);
  }
}

awaitable<std::tuple<FetchError, std::string>> OriginPool::connect(UpstreamConn& c) {
  std::string where = origin_.host + ":" + std::to_string(origin_.port);
  c.deadline->set(origin_.connect_timeout);
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  auto addr = asio::ip::make_address(origin_.host, ec);
  if (!ec) {
    endpoints.emplace_back(addr, origin_.port);
  } else {
    // Resolved for every new connection: a changed DNS answer is used at once.
    tcp::resolver resolver(ex_);
    auto [rec, results] =
        co_await resolver.async_resolve(origin_.host, std::to_string(origin_.port), nothrow);
    if (rec)
      co_return std::make_tuple(FetchError::DnsFailure,
                                "cannot resolve " + origin_.host + ": " + rec.message());
    for (auto& r : results) endpoints.push_back(r.endpoint());
  }
  error_code last;
  for (auto& ep : endpoints) {
    if (c.deadline->expired()) break;
    error_code cec;
    c.sock.close(cec);
    c.sock.open(ep.protocol(), cec);
    auto [e] = co_await c.sock.async_connect(ep, nothrow);
    if (!e) {
      last = {};
      break;
    }
    last = e;
  }
  if (c.deadline->expired())
    co_return std::make_tuple(FetchError::ConnectTimeout,
                              "no connection to " + where + " within " +
                                  std::to_string(origin_.connect_timeout.count()) +
                                  " ms (connect timeout)");
  if (last) co_return std::make_tuple(FetchError::Refused, last.message() + " (" + where + ")");
  c.sock.set_option(tcp::no_delay(true), ec);
  if (origin_.https) {
    c.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c.sock, *tls_);
    SSL* ssl = c.tls->native_handle();
    const std::string& sni = origin_.sni.empty() ? origin_.host : origin_.sni;
    error_code aec;
    asio::ip::make_address(sni, aec);
    bool is_ip = !aec;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, sni.c_str());
    if (origin_.tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, sni.c_str());
      else
        SSL_set1_host(ssl, sni.c_str());
    }
    auto [hec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, nothrow);
    if (c.deadline->expired())
      co_return std::make_tuple(FetchError::ConnectTimeout,
                                "TLS handshake with " + where + " timed out");
    if (hec) {
      std::string why = hec.message();
      long vr = SSL_get_verify_result(ssl);
      if (vr != X509_V_OK)
        why = std::string("certificate verification failed: ") + X509_verify_cert_error_string(vr);
      co_return std::make_tuple(FetchError::TlsFailure, "TLS with " + where + ": " + why);
    }
  }
  co_return std::make_tuple(FetchError::None, std::string());
}

awaitable<FetchResult> OriginPool::fetch(const std::string& request_bytes, std::string_view method,
                                         std::shared_ptr<UpstreamConn>* active) {
  FetchResult r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = take_idle();
    bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_shared<UpstreamConn>(ex_);
      conn->deadline->start();
      *active = conn;
      auto [err, detail] = co_await connect(*conn);
      if (conn->aborted_by_viewer) err = FetchError::ViewerGone;
      if (err != FetchError::None) {
        r.error = err;
        r.detail = std::move(detail);
        metrics_.record_origin_error(origin_.name, to_string(err));
        co_return r;
      }
    }
    *active = conn;
    ++metrics_.pool_in_use;
    struct InUse {
      MetricsShard& m;
      ~InUse() { --m.pool_in_use; }
    } in_use{metrics_};

    conn->deadline->set(origin_.read_timeout);
    error_code ec = co_await conn->write_all(request_bytes);
    // Read the response head.
    http::ResponseParser parser;
    ByteBuffer& in = conn->in;
    in.clear();
    size_t consumed = 0;
    http::ParseStatus st = http::ParseStatus::Incomplete;
    bool got_bytes = false;
    while (!ec) {
      if (!in.empty()) {
        st = parser.parse(in.view(), method, r.head, consumed);
        if (st == http::ParseStatus::Done && r.head.status >= 100 && r.head.status < 200 &&
            r.head.status != 101) {
          in.consume(consumed);  // 100 Continue and friends: skip, read the real head
          r.head = {};
          continue;
        }
        if (st != http::ParseStatus::Incomplete) break;
      }
      auto [rec, n] = co_await conn->read_some(asio::buffer(in.prepare(16384), 16384));
      in.commit(n);
      ec = rec;
      if (n) got_bytes = true;
    }
    if (conn->aborted_by_viewer) {
      r.error = FetchError::ViewerGone;
      conn->close();
      co_return r;
    }
    if (st == http::ParseStatus::Done) {
      in.consume(consumed);
      conn->rbuf.assign(in.view());
      in.clear();
      r.conn = std::move(conn);
      co_return r;
    }
    bool timed_out = conn->deadline->expired();
    conn->close();
    if (st == http::ParseStatus::Error) {
      r.error = FetchError::InvalidResponse;
      r.detail = "invalid response: " + parser.error().message;
    } else if (timed_out) {
      r.error = FetchError::ReadTimeout;
      r.detail = "no response within " + std::to_string(origin_.read_timeout.count()) +
                 " ms (read timeout)";
    } else {
      // A kept-alive connection the origin closed meanwhile: try once more on a new one.
      if (reused && !got_bytes && attempt == 0) continue;
      r.error = FetchError::Reset;
      r.detail = "connection closed before a complete response (" + ec.message() + ")";
    }
    metrics_.record_origin_error(origin_.name, to_string(r.error));
    co_return r;
  }
  co_return r;
}

}  // namespace eg::proxy
