#include <csignal>
#include <iostream>

#include "admin/admin_server.h"
#include "cli/commands.h"
#include "config/check.h"
#include "config/loader.h"
#include "core/log.h"
#include "core/memory.h"
#include "proxy/server.h"

namespace eg::cli {
namespace {

void print_banner(const config::Snapshot& s) {
  const auto& l = s.listeners.front();
  std::string base = (l.tls ? "https://" : "http://") + l.host + ":" + std::to_string(l.port);
  std::cout << "\nedgeguard is serving the quickstart distribution on " << base << "\n\n"
            << "Try:\n"
            << "  curl -i " << base
            << "/                 # the directory origin (examples/quickstart/public)\n"
            << "  curl -i " << base
            << "/api/hello?x=1    # the echo origin: shows what the origin receives\n"
            << "  curl -i " << base
            << "/hotels/rooms/    # prefix rewrite: /hotels/<*> -> /<*> on the echo origin\n"
            << "  curl -i " << base
            << "/../etc/passwd    # refused: nothing outside the directory\n"
            << "  curl -i -X DELETE " << base
            << "/       # 403: the default behavior allows GET, HEAD\n";
  if (s.admin.enabled)
    std::cout << "  curl -H \"Authorization: Bearer $(cat " << s.admin.token_file << ")\" http://"
              << s.admin.host << ":" << s.admin.port << "/stats\n";
  std::cout << "\nCtrl-C stops it (gracefully).\n" << std::endl;
}

}  // namespace

struct ServeArgs {
  std::string config;
  int workers = 0;
  bool banner = false;
  std::string log_level = "info";
};

int run_serve(const ServeArgs& args) {
  if (args.log_level == "debug") log::set_level(log::Level::Debug);
  if (args.log_level == "warn") log::set_level(log::Level::Warn);
  if (args.log_level == "error") log::set_level(log::Level::Error);
  std::signal(SIGPIPE, SIG_IGN);

  proxy::ServeOptions options{args.config, args.workers};
  auto loaded = config::load_file(args.config, options.waf_state);
  if (!loaded.snapshot) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    std::cerr << "edgeguard: " << loaded.errors.size() << " error(s) in " << args.config
              << "; not started\n";
    return 1;
  }
  proxy::Server server(options);
  boost::asio::io_context control;
  // Signals are handled on the control loop; block them before workers start so that
  // only this thread's sigwait-style handling sees them.
  boost::asio::signal_set signals(control, SIGHUP, SIGTERM, SIGINT);
  signals.add(SIGUSR1);
  if (!server.start(loaded.snapshot)) return 1;
  admin::AdminServer admin(control, server);
  std::string err;
  if (!admin.start(&err)) {
    log::error("{}", err);
    server.shutdown();
    return 1;
  }
  const auto& snap = *loaded.snapshot;
  for (const auto& l : snap.listeners)
    log::info("listening on {}{}:{}", l.tls ? "https://" : "http://", l.host, l.port);
  log::debug("allocator: {}", allocator_name());
  if (args.banner) print_banner(snap);

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        server.reload();
      } else if (sig == SIGUSR1) {
        server.reopen_logs();
      } else {
        log::info("signal {}: draining and stopping", sig == SIGTERM ? "TERM" : "INT");
        admin.stop();
        control.stop();
        return;
      }
      wait_signal();
    });
  };
  wait_signal();
  control.run();
  server.shutdown();
  log::info("stopped");
  return 0;
}

Command add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* s = app.add_subcommand("serve", "Run the gateway");
  s->add_option("-c,--config", args->config, "Config file (YAML or JSON)")->required();
  s->add_option("--workers", args->workers, "Worker threads (default: one per core)")
      ->check(CLI::Range(1, 1024));
  s->add_flag("--quickstart-banner", args->banner, "Print what to try (used by make run)");
  s->add_option("--log-level", args->log_level, "debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  return {s, [args] { return run_serve(*args); }};
}

Command add_check_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* c = app.add_subcommand("check", "Validate a config file and list every error");
  c->add_option("-c,--config", *file, "Config file (YAML or JSON)")->required();
  return {c, [file] { return config::run_check(*file, std::cout, std::cerr); }};
}

}  // namespace eg::cli
