// Helpers shared by the builtins' tests: build a builtin from JSON options, make a request.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "functions/builtins/registry.h"
#include "functions/function.h"

namespace eg::functions::test {

inline std::filesystem::path data_dir() {
  return std::filesystem::path(EG_SOURCE_DIR) / "tests" / "data" / "functions";
}

// The builtin, or nullptr with the error in `error`.
inline std::shared_ptr<Function> try_make(std::string_view name, EventType event,
                                          std::string_view options_json, std::string& error,
                                          const std::filesystem::path& base = data_dir()) {
  return make_builtin(name, event, nlohmann::json::parse(options_json), base, error);
}

inline std::shared_ptr<Function> make(std::string_view name, EventType event,
                                      std::string_view options_json,
                                      const std::filesystem::path& base = data_dir()) {
  std::string error;
  auto f = try_make(name, event, options_json, error, base);
  EXPECT_TRUE(f) << error;
  return f;
}

inline http::Request request(
    std::string_view target,
    std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
  http::Request r;
  r.method = "GET";
  r.target = target;
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string_view::npos) {
    r.has_query = true;
    r.query = target.substr(q + 1);
  }
  for (const auto& [name, value] : headers) r.headers.add(name, value);
  return r;
}

inline Context viewer(std::string_view client_ip = "192.0.2.10", bool https = true) {
  Context c;
  c.event = EventType::ViewerRequest;
  c.client_ip = client_ip;
  c.https = https;
  return c;
}

// A fresh directory under the test temp dir, removed by the caller's scope.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view name) {
    path = std::filesystem::path(::testing::TempDir()) /
           (std::string(name) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(std::string_view file, std::string_view text) const {
    std::ofstream(path / file, std::ios::binary | std::ios::trunc) << text;
  }
};

}  // namespace eg::functions::test
