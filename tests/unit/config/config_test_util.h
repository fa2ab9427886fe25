// Shared by the config loader tests: a temp folder with fixtures, and error helpers.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.h"

namespace eg::config::test_util {
namespace fs = std::filesystem;

inline const std::string kFixtures = std::string(EG_SOURCE_DIR) + "/tests/cases/config/files";

// A fresh folder with the fixture certificates, a public/ folder, a token and a secrets store.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "eg-config-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
    fs::create_directories(path_ / "certs");
    fs::create_directories(path_ / "public");
    fs::create_directories(path_ / "logs");
    for (const char* f : {"edge.pem", "edge.key", "other.pem", "other.key"})
      fs::copy_file(kFixtures + "/certs/" + f, path_ / "certs" / f);
    write("public/index.html", "<h1>hi</h1>\n");
    write("admin.token", "  0123456789abcdef-token \n");
    write("fns/enrich.js", "exports.handler = async (e) => e;\n");
    write("waf.json", R"({"Name": "fixture", "DefaultAction": {"Allow": {}}, "Rules": []})" "\n");
    write("store.json", R"({"secrets": {
  "origin-verify": {"versions": [
    {"id": "v2", "value": "TOPSECRET-current", "stages": ["AWSCURRENT"]},
    {"id": "v1", "value": "TOPSECRET-previous", "stages": ["PREVIOUS"]}]},
  "pending": {"versions": [{"id": "p", "value": "TOPSECRET-pending", "stages": ["PENDING"]}]}
}}
)");
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& rel) const { return (path_ / rel).string(); }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline const char* kMinimal = R"(listeners: [{address: 127.0.0.1:8080}]
origins: {echo: {echo: true}}
behaviors: [{path: default, origin: echo}]
)";

inline std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// The single error of a result, or a failure listing them all.
inline ::testing::AssertionResult one_error(const LoadResult& r, int line, int col,
                                            const std::string& path, const std::string& message) {
  if (r.errors.size() != 1)
    return ::testing::AssertionFailure() << r.errors.size() << " errors:\n" << all_errors(r);
  const auto& e = r.errors[0];
  if (e.line != line || e.column != col || e.path != path || e.message != message)
    return ::testing::AssertionFailure() << "got " << e.to_string();
  if (r.snapshot) return ::testing::AssertionFailure() << "snapshot set despite an error";
  return ::testing::AssertionSuccess();
}

}  // namespace eg::config::test_util
