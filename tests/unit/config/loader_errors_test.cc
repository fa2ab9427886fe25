// Each class of config error: exact position, path and message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace eg::config {
namespace {
namespace fs = std::filesystem;
using namespace eg::config::test_util;

TEST(ConfigLoader, YamlSyntaxErrorHasItsPosition) {
  auto r = load_text("listeners:\n  - address: [1, 2\nbehaviors: 3\n", "e.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 3);  // where yaml-cpp noticed the list was not closed
  EXPECT_EQ(r.errors[0].column, 10);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].to_string(),
            "e.yaml:3:10: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(r.snapshot, nullptr);
}

TEST(ConfigLoader, UnknownKeyPointsAtTheKeyWithASuggestion) {
  auto r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\n"
      "origins: {echo: {echo: true}}\n"
      "behaviors:\n"
      "  - path: default\n"
      "    orign: echo\n",
      "/x/edge.yaml");
  EXPECT_TRUE(
      one_error(r, 5, 5, "behaviors[0].orign", "unknown key 'orign'; did you mean 'origin'?"));
  EXPECT_EQ(r.errors[0].to_string(),
            "/x/edge.yaml:5:5: behaviors[0].orign: unknown key 'orign'; did you mean 'origin'?");
}

TEST(ConfigLoader, UnknownKeyFarFromAnyKnownOneHasNoSuggestion) {
  auto r = load_text(std::string(kMinimal) + "zzz: 1\n", "e.yaml");
  EXPECT_TRUE(one_error(r, 4, 1, "zzz", "unknown key 'zzz'"));
}

TEST(ConfigLoader, WrongTypeSaysWhatWasExpectedAndFound) {
  auto r = load_text(std::string(kMinimal) + "development: 1\n", "e.yaml");
  EXPECT_TRUE(one_error(r, 4, 14, "development", "expected true or false, found the number 1"));
  r = load_text(std::string(kMinimal) + "limits: {idle_timeout: [1s]}\n", "e.yaml");
  EXPECT_TRUE(one_error(r, 4, 24, "limits.idle_timeout",
                        "expected a duration like 250ms, 10s, 5m or 1h, found a list"));
  r = load_text(std::string(kMinimal) + "limits: {max_request_body: {}}\n", "e.yaml");
  EXPECT_TRUE(one_error(r, 4, 28, "limits.max_request_body",
                        "expected a size like 512, 16k or 8m, found a map"));
  r = load_text("listeners: [{address: 127.0.0.1:8080}]\norigins: [echo]\nbehaviors: []\n", "e");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "e:2:10: origins: expected a map, found a list");
  EXPECT_EQ(r.errors[1].to_string(),
            "e:3:12: behaviors: at least one behavior is required (the last one with path: "
            "default)");
}

TEST(ConfigLoader, MissingRequiredKeyPointsAtItsMap) {
  auto r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\n"
      "origins: {echo: {echo: true}}\n"
      "behaviors:\n"
      "  - path: default\n",
      "e.yaml");
  EXPECT_TRUE(one_error(r, 4, 5, "behaviors[0].origin", "required key is missing"));
}

TEST(ConfigLoader, EmptyValuePointsAtItsKey) {
  auto r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\n"
      "origins:\n"
      "  echo: {echo: true}\n"
      "behaviors:\n"
      "  - path: default\n"
      "    origin:\n",
      "e.yaml");
  EXPECT_TRUE(one_error(r, 6, 5, "behaviors[0].origin", "expected a string, found null"));
}

TEST(ConfigLoader, DuplicateKeyIsAnError) {
  auto r = load_text(std::string(kMinimal) + "development: true\ndevelopment: false\n", "e.yaml");
  EXPECT_TRUE(one_error(r, 5, 1, "development", "duplicate key 'development' (first at line 4)"));
}

TEST(ConfigLoader, CollectsEveryErrorInFileOrder) {
  auto r = load_text(
      "development: maybe\n"                          // 1
      "listeners:\n"                                  // 2
      "  - address: 127.0.0.1:8080\n"                 // 3
      "  - address: 127.0.0.1:8080\n"                 // 4
      "origins:\n"                                    // 5
      "  a: {url: ftp://x, read_timout: 1s}\n"        // 6
      "behaviors:\n"                                  // 7
      "  - {path: /x, origin: b, cache_policy: 3}\n"  // 8
      "server_name: [x]\n",                           // 9
      "e.yaml");
  std::vector<std::string> want = {
      "e.yaml:1:14: development: expected true or false, found the string 'maybe'",
      "e.yaml:4:14: listeners[1].address: duplicate address 127.0.0.1:8080: listeners[0] listens "
      "on 127.0.0.1:8080",
      "e.yaml:6:12: origins.a.url: the scheme must be http or https, found 'ftp'",
      "e.yaml:6:21: origins.a.read_timout: unknown key 'read_timout'; did you mean "
      "'read_timeout'?",
      "e.yaml:8:3: behaviors: the last behavior must be the default one (path: default)",
      "e.yaml:8:24: behaviors[0].origin: unknown origin 'b'",
      "e.yaml:9:14: server_name: expected a string, found a list",
  };
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.to_string());
  EXPECT_EQ(got, want);
  EXPECT_EQ(r.snapshot, nullptr);
}

std::string with_header(const std::string& header_value, const std::string& extra) {
  return "listeners: [{address: 127.0.0.1:8080}]\n"
         "origins: {a: {url: http://a, custom_headers: {X-Origin-Verify: " +
         header_value + "}}}\nbehaviors: [{path: default, origin: a}]\n" + extra;
}

TEST(ConfigLoader, SecretsReferencedByHeadersMustExistWithACurrentVersion) {
  TempDir d;
  std::string cfg = d.file("edge.yaml");
  auto r = load_text(with_header("{secret: origin-verify}", "secrets: {file: store.json}\n"), cfg);
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.snapshot->origins[0].custom_headers[0].secret, "origin-verify");

  r = load_text(with_header("{secret: origin-verif}", "secrets: {file: store.json}\n"), cfg);
  EXPECT_TRUE(one_error(r, 2, 73, "origins.a.custom_headers.X-Origin-Verify.secret",
                        "unknown secret 'origin-verif'; did you mean 'origin-verify'?"));
  r = load_text(with_header("{secret: pending}", "secrets: {file: store.json}\n"), cfg);
  EXPECT_TRUE(one_error(r, 2, 73, "origins.a.custom_headers.X-Origin-Verify.secret",
                        "secret 'pending' has no version with stage CURRENT"));
  r = load_text(with_header("{secret: pending}", ""), cfg);
  EXPECT_TRUE(one_error(r, 2, 73, "origins.a.custom_headers.X-Origin-Verify.secret",
                        "secret 'pending' is referenced but no secrets store is configured "
                        "(secrets.file)"));
  r = load_text(with_header("{secret: x}", "secrets: {file: missing.json}\n"), cfg);
  EXPECT_TRUE(one_error(r, 4, 17, "secrets.file",
                        "file 'missing.json' (" + d.file("missing.json") + ") does not exist"));
}

TEST(ConfigLoader, SecretStoreErrorsNameTheStoreAndNeverShowValues) {
  TempDir d;
  std::string store = d.write("bad.json", R"({"secrets": {
  "s1": {"versions": [{"id": "v1", "value": "TOPSECRET-1", "stages": "TOPSECRET-2"}]},
  "s2": {"versions": [{"id": "v1", "value": ["TOPSECRET-3"], "stages": ["CURRENT", {}]}]},
  "s3": {"versions": [{"id": "a", "value": "x", "stages": ["CURRENT"]},
                      {"id": "a", "value": "TOPSECRET-4", "stages": ["CURRENT"]}]},
  "bad name!": {"versions": []},
  "s4": {"versions": [{"id": "v1", "value": {"TOPSECRET-5": 1}, "stages": []}]}
}})");
  auto r = load_text(with_header("{secret: s1}", "secrets: {file: bad.json}\n"), d.file("e.yaml"));
  std::vector<std::string> want = {
      store + ":2:70: secrets.s1.versions[0].stages: expected a list, found a scalar",
      store + ":3:45: secrets.s2.versions[0].value: expected a string, found a list",
      store + ":3:84: secrets.s2.versions[0].stages[1]: expected a string, found a map",
      store + ":5:30: secrets.s3.versions[1].id: duplicate version id 'a'",
      store + ":5:70: secrets.s3.versions[1].stages[0]: stage CURRENT is already on version 'a'",
      store +
          ":6:3: secrets.bad name!: invalid secret name 'bad name!' (letters, digits and "
          "/_+=.@- only, up to 128 characters)",
      store + ":7:45: secrets.s4.versions[0].value: expected a string, found a map",
  };
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.to_string());
  EXPECT_EQ(got, want);
  for (const auto& g : got) EXPECT_EQ(g.find("TOPSECRET"), std::string::npos) << g;

  d.write("broken.json", "{\"secrets\": {\"s\": \"TOPSECRET-6");
  r = load_text(with_header("{secret: s}", "secrets: {file: broken.json}\n"), d.file("e.yaml"));
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].file, d.file("broken.json"));
  EXPECT_EQ(r.errors[0].line, 1);
  EXPECT_EQ(r.errors[0].to_string().find("TOPSECRET"), std::string::npos);
}

TEST(ConfigLoader, ListenerAndAdminAddressesMustNotCollide) {
  TempDir d;
  auto r = load_text(
      "listeners: [{address: 0.0.0.0:8080}, {address: \"[::]:8080\"}]\n"
      "origins: {echo: {echo: true}}\n"
      "behaviors: [{path: default, origin: echo}]\n"
      "admin: {address: 127.0.0.1:8080, token_file: admin.token}\n",
      d.file("e.yaml"));
  EXPECT_TRUE(one_error(r, 4, 18, "admin.address",
                        "overlapping address 127.0.0.1:8080: listeners[0] listens on "
                        "0.0.0.0:8080"));
}

TEST(ConfigLoader, AdminTokenMustBeLongEnough) {
  TempDir d;
  d.write("short.token", "abc\n");
  auto r =
      load_text(std::string(kMinimal) + "admin: {token_file: short.token}\n", d.file("e.yaml"));
  EXPECT_TRUE(one_error(r, 4, 21, "admin.token_file",
                        "the token must be at least 16 characters long (the file holds 3)"));
  r = load_text(std::string(kMinimal) + "admin: {token_file: admin.token}\n", d.file("e.yaml"));
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.snapshot->admin.host, "127.0.0.1");
  EXPECT_EQ(r.snapshot->admin.port, 9901);
  for (const char* special : {"/dev/zero", "/dev/null", "/"}) {
    r = load_text(std::string(kMinimal) + "admin: {token_file: " + special + "}\n", "e.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << special;
    EXPECT_EQ(r.errors[0].path, "admin.token_file");
  }
}

TEST(ConfigLoader, TlsKeyMustMatchItsCertificate) {
  TempDir d;
  auto r = load_text(
      "listeners: [{address: 127.0.0.1:8443, tls: {cert: certs/edge.pem, key: certs/other.key}}]\n"
      "origins: {echo: {echo: true}}\nbehaviors: [{path: default, origin: echo}]\n",
      d.file("e.yaml"));
  EXPECT_TRUE(one_error(r, 1, 72, "listeners[0].tls.key",
                        "key 'certs/other.key' does not match certificate 'certs/edge.pem'"));
}

TEST(ConfigLoader, LoadFileReportsAMissingFile) {
  auto r = load_file("/nonexistent/edge.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/edge.yaml: cannot read config: no such file");
}

TEST(ConfigLoader, AliasBombsAndCyclesEndQuickly) {
  // "Billion laughs": ten levels of ten aliases each, expanded in function options.
  std::string bomb = "{a: &a [x, x, x, x, x, x, x, x, x, x]";
  std::string prev = "a";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(", ") + c + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]";
    prev = std::string(1, c);
  }
  bomb += "}";
  auto start = std::chrono::steady_clock::now();
  auto r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\norigins: {echo: {echo: true}}\n"
      "behaviors: [{path: default, origin: echo, functions: {viewer-request: {builtin: x, "
      "opts: " +
          bomb + "}}}]\n",
      "e.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].message, "function options are nested too deeply or too large");
  // A self-referencing alias.
  r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\norigins: {echo: {echo: true}}\n"
      "behaviors: [{path: default, origin: echo, functions: {viewer-request: {builtin: x, "
      "opts: &o [*o]}}}]\n",
      "e.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].message, "function options are nested too deeply or too large");
  r = load_text("listeners: &l [*l]\norigins: &o {a: *o}\nbehaviors: []\n", "e");
  EXPECT_FALSE(r.errors.empty());
  r = load_text(
      "listeners: [{address: 127.0.0.1:8080}]\norigins: &o {a: {<<: *o}}\n"
      "behaviors: [{path: default, origin: a}]\n",
      "e");
  EXPECT_FALSE(r.errors.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ConfigLoader, ErrorWithoutPositionPrintsFileAndMessage) {
  ConfigError e{"edge.yaml", 0, 0, "", "cannot read config: no such file"};
  EXPECT_EQ(e.to_string(), "edge.yaml: cannot read config: no such file");
  e = ConfigError{"edge.yaml", 3, 7, "origins.a", "bad"};
  EXPECT_EQ(e.to_string(), "edge.yaml:3:7: origins.a: bad");
}

}  // namespace
}  // namespace eg::config
