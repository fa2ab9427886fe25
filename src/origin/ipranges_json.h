// JSON helpers shared by the ip-ranges parsers: parsing without exceptions, and the words
// error messages use for what was found.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace eg::origin {

using Json = nlohmann::json;

struct JsonParse {
  Json value;
  std::string error;  // empty on success: "not JSON: syntax error at line 3, column 7: ..."
  bool ok() const { return error.empty(); }
};

// Never throws (nlohmann 3.11 parses and destroys without recursion, so deep nesting is safe).
JsonParse parse_json(std::string_view bytes);

// "the number 5", "the string \"x\"", "an object", "an array", "null", "true".
std::string describe(const Json& v);
// A string as a JSON literal, shortened past 80 characters.
std::string json_quoted(std::string_view s);

}  // namespace eg::origin
