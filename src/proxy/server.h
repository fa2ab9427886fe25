// The gateway process: the current config snapshot, the workers, reload, log reopen and
// graceful shutdown. Signals and the admin listener run on the control loop (main thread).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/loader.h"
#include "logs/access_log.h"
#include "proxy/metrics.h"
#include "proxy/origin_signing.h"
#include "proxy/worker.h"
#include "waf/state.h"

namespace eg::proxy {

struct ServeOptions {
  std::string config_file;
  int workers = 0;  // 0: one per core
  // Web ACL state that outlives a config snapshot (IP set changes, rate counters).
  std::shared_ptr<waf::WafState> waf_state = std::make_shared<waf::WafState>();
};

class Server {
 public:
  explicit Server(ServeOptions opts);
  ~Server();

  // Loads the config, binds listeners, starts workers. Returns false with errors printed.
  bool start(std::shared_ptr<const config::Snapshot> initial);
  // Builds a new snapshot from the config file; on success swaps it in. Never throws.
  // Returns the errors (empty on success).
  std::vector<std::string> reload();
  void reopen_logs();
  // Graceful: stop accepting, let in-flight requests finish (up to drain_timeout).
  void shutdown();

  std::shared_ptr<const config::Snapshot> current() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<logs::LogFile> log_file() const;
  std::shared_ptr<logs::LogFile> waf_log_file() const;
  std::shared_ptr<logs::LogFile> function_log_file() const;
  waf::WafState& waf_state() { return *opts_.waf_state; }
  Metrics& metrics() { return metrics_; }
  SigningCredentials& signing_credentials() { return signing_credentials_; }
  const ServeOptions& options() const { return opts_; }

 private:
  void install(std::shared_ptr<const config::Snapshot> s);

  ServeOptions opts_;
  mutable std::mutex mu_;  // guards snapshot_ and log_file_ swaps (never taken per request)
  std::shared_ptr<const config::Snapshot> snapshot_;
  std::shared_ptr<logs::LogFile> log_file_;
  std::shared_ptr<logs::LogFile> waf_log_file_;
  std::shared_ptr<logs::LogFile> function_log_file_;
  std::atomic<uint64_t> generation_{0};
  Metrics metrics_;
  SigningCredentials signing_credentials_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace eg::proxy
