// Reading AWS JSON documents with a path into the document for every error:
// `Rules[3].Statement.ByteMatchStatement.PositionalConstraint: "CONTAIN" is not one of ...`.
// Load time only: a DocError is thrown and caught once at the top of the loader.
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eg::waf {

struct DocError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class JNode {
 public:
  JNode(const nlohmann::json& j, std::string path) : j_(&j), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *j_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(std::string_view message) const;

  bool has(std::string_view key) const;
  JNode at(std::string_view key) const;  // required member
  JNode index(size_t i) const;           // array element
  std::vector<JNode> items() const;      // an array's elements (fails if not an array)
  std::vector<JNode> items(std::string_view key, size_t min, size_t max) const;

  JNode object() const;  // fails unless an object
  std::string str() const;
  std::string str(std::string_view key) const;  // required string member
  std::string str_or(std::string_view key, std::string_view fallback) const;
  int64_t integer(int64_t min, int64_t max) const;
  int64_t integer(std::string_view key, int64_t min, int64_t max) const;
  bool boolean(std::string_view key, bool fallback) const;
  // A string member that must be one of `allowed` (comma-separated in the message).
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed) const;
  std::string choice(std::initializer_list<std::string_view> allowed) const;
  // An object with exactly one member (Statement, FieldToMatch, Action): returns its key.
  std::string single_key(std::string_view what) const;
  // Members not in `known` are refused (catches typos like "PositionalConstraints").
  void only(std::initializer_list<std::string_view> known) const;

 private:
  const nlohmann::json* j_;
  std::string path_;
};

std::string json_quoted(std::string_view s);  // "\"CONTAIN\"" with JSON escaping
std::string join(std::initializer_list<std::string_view> names);

}  // namespace eg::waf
