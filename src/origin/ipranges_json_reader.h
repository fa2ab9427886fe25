// A strict, allocation-light JSON pull reader for the large documents `ipranges` reads
// (ip-ranges.json is 2.6 MB): the caller walks the shape it expects and skips the rest,
// so no tree is built. It accepts exactly what RFC 8259 (and nlohmann, which the fuzz target
// compares it with) accepts: UTF-8 validated, escapes and surrogate pairs checked, number
// grammar enforced, a leading byte order mark skipped. Skipping is iterative: deep nesting
// cannot exhaust the stack. Never throws; after the first syntax error every call fails and
// error() says where ("line 3, column 7: expected ',' or '}'").
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace eg::origin {

class JsonReader {
 public:
  enum class Kind { Object, Array, String, Number, True, False, Null, End, Invalid };

  explicit JsonReader(std::string_view text);

  // The kind of the next value (whitespace skipped); Invalid on a syntax error.
  Kind peek();
  bool begin_object();  // consumes '{'
  // The next member's key (and its ':'); false at the closing '}' (consumed) or on error.
  bool next_key(std::string& key);
  bool begin_array();  // consumes '['
  // True when another element follows (its ',' consumed); false at ']' (consumed) or error.
  bool next_element();
  bool read_string(std::string& out);
  bool skip_value();
  // Skips the next value and says what it was: "the number 5", "the string \"x\"", "an
  // object", "an array", "null", "true", "false".
  std::string describe_and_skip();
  // True when only whitespace is left.
  bool finish();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string what);
  void skip_space();
  bool scan_string(std::string* out);  // at '"'; out may be null (skip)
  bool scan_number(std::string_view* raw);
  bool scan_literal(std::string_view word);
  bool separator(char close, bool& more);

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
  std::vector<bool> first_;  // per open object/array of the caller: nothing read yet
};

}  // namespace eg::origin
