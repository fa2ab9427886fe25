// Connections to HTTP(S) origins: per-worker keep-alive pools, connect/read timeouts,
// names re-resolved for every new connection, one retry when a reused connection turns
// out to have been closed by the origin before it answered.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/snapshot.h"
#include "core/buffer.h"
#include "http/message.h"
#include "http/parser.h"
#include "proxy/io.h"
#include "proxy/metrics.h"

namespace eg::proxy {

class UpstreamConn {
 public:
  explicit UpstreamConn(asio::any_io_executor ex);
  ~UpstreamConn();
  awaitable<std::tuple<boost::system::error_code, size_t>> read_some(asio::mutable_buffer b);
  awaitable<boost::system::error_code> write_all(std::string_view data);
  void close();
  bool is_open() const { return !closed_; }

  tcp::socket sock;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  std::shared_ptr<Deadline> deadline;
  ByteBuffer in;     // response head being read
  std::string rbuf;  // bytes read past the response head (start of the body)
  Clock::time_point idle_since{};
  bool reused = false;
  bool aborted_by_viewer = false;  // the viewer left; the socket was closed for that

 private:
  bool closed_ = false;
};

enum class FetchError : uint8_t {
  None,
  DnsFailure,       // name did not resolve -> 502
  Refused,          // connection refused / unreachable -> 502
  ConnectTimeout,   // -> 504
  TlsFailure,       // handshake or certificate verification -> 502
  ReadTimeout,      // no (complete) response head within read_timeout -> 504
  Reset,            // connection closed before a complete head -> 502
  InvalidResponse,  // the origin's response broke HTTP/1.1 -> 502
  ViewerGone,       // the viewer disconnected while we waited
};
std::string_view to_string(FetchError e);
int status_for(FetchError e);

struct FetchResult {
  FetchError error = FetchError::None;
  std::string detail;  // human-readable cause, e.g. "connection refused (127.0.0.1:9)"
  http::Response head;
  std::shared_ptr<UpstreamConn> conn;  // body bytes follow in conn->rbuf, then the socket
};

class OriginPool {
 public:
  OriginPool(asio::any_io_executor ex, const config::Origin& origin,
             std::shared_ptr<asio::ssl::context> tls, MetricsShard& metrics);
  ~OriginPool();
  // Sends `request_bytes` (head + body) and reads the response head. `active` always
  // points at the connection in use, so the viewer side can abort it.
  awaitable<FetchResult> fetch(const std::string& request_bytes, std::string_view method,
                               std::shared_ptr<UpstreamConn>* active);
  // Returns a connection whose response was read completely; kept if the pool has room.
  void release(std::shared_ptr<UpstreamConn> c);
  // Connections idle since before `idle_before` give their read buffers back.
  void release_idle_buffers(Clock::time_point idle_before);
  const config::Origin& origin() const { return origin_; }
  size_t idle_count() const { return idle_.size(); }

 private:
  awaitable<std::tuple<FetchError, std::string>> connect(UpstreamConn& c);
  std::shared_ptr<UpstreamConn> take_idle();

  asio::any_io_executor ex_;
  config::Origin origin_;  // copy: pools outlive snapshots
  std::shared_ptr<asio::ssl::context> tls_;
  MetricsShard& metrics_;
  std::vector<std::shared_ptr<UpstreamConn>> idle_;
};

// Key that identifies an origin endpoint: pools are shared across snapshots when equal.
std::string pool_key(const config::Origin& o);

}  // namespace eg::proxy
