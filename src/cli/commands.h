// The subcommands. Each lives in its own file and exposes one `add_*_command` function that
// declares its flags on the app and returns what runs it; main.cc lists them in one table.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace eg::cli {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;  // 0 success, 1 a failure it explained, 2 bad usage
};

using AddCommand = Command (*)(CLI::App& app);

Command add_serve_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_ipranges_command(CLI::App& app);
Command add_sign_command(CLI::App& app);
Command add_secrets_command(CLI::App& app);
Command add_waf_command(CLI::App& app);
Command add_fn_command(CLI::App& app);

}  // namespace eg::cli
