// `edgeguard check`: validate a config file and report every problem.
#pragma once
#include <ostream>
#include <string>

namespace eg::config {

// Prints each error as `file:line:col: path: message`, one per line, to `err` and returns 1;
// on success prints "config OK: N listeners, M origins, K behaviors" to `out` and returns 0.
int run_check(const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace eg::config
