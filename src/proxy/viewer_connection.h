// One viewer connection (HTTP/1.1 over TCP or TLS): reads requests (keep-alive and
// pipelining), runs each through the Pipeline, sends the Reply, writes the access log.
// Timeouts (header, body, idle, send) are enforced by one Deadline.
#pragma once
#include <memory>
#include <string>

#include "core/buffer.h"
#include "http/parser.h"
#include "proxy/io.h"
#include "proxy/pipeline.h"

namespace eg::proxy {

class Worker;

class ViewerConnection : public std::enable_shared_from_this<ViewerConnection> {
 public:
  ViewerConnection(Worker& worker, tcp::socket sock, std::shared_ptr<asio::ssl::context> tls);
  ~ViewerConnection();
  awaitable<void> run();
  void close();
  int native_fd() { return sock_.native_handle(); }
  void unpark();                       // the ParkedSet saw the parked socket readable (or closed)
  bool idle() const { return idle_; }  // between requests: safe to close on shutdown
  // Called by the worker's housekeeping tick: starts noticing a viewer that leaves while
  // its request waits for a slow origin (the origin connection is then closed at once).
  void watch_if_waiting(Clock::time_point now);
  // Also from the tick: a keep-alive connection idle for a second gives back its buffers.
  bool park_if_idle(Clock::time_point now);  // true when it parked just now
  // Also from the tick: the idle timeout of a parked connection (its own timer is suspended).
  void close_if_parked_for(Clock::duration idle_timeout, Clock::time_point now);

  // The worker's registry is an intrusive list: no node allocation per connection.
  ViewerConnection* registry_prev = nullptr;
  ViewerConnection* registry_next = nullptr;

 private:
  awaitable<bool> handshake();
  awaitable<void> serve_requests();  // until the connection closes or parks
  void park();
  awaitable<std::tuple<boost::system::error_code, size_t>> read_some();
  awaitable<boost::system::error_code> write_all(std::string_view data);
  awaitable<bool> read_body(http::Request& req);
  awaitable<void> serve_one(http::Request& req, size_t head_bytes);
  awaitable<bool> send_reply(Reply& r, const http::Request& req, bool keep_alive,
                             uint64_t& bytes_sent, Clock::time_point& first_byte);
  awaitable<bool> relay_upstream_body(Reply& r, bool chunked_to_viewer, bool head_only,
                                      std::string& out, uint64_t& bytes_sent,
                                      Clock::time_point& first_byte);
  awaitable<bool> send_parse_error(const http::ParseError& e);
  void watch_for_viewer_close();
  void log(const config::Snapshot& snap, const http::Request& req, const Pipeline& p,
           const Reply& r, std::string_view request_id, Clock::time_point start,
           Clock::time_point first_byte, uint64_t bytes_in, uint64_t bytes_out,
           std::string_view behavior);

  Worker& worker_;
  tcp::socket sock_;
  asio::ssl::context* tls_ctx_;  // owned by the worker's listener, which outlives us
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::shared_ptr<Deadline> deadline_;
  ViewerInfo viewer_;
  ByteBuffer rbuf_;  // received, not yet parsed
  std::string wbuf_;
  std::shared_ptr<UpstreamConn> active_upstream_;
  bool idle_ = true;
  bool closed_ = false;
  bool watching_ = false;
  Clock::time_point awaiting_origin_since_{};
  Clock::time_point idle_since_{};
  bool park_requested_ = false;
  bool parked_ = false;
  std::shared_ptr<ViewerConnection> parked_self_;  // while parked, nothing else holds us
};

}  // namespace eg::proxy
