// `edgeguard` — the command line. Exit codes: 0 success, 1 a failure it explains,
// 2 bad usage (CLI11 prints what was wrong).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeguard: a self-hosted edge security gateway (CloudFront-style behaviors, "
               "web ACL, edge functions, origin lock-down)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("edgeguard 0.1.0"));

  eg::cli::ServeArgs serve;
  auto* s = app.add_subcommand("serve", "Run the gateway");
  s->add_option("-c,--config", serve.config, "Config file (YAML or JSON)")->required();
  s->add_option("--workers", serve.workers, "Worker threads (default: one per core)")
      ->check(CLI::Range(1, 1024));
  s->add_flag("--quickstart-banner", serve.banner, "Print what to try (used by make run)");
  s->add_option("--log-level", serve.log_level, "debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  std::string check_file;
  auto* c = app.add_subcommand("check", "Validate a config file and list every error");
  c->add_option("-c,--config", check_file, "Config file (YAML or JSON)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*s) return eg::cli::run_serve(serve);
  if (*c) return eg::cli::run_check_command(check_file);
  return 2;
}
