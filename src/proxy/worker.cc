#include "proxy/worker.h"

#include <sys/socket.h>

#include "core/http_date.h"
#include "core/log.h"
#include "core/memory.h"
#include "proxy/server.h"
#include "proxy/tls.h"
#include "proxy/viewer_connection.h"

namespace eg::proxy {

using boost::system::error_code;

Worker::Worker(Server& server, int index, MetricsShard& metrics)
    : server_(server), index_(index), metrics_(metrics) {}

Worker::~Worker() = default;

bool Worker::bind(const std::vector<ListenerSocket>& listeners, std::string* error) {
  for (const auto& l : listeners) {
    error_code ec;
    auto addr = asio::ip::make_address(l.config.host, ec);
    if (ec) {
      *error = "listener " + l.config.host + ": " + ec.message();
      return false;
    }
    tcp::endpoint ep(addr, l.config.port);
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        ec = error_code(errno, boost::system::system_category());
    }
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(4096, ec);
    if (ec) {
      *error = "cannot listen on " + l.config.host + ":" + std::to_string(l.config.port) + ": " +
               ec.message();
      return false;
    }
    if (l.tls && https_port_ == 0) https_port_ = l.config.port;
    acceptors_.push_back(std::move(acc));
    acceptor_tls_.push_back(l.tls);
  }
  return true;
}

void Worker::start() {
  snapshot();
  for (size_t i = 0; i < acceptors_.size(); ++i)
    asio::co_spawn(io_, accept_loop(*acceptors_[i], acceptor_tls_[i]), asio::detached);
  asio::co_spawn(io_, housekeeping_loop(), asio::detached);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    (void)guard;
    io_.run();
  });
}

awaitable<void> Worker::accept_loop(tcp::acceptor& acc, std::shared_ptr<asio::ssl::context> tls) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("accept: {}", ec.message());
      asio::steady_timer t(io_, std::chrono::milliseconds(50));
      co_await t.async_wait(nothrow);
      continue;
    }
    auto conn = std::allocate_shared<ViewerConnection>(LongLivedAllocator<ViewerConnection>(),
                                                       *this, std::move(sock), tls);
    asio::co_spawn(io_, conn->run(), asio::detached);
  }
}

awaitable<void> Worker::housekeeping_loop() {
  constexpr auto kTick = std::chrono::milliseconds(100);
  asio::steady_timer t(io_);
  auto last_flush = Clock::now();
  auto last_waf_tick = last_flush;
  while (!draining_ || conns_ != nullptr) {
    t.expires_after(kTick);
    co_await t.async_wait(nothrow);
    auto now = Clock::now();
    size_t parked = 0;
    const auto idle_timeout = snapshot()->limits.idle_timeout;
    for_each_connection([&](ViewerConnection* c) {
      c->watch_if_waiting(now);
      c->close_if_parked_for(idle_timeout, now);
      if (c->park_if_idle(now)) ++parked;
    });
    if (parked > 0)
      for (auto& [key, pool] : pools_) pool->release_idle_buffers(now - std::chrono::seconds(1));
    // Freed buffers stay in the process until the allocator gives them back; after a wave
    // of connections went idle, hand the memory to the kernel (RSS is what operators see).
    parked_since_trim_ += parked;
    bool wave_over = parked == 0 && parked_since_trim_ >= 64;
    if ((wave_over || parked_since_trim_ >= 4096) &&
        now - last_trim_ >= std::chrono::milliseconds(500)) {
      release_free_memory();
      parked_since_trim_ = 0;
      last_trim_ = now;
    }
    // Temporary IP set entries leave their sets on time (one worker is enough).
    if (index_ == 0 && now - last_waf_tick >= std::chrono::seconds(1)) {
      server_.waf_state().tick(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
      last_waf_tick = now;
    }
    if (log_ && now - last_flush >= snapshot()->access_log.flush_interval) {
      log_->flush();
      last_flush = now;
    }
  }
  if (log_) log_->flush();
}

const std::shared_ptr<const config::Snapshot>& Worker::snapshot() {
  uint64_t g = server_.generation();
  if (g != generation_ || !snap_) {
    snap_ = server_.current();
    generation_ = g;
    credentials_.clear();  // keyed by this snapshot's origins
    via_ = "1.1 " + snap_->server_name + " (edgeguard)";
    waf_log_ = server_.waf_log_file();
    function_log_ = server_.function_log_file();
    auto file = server_.log_file();
    if (!file) {
      if (log_) log_->flush();
      log_.reset();
    } else if (!log_ || log_->file() != file) {
      if (log_) log_->flush();
      log_ = std::make_unique<logs::AccessLogWriter>(file, snap_->access_log.buffer_bytes);
    }
  }
  return snap_;
}

aws::RefreshingCredentials& Worker::signing_credentials(const config::Origin& origin) {
  auto it = credentials_.find(&origin);
  if (it != credentials_.end()) return *it->second;
  auto& c = server_.signing_credentials().get(*origin.sigv4);
  // Only the current snapshot's origins are remembered: a request finishing on an older
  // snapshot must not leave an address a later snapshot could reuse for another origin.
  const auto& current = snapshot()->origins;
  if (!current.empty() && &origin >= &current.front() && &origin <= &current.back())
    credentials_.emplace(&origin, &c);
  return c;
}

OriginPool& Worker::pool_for(const config::Origin& origin) {
  std::string key = pool_key(origin);
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  std::shared_ptr<asio::ssl::context> tls;
  if (origin.https) {
    std::string err;
    tls = make_client_tls(origin, &err);
    if (!tls) {
      // Validated at load time; a failure here (a CA file removed since) fails verification.
      log::error("origin {}: {}", origin.name, err);
      tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      tls->set_verify_mode(asio::ssl::verify_peer);
    }
  }
  auto pool = std::make_unique<OriginPool>(io_.get_executor(), origin, tls, metrics_);
  auto& ref = *pool;
  pools_.emplace(key, std::move(pool));
  return ref;
}

std::string_view Worker::http_date() {
  std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    date_ = format_http_date(now);
  }
  return date_;
}

ViewerConnection* Worker::next_of(ViewerConnection* c) { return c->registry_next; }

void Worker::add_connection(ViewerConnection* c) {
  c->registry_prev = nullptr;
  c->registry_next = conns_;
  if (conns_) conns_->registry_prev = c;
  conns_ = c;
  ++conn_count_;
}

void Worker::remove_connection(ViewerConnection* c) {
  if (c->registry_prev)
    c->registry_prev->registry_next = c->registry_next;
  else
    conns_ = c->registry_next;
  if (c->registry_next) c->registry_next->registry_prev = c->registry_prev;
  --conn_count_;
}

void Worker::stop_accepting() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& a : acceptors_) {
      error_code ec;
      a->close(ec);
    }
    close_idle();
  });
}

void Worker::close_idle() {
  asio::post(io_, [this] {
    for_each_connection([](ViewerConnection* c) {
      if (c->idle()) c->close();
    });
  });
}

void Worker::force_close() {
  asio::post(io_, [this] { for_each_connection([](ViewerConnection* c) { c->close(); }); });
}

void Worker::join() {
  // Let the loop run dry: no acceptors, no connections; then stop it.
  asio::post(io_, [this] {
    if (log_) log_->flush();
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
}

}  // namespace eg::proxy
