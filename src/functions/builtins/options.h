// Reads a builtin's options (the JSON object the config loader kept for the binding) into a
// typed options struct. Every error names the builtin and the option and says what was
// expected: "redirect: status: expected one of 301, 302, 303, 307, 308, got 200". The first
// error wins and later reads do nothing, so a parser reads straight through and checks ok()
// once at the end. Runs at config load only: never on the request path.
#pragma once
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace eg::functions::builtins {

class OptionReader {
 public:
  OptionReader(std::string_view builtin, const nlohmann::json& options,
               const std::filesystem::path& base_dir, std::string& error);

  bool ok() const { return error_.empty(); }
  std::string_view builtin() const { return builtin_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }

  // Refuses a key outside `allowed`, naming it and listing the allowed ones.
  void allow_only(std::initializer_list<std::string_view> allowed);
  // The option's value, or nullptr when absent (or an error was already reported).
  const nlohmann::json* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }

  // Each read leaves `out` unchanged when the option is absent; true when it was read.
  bool read(std::string_view key, std::string& out);
  bool read(std::string_view key, bool& out);
  bool read(std::string_view key, int64_t& out, int64_t min, int64_t max);
  // A string or a list of strings.
  bool read(std::string_view key, std::vector<std::string>& out);
  // A file path; relative paths are taken from the config file's folder.
  bool read_path(std::string_view key, std::filesystem::path& out);

  // "builtin: key: message" / "builtin: message".
  void fail(std::string_view key, std::string_view message);
  void fail(std::string_view message);

 private:
  std::string_view builtin_;
  const nlohmann::json& options_;
  std::filesystem::path base_dir_;
  std::string& error_;
};

// "a string", "a number", ... for "expected X, got Y" messages.
std::string_view json_type_name(const nlohmann::json& v);

}  // namespace eg::functions::builtins
