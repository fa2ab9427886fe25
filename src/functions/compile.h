// A function binding of the config, compiled once per config snapshot into the Function the
// pipeline runs: a builtin from the builtins table, or a handler file run by the runtime its
// `runtime` option names (inferred from the file when absent: `exports.`, `module.exports`
// or `export ` mean Node, a bare `function handler(event)` CloudFront Functions 2.0).
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "functions/function.h"

namespace eg::functions {

struct Binding {
  EventType event = EventType::ViewerRequest;
  bool builtin = false;
  std::string name;          // the builtin's name, or the handler file's absolute path
  std::string display_name;  // as written in the config ("fns/auth.js"), used in messages
  bool include_body = false;
  nlohmann::json options = nlohmann::json::object();  // the binding's other keys
  std::filesystem::path base_dir;                     // the config file's folder
};

// nullptr and `error` (naming the option or the file, line and what is wrong) when the
// binding cannot run.
std::shared_ptr<Function> compile_binding(const Binding& b, std::string& error);

enum class Runtime : uint8_t { NodeJs, CloudFrontJs1, CloudFrontJs2 };
std::optional<Runtime> parse_runtime(std::string_view s);  // nodejs | cloudfront-js-1.0 | -2.0
Runtime infer_runtime(std::string_view source);

}  // namespace eg::functions
