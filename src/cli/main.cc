// `edgeguard` — the command line. Exit codes: 0 success, 1 a failure it explains,
// 2 bad usage (CLI11 prints what was wrong).
#include <iostream>
#include <vector>

#include "cli/commands.h"

namespace {

// Every subcommand, in the order `--help` lists them. Adding one is one line here.
constexpr eg::cli::AddCommand kCommands[] = {
    eg::cli::add_serve_command,
    eg::cli::add_check_command,
    eg::cli::add_ipranges_command,
    eg::cli::add_sign_command,
    eg::cli::add_secrets_command,
    eg::cli::add_waf_command,
    eg::cli::add_fn_command,
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgeguard: a self-hosted edge security gateway (CloudFront-style behaviors, "
      "web ACL, edge functions, origin lock-down)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("edgeguard 0.1.0"));

  std::vector<eg::cli::Command> commands;
  for (auto add : kCommands) commands.push_back(add(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto& c : commands)
    if (c.sub->parsed()) return c.run();
  return 2;
}
