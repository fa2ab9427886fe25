// One worker = one thread, one event loop, its own SO_REUSEPORT listeners, origin pools,
// log buffer and metrics shard. Connections never move between workers.
#pragma once
#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aws/credentials.h"
#include "config/snapshot.h"
#include "logs/access_log.h"
#include "proxy/io.h"
#include "proxy/metrics.h"
#include "proxy/parked_set.h"
#include "proxy/phases.h"
#include "proxy/upstream.h"

namespace eg::proxy {

class Server;
class ViewerConnection;

struct ListenerSocket {
  config::Listener config;
  std::shared_ptr<asio::ssl::context> tls;  // null for plain HTTP
};

class Worker {
 public:
  Worker(Server& server, int index, MetricsShard& metrics);
  ~Worker();

  // Binds this worker's listening sockets (SO_REUSEPORT). Returns false with *error set.
  bool bind(const std::vector<ListenerSocket>& listeners, std::string* error);
  void start();           // runs the event loop on a new thread
  void stop_accepting();  // graceful shutdown, step 1 (posted to the loop)
  void close_idle();      // step 2: idle keep-alive connections close now
  void force_close();     // step 3: after the drain timeout
  void join();
  size_t connection_count() const { return conn_count_.load(); }

  // Per-request access to the current snapshot (refreshed when the generation changes).
  const std::shared_ptr<const config::Snapshot>& snapshot();
  OriginPool& pool_for(const config::Origin& origin);
  // The credentials a signed origin uses (Server-wide; looked up once per snapshot here).
  aws::RefreshingCredentials& signing_credentials(const config::Origin& origin);
  logs::AccessLogWriter* access_log() { return log_.get(); }
  logs::LogFile* waf_log() { return waf_log_.get(); }  // this snapshot's WAF log, or null
  logs::LogFile* function_log() { return function_log_.get(); }
  MetricsShard& metrics() { return metrics_; }
  const Hooks& hooks() const { return hooks_; }
  bool draining() const { return draining_; }
  asio::io_context& io() { return io_; }
  ParkedSet& parked() { return parked_; }
  Server& server() { return server_; }
  uint16_t https_port() const { return https_port_; }
  std::string_view http_date();
  std::string_view via() const {
    return via_;
  }  // "1.1 <server_name> (edgeguard)"  // IMF-fixdate of now, formatted once per second

  void add_connection(ViewerConnection* c);
  void remove_connection(ViewerConnection* c);

 private:
  awaitable<void> accept_loop(tcp::acceptor& acc, std::shared_ptr<asio::ssl::context> tls);
  awaitable<void> housekeeping_loop();  // log flushes, slow-origin viewer watches

  Server& server_;
  int index_;
  asio::io_context io_{1};
  ParkedSet parked_{io_};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::vector<std::shared_ptr<asio::ssl::context>> acceptor_tls_;
  std::thread thread_;
  MetricsShard& metrics_;
  std::shared_ptr<const config::Snapshot> snap_;
  uint64_t generation_ = 0;
  std::map<std::string, std::unique_ptr<OriginPool>> pools_;
  std::map<const config::Origin*, aws::RefreshingCredentials*> credentials_;  // this snapshot's
  std::unique_ptr<logs::AccessLogWriter> log_;
  std::shared_ptr<logs::LogFile> waf_log_;
  std::shared_ptr<logs::LogFile> function_log_;
  Hooks hooks_;
  // Every open viewer connection (intrusive list through ViewerConnection::registry_*).
  template <class F>
  void for_each_connection(F f) {
    for (ViewerConnection* c = conns_; c;) {
      ViewerConnection* next = next_of(c);
      f(c);
      c = next;
    }
  }
  static ViewerConnection* next_of(ViewerConnection* c);
  ViewerConnection* conns_ = nullptr;
  std::atomic<size_t> conn_count_{0};
  bool draining_ = false;
  uint16_t https_port_ = 0;
  std::time_t date_second_ = 0;
  std::string date_;
  std::string via_;
  size_t parked_since_trim_ = 0;
  Clock::time_point last_trim_{};
};

}  // namespace eg::proxy
