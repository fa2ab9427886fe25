#include "proxy/server.h"

#include <thread>

#include "core/log.h"
#include "proxy/tls.h"

namespace eg::proxy {

Server::Server(ServeOptions opts) : opts_(std::move(opts)) {}

Server::~Server() = default;

std::shared_ptr<const config::Snapshot> Server::current() const {
  std::lock_guard lk(mu_);
  return snapshot_;
}

std::shared_ptr<logs::LogFile> Server::log_file() const {
  std::lock_guard lk(mu_);
  return log_file_;
}

std::shared_ptr<logs::LogFile> Server::waf_log_file() const {
  std::lock_guard lk(mu_);
  return waf_log_file_;
}

std::shared_ptr<logs::LogFile> Server::function_log_file() const {
  std::lock_guard lk(mu_);
  return function_log_file_;
}

namespace {

// The JSON lines log at `path`: the one already open when its path is unchanged.
std::shared_ptr<logs::LogFile> json_log(std::shared_ptr<logs::LogFile> current,
                                        const std::string& path, std::string_view what) {
  if (path.empty()) return nullptr;
  if (current && current->path() == path) return current;
  auto file = std::make_shared<logs::LogFile>(path, logs::Format::Json);
  std::string err;
  if (!file->open(&err)) {
    log::error("{} {}: {}", what, path, err);
    return nullptr;
  }
  return file;
}

}  // namespace

void Server::install(std::shared_ptr<const config::Snapshot> s) {
  std::shared_ptr<logs::LogFile> file, waf_file, function_file;
  {
    std::lock_guard lk(mu_);
    file = log_file_;
    waf_file = waf_log_file_;
    function_file = function_log_file_;
  }
  waf_file = json_log(std::move(waf_file), s->waf.acl ? s->waf.log_file : std::string(), "WAF log");
  function_file = json_log(std::move(function_file), s->functions.log_file, "function log");
  const auto& al = s->access_log;
  auto fmt =
      al.format == config::AccessLog::Format::Json ? logs::Format::Json : logs::Format::CloudFront;
  if (al.path.empty()) {
    file.reset();
  } else if (!file || file->path() != al.path || file->format() != fmt) {
    file = std::make_shared<logs::LogFile>(al.path, fmt);
    std::string err;
    if (!file->open(&err)) {
      log::error("access log {}: {}", al.path, err);
      file.reset();
    }
  }
  {
    std::lock_guard lk(mu_);
    snapshot_ = std::move(s);
    log_file_ = std::move(file);
    waf_log_file_ = std::move(waf_file);
    function_log_file_ = std::move(function_file);
  }
  uint64_t g = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  metrics_.config_generation = g;
}

bool Server::start(std::shared_ptr<const config::Snapshot> initial) {
  std::vector<ListenerSocket> listeners;
  for (const auto& l : initial->listeners) {
    ListenerSocket ls{l, nullptr};
    if (l.tls) {
      std::string err;
      ls.tls = make_server_tls(*l.tls, &err);
      if (!ls.tls) {
        log::error("listener {}:{}: {}", l.host, l.port, err);
        return false;
      }
    }
    listeners.push_back(std::move(ls));
  }
  install(std::move(initial));
  int n =
      opts_.workers > 0 ? opts_.workers : int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*this, i, metrics_.new_shard());
    std::string err;
    if (!w->bind(listeners, &err)) {
      log::error("{}", err);
      return false;
    }
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->start();
  return true;
}

std::vector<std::string> Server::reload() {
  auto result = config::load_file(opts_.config_file, opts_.waf_state);
  std::vector<std::string> errors;
  for (const auto& e : result.errors) errors.push_back(e.to_string());
  if (!result.snapshot) {
    ++metrics_.reloads_failed;
    log::error("reload refused, the running config keeps serving ({} error{}):", errors.size(),
               errors.size() == 1 ? "" : "s");
    for (const auto& e : errors) log::error("  {}", e);
    return errors;
  }
  auto old = current();
  if (old) {
    bool same = result.snapshot->listeners.size() == old->listeners.size();
    for (size_t i = 0; same && i < old->listeners.size(); ++i)
      same = old->listeners[i].host == result.snapshot->listeners[i].host &&
             old->listeners[i].port == result.snapshot->listeners[i].port &&
             old->listeners[i].tls.has_value() == result.snapshot->listeners[i].tls.has_value();
    if (!same) log::warn("reload: listener changes take effect at the next restart");
  }
  install(result.snapshot);
  ++metrics_.reloads_ok;
  log::info("config reloaded: generation {}", generation());
  return {};
}

void Server::reopen_logs() {
  if (auto w = waf_log_file()) {
    std::string err;
    if (!w->reopen(&err)) log::error("reopen WAF log {}: {}", w->path(), err);
  }
  if (auto w = function_log_file()) {
    std::string err;
    if (!w->reopen(&err)) log::error("reopen function log {}: {}", w->path(), err);
  }
  auto f = log_file();
  if (!f) return;
  std::string err;
  if (!f->reopen(&err))
    log::error("reopen access log {}: {}", f->path(), err);
  else
    log::info("access log reopened: {}", f->path());
}

void Server::shutdown() {
  auto snap = current();
  auto drain = snap ? snap->limits.drain_timeout : std::chrono::milliseconds(30000);
  for (auto& w : workers_) w->stop_accepting();
  auto until = std::chrono::steady_clock::now() + drain;
  for (;;) {
    size_t open = 0;
    for (auto& w : workers_) open += w->connection_count();
    if (open == 0 || std::chrono::steady_clock::now() >= until) break;
    for (auto& w : workers_) w->close_idle();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& w : workers_) w->force_close();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& w : workers_) w->join();
}

}  // namespace eg::proxy
