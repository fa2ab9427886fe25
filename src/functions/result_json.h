// Private to the functions module: reading a handler's JSON result and phrasing what is
// wrong with it. Shared by the Lambda@Edge and CloudFront Functions validators.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "functions/function.h"

namespace eg::functions::detail {

// Ordered: a handler's header order (JS property order) is the order they go on the wire.
using Json = nlohmann::ordered_json;

enum class ResultShape : uint8_t { Object, Undefined, Null, NotParsable, TooLarge, TooDeep, Other };

struct ParsedResult {
  ResultShape shape = ResultShape::NotParsable;
  Json value;  // the document when it parsed
};

// Never throws. Nesting beyond 64 levels is refused before nlohmann sees it: no legitimate
// result nests past 8, and deep input is how a parser is made to exhaust its stack.
ParsedResult parse_result(std::string_view text, size_t max_bytes);

// "a string", "a number", "an array", "an object", "null", "a boolean".
std::string_view type_phrase(const Json& v);

// A value as a message shows it: strings quoted, short; other JSON compact and cut.
std::string show(const Json& v);

// The message prefix ("viewer-request function fns/auth.js") and the failure it builds:
// "<prefix>: <detail>" ("<prefix> <detail>" when detail starts with "returned"), followed
// by CloudFront's own error text when there is one.
struct Judge {
  std::string prefix;
  Failure fail(std::string_view detail, std::string_view aws = {}) const;
};

// status as a number or a numeric string; nullopt for anything else.
std::optional<long long> integer_value(const Json& v);

// CloudFront's error texts for the shape mistakes, which differ between the two runtimes.
struct ShapeTexts {
  std::string_view not_object;    // undefined, null, not an object
  std::string_view not_parsable;  // not JSON, nested too deep
  std::string_view too_large;
  std::string_view undefined_advice;  // appended to "returned undefined; <hint>"
};

// Parses `text` into `parsed` and fails on undefined, null, garbage, too large or deep
// JSON and non-objects: the mistakes before any field is read. hint: what the handler
// should have returned.
std::optional<Failure> judge_result_shape(const Judge& judge, std::string_view text,
                                          size_t max_bytes, ParsedResult& parsed,
                                          std::string_view hint, const ShapeTexts& texts);

// A body returned by a function in place of the response's: Content-Length framing.
void set_response_body(http::Response& resp, std::string body);

}  // namespace eg::functions::detail
