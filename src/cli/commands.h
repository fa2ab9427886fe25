// The subcommands, one function each.
#pragma once
#include <string>

namespace eg::cli {

struct ServeArgs {
  std::string config;
  int workers = 0;
  bool banner = false;
  std::string log_level = "info";
};

int run_serve(const ServeArgs& args);
int run_check_command(const std::string& file);

}  // namespace eg::cli
