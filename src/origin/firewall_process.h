// Runs a helper program (nft) with bytes on its stdin and collects its output.
#pragma once
#include <string>
#include <vector>

namespace eg::origin {

struct ProcessResult {
  int exit_code = -1;  // -1: could not start, or killed by a signal
  std::string out;
  std::string err;  // stderr, or why it could not start
};

// argv[0] is looked up in PATH, then in /usr/sbin and /sbin (nft lives there and PATH often
// lacks them). Never throws.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {});

}  // namespace eg::origin
