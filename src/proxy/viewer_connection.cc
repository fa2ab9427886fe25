#include "proxy/viewer_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/memory.h"
#include "core/request_id.h"
#include "core/strings.h"
#include "logs/access_log.h"
#include "proxy/worker.h"

namespace eg::proxy {

using boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 16384;
constexpr size_t kRelayChunk = 65536;
constexpr auto kWatchAfter = std::chrono::milliseconds(200);
constexpr auto kParkAfter = std::chrono::seconds(1);

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  int n = snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, size_t(n));
  out.append(data);
  out.append("\r\n");
}

// By length first: most names have none of these lengths, and this runs for every field sent.
bool skip_response_header(std::string_view name) {
  switch (name.size()) {
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive");
    case 14:
      return iequals(name, "content-length");
    case 17:
      return iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

bool status_has_no_body(int status) { return status == 204 || status == 304 || status < 200; }

}  // namespace

ViewerConnection::ViewerConnection(Worker& worker, tcp::socket sock,
                                   std::shared_ptr<asio::ssl::context> tls)
    : worker_(worker), sock_(std::move(sock)), tls_ctx_(tls.get()) {
  error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    viewer_.client_ip = addr.to_string();
    if (auto parsed = waf::parse_ip(viewer_.client_ip)) {
      viewer_.address = *parsed;
      viewer_.has_address = true;
    }
    viewer_.client_port = ep.port();
  }
  viewer_.https = tls_ctx_ != nullptr;
  sock_.set_option(tcp::no_delay(true), ec);
  deadline_ = std::allocate_shared<Deadline>(LongLivedAllocator<Deadline>(), sock_.get_executor(),
                                             [this] { close(); });
  worker_.add_connection(this);
  ++worker_.metrics().open_connections;
}

ViewerConnection::~ViewerConnection() {
  deadline_->stop();
  close();
  if (active_upstream_) active_upstream_->close();
  worker_.remove_connection(this);
  --worker_.metrics().open_connections;
}

void ViewerConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (parked_) {
    worker_.parked().remove(sock_.native_handle());
    parked_ = false;
    // The last reference may be this one: let it go after this call returns.
    asio::post(sock_.get_executor(), [self = std::move(parked_self_)] {});
  }
  error_code ec;
  sock_.shutdown(tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

awaitable<std::tuple<error_code, size_t>> ViewerConnection::read_some() {
  auto buf = asio::buffer(rbuf_.prepare(kReadChunk), kReadChunk);
  auto [ec, n] = tls_ ? co_await tls_->async_read_some(buf, nothrow)
                      : co_await sock_.async_read_some(buf, nothrow);
  rbuf_.commit(n);
  co_return std::make_tuple(ec, n);
}

awaitable<error_code> ViewerConnection::write_all(std::string_view data) {
  deadline_->set(worker_.snapshot()->limits.send_timeout);
  auto buf = asio::buffer(data.data(), data.size());
  auto [ec, n] = tls_ ? co_await asio::async_write(*tls_, buf, nothrow)
                      : co_await asio::async_write(sock_, buf, nothrow);
  co_return ec;
}

awaitable<bool> ViewerConnection::handshake() {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, *tls_ctx_);
  // Always, not only when the ACL inspects them: a reload may add a JA3 rule while this
  // connection lives, and the cost is small next to the handshake (tls-fingerprints.md).
  http::capture_client_hello(tls_->native_handle(), &viewer_.tls_fingerprints);
  deadline_->set(worker_.snapshot()->limits.header_timeout);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, nothrow);
  if (ec) co_return false;
  SSL* ssl = tls_->native_handle();
  viewer_.ssl = ssl;
  co_return true;
}

awaitable<void> ViewerConnection::run() {
  auto self = shared_from_this();
  deadline_->start();
  if (tls_ctx_ && !co_await handshake()) co_return;
  co_await serve_requests();
}

awaitable<void> ViewerConnection::serve_requests() {
  auto self = shared_from_this();
  for (;;) {
    const auto& snap = worker_.snapshot();
    http::ParserLimits limits{snap->limits.max_request_line, snap->limits.max_header_bytes,
                              snap->limits.max_header_count, snap->limits.max_request_body};
    http::RequestParser parser(limits);
    http::Request req;
    size_t consumed = 0;
    idle_ = rbuf_.empty();
    deadline_->set(idle_ ? snap->limits.idle_timeout : snap->limits.header_timeout);
    for (;;) {
      if (!rbuf_.empty()) {
        auto st = parser.parse(rbuf_.view(), req, consumed);
        if (st == http::ParseStatus::Done) break;
        if (st == http::ParseStatus::Error) {
          co_await send_parse_error(parser.error());
          co_return;
        }
      }
      if (idle_ && worker_.draining()) co_return;
      if (idle_) idle_since_ = Clock::now();
      auto [ec, n] = co_await read_some();
      if (ec == asio::error::operation_aborted && park_requested_ && !closed_) {
        park();
        co_return;  // no coroutine frame while parked
      }
      if (ec || n == 0) co_return;  // closed, reset or timed out
      if (idle_) {
        idle_ = false;  // the first byte of a request starts the header timeout
        deadline_->set(snap->limits.header_timeout);
      }
    }
    idle_ = false;
    rbuf_.consume(consumed);
    if (!co_await read_body(req)) co_return;
    co_await serve_one(req, consumed);
    if (closed_ || !req.keep_alive || worker_.draining()) co_return;
  }
}

awaitable<bool> ViewerConnection::read_body(http::Request& req) {
  const auto& limits = worker_.snapshot()->limits;
  if (req.framing == http::BodyFraming::None) co_return true;
  bool continued = false;
  auto maybe_continue = [&]() -> awaitable<bool> {
    if (!req.expect_continue || continued) co_return true;
    continued = true;
    co_return !co_await write_all("HTTP/1.1 100 Continue\r\n\r\n");
  };
  if (req.framing == http::BodyFraming::ContentLength) {
    req.body.reserve(req.content_length);
    while (req.body.size() < req.content_length) {
      size_t want = req.content_length - req.body.size();
      size_t have = std::min(want, rbuf_.size());
      req.body.append(rbuf_.view().substr(0, have));
      rbuf_.consume(have);
      if (req.body.size() == req.content_length) break;
      if (!co_await maybe_continue()) co_return false;
      deadline_->set(limits.body_timeout);
      auto [ec, n] = co_await read_some();
      if (ec || n == 0) co_return false;
    }
    co_return true;
  }
  http::ChunkedDecoder dec(limits.max_request_body);
  for (;;) {
    size_t used = 0;
    auto st = dec.feed(rbuf_.view(), used, req.body);
    rbuf_.consume(used);
    if (st == http::ParseStatus::Done) co_return true;
    if (st == http::ParseStatus::Error) {
      co_await send_parse_error(dec.error());
      co_return false;
    }
    if (!co_await maybe_continue()) co_return false;
    deadline_->set(limits.body_timeout);
    auto [ec, n] = co_await read_some();
    if (ec || n == 0) co_return false;
  }
}

awaitable<bool> ViewerConnection::send_parse_error(const http::ParseError& e) {
  worker_.metrics().record_parse_error(e.status);
  std::string body = std::to_string(e.status) + " " + std::string(http::reason_phrase(e.status)) +
                     ": " + e.message + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(e.status) + " " +
                    std::string(http::reason_phrase(e.status)) +
                    "\r\nServer: edgeguard\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  error_code ec = co_await write_all(out);
  co_return !ec;
}

bool ViewerConnection::park_if_idle(Clock::time_point now) {
  // TLS reads are not cancelled: a cancelled SSL read leaves the stream unusable.
  if (!idle_ || tls_ || closed_ || park_requested_ || parked_ || !rbuf_.empty()) return false;
  if (now - idle_since_ < kParkAfter) return false;
  park_requested_ = true;
  error_code ec;
  sock_.cancel(ec);  // the pending read ends with operation_aborted; run() parks
  return true;
}

void ViewerConnection::park() {
  // Buffers go back to the allocator, the request coroutine ends and the deadline timer is
  // suspended: a parked connection is the object and its socket in the worker's ParkedSet.
  // Readable again → unpark() → a fresh serve_requests(). The idle timeout is checked by the
  // housekeeping tick (close_if_parked_for).
  rbuf_.release();
  std::string().swap(wbuf_);
  deadline_->suspend();
  parked_self_ = shared_from_this();
  parked_ = true;
  if (!worker_.parked().add(sock_.native_handle(), this)) unpark();
}

void ViewerConnection::unpark() {
  parked_ = false;
  park_requested_ = false;
  auto self = std::move(parked_self_);
  if (closed_) return;
  deadline_->resume();
  asio::co_spawn(sock_.get_executor(), serve_requests(), asio::detached);
}

void ViewerConnection::close_if_parked_for(Clock::duration idle_timeout, Clock::time_point now) {
  if (parked_ && !closed_ && now - idle_since_ >= idle_timeout) close();
}

void ViewerConnection::watch_if_waiting(Clock::time_point now) {
  // Only requests already waiting a while are watched: arming the watch costs an epoll_ctl,
  // which a fast origin answer should not pay for.
  if (watching_ || closed_ || awaiting_origin_since_ == Clock::time_point{}) return;
  if (now - awaiting_origin_since_ >= kWatchAfter) watch_for_viewer_close();
}

void ViewerConnection::watch_for_viewer_close() {
  watching_ = true;
  sock_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    if (ec || !self->watching_ || self->closed_) return;
    char c;
    ssize_t n = ::recv(self->sock_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return;  // a pipelined request: the viewer is still there
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      self->watch_for_viewer_close();
      return;
    }
    // The viewer closed (or reset) while we wait for the origin: free the origin connection.
    if (self->active_upstream_) {
      self->active_upstream_->aborted_by_viewer = true;
      self->active_upstream_->close();
    }
  });
}

awaitable<void> ViewerConnection::serve_one(http::Request& req, size_t head_bytes) {
  auto start = Clock::now();
  auto snap = worker_.snapshot();  // this request finishes on the snapshot it started with
  char id_buf[kRequestIdLength];
  new_request_id(id_buf);
  std::string_view request_id(id_buf, sizeof id_buf);
  Pipeline pipeline(worker_, *snap, req, viewer_, request_id, &active_upstream_);
  deadline_->clear();  // the origin side has its own timeouts
  const config::Origin& origin = snap->origins[pipeline.behavior().origin_index];
  if (origin.kind == config::OriginKind::Http) awaiting_origin_since_ = start;
  Reply reply = co_await pipeline.run();
  awaiting_origin_since_ = {};
  if (watching_) {
    watching_ = false;
    error_code ec;
    sock_.cancel(ec);
  }
  active_upstream_.reset();
  uint64_t bytes_out = 0;
  Clock::time_point first_byte{};
  bool keep_alive = req.keep_alive && !worker_.draining();
  if (reply.response.status == 499) {
    close();
  } else if (!co_await send_reply(reply, req, keep_alive, bytes_out, first_byte)) {
    close();
  }
  log(*snap, req, pipeline, reply, request_id, start, first_byte, head_bytes + req.body.size(),
      bytes_out, pipeline.behavior().path_pattern);
  if (!keep_alive) close();
}

awaitable<bool> ViewerConnection::send_reply(Reply& r, const http::Request& req, bool keep_alive,
                                             uint64_t& bytes_sent, Clock::time_point& first_byte) {
  const http::Response& resp = r.response;
  bool head_only = req.method == "HEAD" || status_has_no_body(resp.status);
  bool viewer11 = req.version == http::Version::Http11;
  std::string& out = wbuf_;
  out.clear();
  out.append(viewer11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  out.append(std::to_string(resp.status));
  out.push_back(' ');
  out.append(resp.reason.empty() ? http::reason_phrase(resp.status)
                                 : std::string_view(resp.reason));
  out.append("\r\n");
  // The fields are copied into room made once: four appends per field (each an out-of-line
  // call with its own capacity check, two with a strlen) were most of what a field cost.
  bool has_date = false;
  size_t room = 0;
  for (const auto& h : resp.headers) room += h.name.size() + h.value.size() + 4;
  const size_t fields_at = out.size();
  out.resize(fields_at + room);
  char* p = out.data() + fields_at;
  for (const auto& h : resp.headers) {
    if (skip_response_header(h.name)) continue;
    if (!has_date && h.name.size() == 4 && iequals(h.name, "date")) has_date = true;
    std::memcpy(p, h.name.data(), h.name.size());
    p += h.name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, h.value.data(), h.value.size());
    p += h.value.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  out.resize(size_t(p - out.data()));
  if (!has_date) out.append("Date: ").append(worker_.http_date()).append("\r\n");

  enum class Source {
    Memory,
    File,
    Upstream
  } source = r.upstream       ? Source::Upstream
             : r.file_fd >= 0 ? Source::File
                              : Source::Memory;
  bool chunked = false;
  if (source == Source::Upstream) {
    using F = http::BodyFraming;
    if (resp.framing == F::ContentLength) {
      if (resp.status != 204)
        out.append("Content-Length: ").append(std::to_string(resp.content_length)).append("\r\n");
    } else if (resp.framing == F::None) {
      if (const std::string* cl = resp.headers.find("content-length"); cl && req.method == "HEAD")
        out.append("Content-Length: ").append(*cl).append("\r\n");
    } else if (!head_only) {
      if (viewer11)
        chunked = true;
      else
        keep_alive = false;  // HTTP/1.0: the end of the body is the end of the connection
      if (chunked) out.append("Transfer-Encoding: chunked\r\n");
    }
  } else if (!status_has_no_body(resp.status) || resp.status == 304) {
    uint64_t len = source == Source::File ? r.file_length : resp.body.size();
    // A local origin answering HEAD has no body but states the length GET would have.
    const std::string* declared = resp.headers.find("content-length");
    if (req.method == "HEAD" && declared && source == Source::Memory && resp.body.empty())
      out.append("Content-Length: ").append(*declared).append("\r\n");
    else if (resp.status != 304)
      out.append("Content-Length: ").append(std::to_string(len)).append("\r\n");
  }
  if (!keep_alive)
    out.append("Connection: close\r\n");
  else if (!viewer11)
    out.append("Connection: keep-alive\r\n");
  out.append("\r\n");

  if (source == Source::Memory) {
    if (!head_only) out.append(resp.body);
    first_byte = Clock::now();
    bytes_sent = out.size();
    co_return !co_await write_all(out);
  }
  if (source == Source::File) {
    first_byte = Clock::now();
    if (head_only) {
      bytes_sent = out.size();
      co_return !co_await write_all(out);
    }
    uint64_t off = r.file_offset, left = r.file_length;
    std::string chunk;
    while (left > 0) {
      size_t want = size_t(std::min<uint64_t>(left, kRelayChunk));
      chunk.resize(want);
      ssize_t n = ::pread(r.file_fd, chunk.data(), want, off_t(off));
      if (n <= 0) co_return false;  // the file shrank under us: cut the connection
      out.append(chunk.data(), size_t(n));
      off += uint64_t(n);
      left -= uint64_t(n);
      bytes_sent += out.size();
      if (co_await write_all(out)) co_return false;
      out.clear();
    }
    co_return true;
  }
  co_return co_await relay_upstream_body(r, chunked, head_only, out, bytes_sent, first_byte);
}

awaitable<bool> ViewerConnection::relay_upstream_body(Reply& r, bool chunked_to_viewer,
                                                      bool head_only, std::string& out,
                                                      uint64_t& bytes_sent,
                                                      Clock::time_point& first_byte) {
  using F = http::BodyFraming;
  UpstreamConn& up = *r.upstream;
  const http::Response& resp = r.response;
  auto finish_upstream = [&](bool reusable) {
    if (reusable && r.pool)
      r.pool->release(std::move(r.upstream));
    else
      up.close();
    r.upstream.reset();
  };
  if (head_only || resp.framing == F::None) {
    first_byte = Clock::now();
    bytes_sent = out.size();
    // A HEAD/204/304 response has no body on the wire whatever its headers say.
    finish_upstream(resp.keep_alive && up.rbuf.empty());
    co_return !co_await write_all(out);
  }
  const auto read_timeout =
      r.pool ? r.pool->origin().read_timeout : std::chrono::milliseconds(30000);
  ByteBuffer rb;
  std::string_view buf;  // the bytes of the last read
  auto read_more = [&]() -> awaitable<bool> {
    rb.clear();
    up.deadline->set(read_timeout);
    auto [ec, n] = co_await up.read_some(asio::buffer(rb.prepare(kRelayChunk), kRelayChunk));
    rb.commit(n);
    buf = rb.view();
    co_return !ec && n > 0;
  };
  auto flush = [&]() -> awaitable<bool> {
    if (first_byte == Clock::time_point{}) first_byte = Clock::now();
    bytes_sent += out.size();
    bool ok = !co_await write_all(out);
    out.clear();
    co_return ok;
  };

  if (resp.framing == F::ContentLength) {
    uint64_t left = resp.content_length;
    size_t take = size_t(std::min<uint64_t>(left, up.rbuf.size()));
    out.append(up.rbuf, 0, take);
    bool excess = up.rbuf.size() > take;  // bytes after the body: the origin is confused
    up.rbuf.clear();
    left -= take;
    while (left > 0) {
      if (out.size() >= kRelayChunk && !co_await flush()) co_return false;
      if (!co_await read_more()) {
        up.close();
        co_await flush();
        co_return false;  // truncated body: the viewer must see a cut, not a short 200
      }
      take = size_t(std::min<uint64_t>(left, buf.size()));
      out.append(buf.substr(0, take));
      if (buf.size() > take) excess = true;
      left -= take;
    }
    finish_upstream(resp.keep_alive && !excess);
    co_return co_await flush();
  }

  // Chunked or until-close from the origin.
  http::ChunkedDecoder dec;
  std::string decoded;
  bool until_close = resp.framing == F::UntilClose;
  std::string pending = std::move(up.rbuf);
  up.rbuf.clear();
  for (;;) {
    decoded.clear();
    bool done = false;
    if (until_close) {
      decoded.swap(pending);
    } else {
      size_t used = 0;
      auto st = dec.feed(pending, used, decoded);
      if (st == http::ParseStatus::Error) {
        up.close();
        co_await flush();
        co_return false;
      }
      if (st == http::ParseStatus::Done) {
        done = true;
        if (used < pending.size()) up.close();  // trailing garbage: do not reuse
      }
      pending.erase(0, used);
    }
    if (chunked_to_viewer)
      append_chunk(out, decoded);
    else
      out.append(decoded);
    if (done) break;
    if (out.size() >= kRelayChunk && !co_await flush()) {
      up.close();
      co_return false;
    }
    if (!co_await read_more()) {
      if (until_close) break;  // the origin's close is the end of this body
      up.close();
      co_await flush();
      co_return false;
    }
    pending.append(buf);
  }
  if (chunked_to_viewer) out.append("0\r\n\r\n");
  finish_upstream(!until_close && resp.keep_alive && up.is_open());
  co_return co_await flush();
}

void ViewerConnection::log(const config::Snapshot& snap, const http::Request& req,
                           const Pipeline& p, const Reply& r, std::string_view request_id,
                           Clock::time_point start, Clock::time_point first_byte, uint64_t bytes_in,
                           uint64_t bytes_out, std::string_view behavior) {
  auto end = Clock::now();
  int status = r.response.status == 499 ? 0 : r.response.status;
  worker_.metrics().record_request({behavior, status, bytes_in, bytes_out});
  logs::AccessLogWriter* w = worker_.access_log();
  if (!w) return;
  auto header = [&](std::string_view n) -> std::string_view {
    const std::string* v = req.headers.find(n);
    return v ? std::string_view(*v) : std::string_view();
  };
  logs::AccessRecord rec;
  rec.end_time = std::chrono::system_clock::now();
  rec.edge_location = snap.access_log.edge_location;
  rec.sc_bytes = bytes_out;
  rec.client_ip = viewer_.client_ip;
  rec.client_port = viewer_.client_port;
  rec.method = req.method;
  rec.host = header("host");
  rec.uri_stem = req.path;
  rec.status = status;
  rec.referer = header("referer");
  rec.user_agent = header("user-agent");
  rec.query = req.query;
  if (snap.access_log.log_cookies) rec.cookie = header("cookie");
  rec.result_type = r.result_type;
  rec.request_id = request_id;
  rec.protocol = viewer_.https ? "https" : "http";
  rec.cs_bytes = bytes_in;
  rec.time_taken = std::chrono::duration<double>(end - start).count();
  rec.forwarded_for = header("x-forwarded-for");
  rec.ssl_protocol = viewer_.ssl_protocol();
  rec.ssl_cipher = viewer_.ssl_cipher();
  rec.response_result_type = r.result_type;
  rec.protocol_version = http::to_string(req.version);
  rec.time_to_first_byte = first_byte == Clock::time_point{}
                               ? 0
                               : std::chrono::duration<double>(first_byte - start).count();
  rec.detailed_result_type =
      r.detailed_result_type.empty() ? r.result_type : r.detailed_result_type;
  const std::string* ct = r.response.headers.find("content-type");
  rec.content_type = ct ? std::string_view(*ct) : std::string_view();
  if (r.file_fd >= 0)
    rec.content_length = int64_t(r.file_length);
  else if (r.response.framing == http::BodyFraming::ContentLength)
    rec.content_length = int64_t(r.response.content_length);
  else if (r.pool == nullptr)
    rec.content_length = int64_t(r.response.body.size());
  if (const std::string* cr = r.response.headers.find("content-range")) {
    // "bytes 0-99/1000"
    std::string_view v = *cr;
    if (starts_with(v, "bytes ")) {
      v.remove_prefix(6);
      size_t dash = v.find('-'), slash = v.find('/');
      if (dash != std::string_view::npos && slash != std::string_view::npos && dash < slash) {
        if (auto a = parse_uint(v.substr(0, dash))) rec.range_start = int64_t(*a);
        if (auto b = parse_uint(v.substr(dash + 1, slash - dash - 1))) rec.range_end = int64_t(*b);
      }
    }
  }
  rec.behavior = behavior;
  rec.origin = snap.origins[p.behavior().origin_index].name;
  w->append(rec);
}

}  // namespace eg::proxy
