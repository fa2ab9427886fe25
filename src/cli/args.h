// Flag parsing shared by subcommands.
#pragma once
#include <string>
#include <utility>

namespace eg::cli {

// -H 'Name: value' -> {name, value}; false with `error` naming the flag and the problem.
bool parse_header_arg(const std::string& arg, std::pair<std::string, std::string>& out,
                      std::string& error);

}  // namespace eg::cli
