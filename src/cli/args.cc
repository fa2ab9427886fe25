#include "cli/args.h"

#include <cctype>
#include <string_view>

namespace eg::cli {

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool parse_header_arg(const std::string& arg, std::pair<std::string, std::string>& out,
                      std::string& error) {
  size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) {
    error = "-H '" + arg + "': expected 'Name: value'";
    return false;
  }
  std::string name = arg.substr(0, colon);
  for (char c : name)
    if (!is_token_char(c)) {
      error = "-H '" + arg + "': '" + name + "' is not a valid header name";
      return false;
    }
  std::string value = arg.substr(colon + 1);
  for (char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      error = "-H '" + arg + "': control characters are not allowed in a header value";
      return false;
    }
  size_t b = value.find_first_not_of(" \t");
  value = b == std::string::npos ? "" : value.substr(b);
  out = {name, value};
  return true;
}

}  // namespace eg::cli
