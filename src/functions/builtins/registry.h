// The one table of native builtins: name → the events it may run at, its options parser and
// its factory. The config loader calls make_builtin for a binding such as
//   functions: {viewer-request: {builtin: basic-auth, users: auth/users.htpasswd}}
// with the binding's other keys as `options`. Adding a builtin: a file pair in this folder and
// one line in the table in registry.cc.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "functions/function.h"

namespace eg::functions {

// A builtin bound at `event`, or nullptr with `error` naming the option and what was expected
// ("basic-auth: users: file auth/users.htpasswd line 3: unsupported hash '$1$' ..."). Unknown
// builtins list the known ones, unknown options the allowed ones. Relative file paths in the
// options are taken from base_dir (the config file's folder). Files named by the options are
// read now, so a missing or malformed file is a config error.
std::shared_ptr<Function> make_builtin(std::string_view name, EventType event,
                                       const nlohmann::json& options,
                                       const std::filesystem::path& base_dir, std::string& error);

// The builtins' names, in table order.
std::vector<std::string_view> builtin_names();

// The events a builtin may run at; empty for an unknown name.
std::vector<EventType> builtin_events(std::string_view name);

}  // namespace eg::functions
