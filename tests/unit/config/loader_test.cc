#include "config/loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/check.h"

namespace eg::config {
namespace {
namespace fs = std::filesystem;

const std::string kFixtures = std::string(EG_SOURCE_DIR) + "/tests/cases/config/files";

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
    write("waf.json", "{}\n");
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

const char* kMinimal = R"(listeners: [{address: 127.0.0.1:8080}]
origins: {echo: {echo: true}}
behaviors: [{path: default, origin: echo}]
)";

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// The single error of a result, or a failure listing them all.
::testing::AssertionResult one_error(const LoadResult& r, int line, int col,
                                     const std::string& path, const std::string& message) {
  if (r.errors.size() != 1)
    return ::testing::AssertionFailure() << r.errors.size() << " errors:\n" << all_errors(r);
  const auto& e = r.errors[0];
  if (e.line != line || e.column != col || e.path != path || e.message != message)
    return ::testing::AssertionFailure() << "got " << e.to_string();
  if (r.snapshot) return ::testing::AssertionFailure() << "snapshot set despite an error";
  return ::testing::AssertionSuccess();
}

TEST(ConfigLoader, FullConfigFillsTheSnapshot) {
  TempDir d;
  const std::string text = R"(
listeners:
  - address: 0.0.0.0:8080
  - address: "[::1]:8443"
    tls:
      certificates:
        - {cert: certs/edge.pem, key: certs/edge.key}
        - {cert: certs/other.pem, key: certs/other.key}
      min_version: TLSv1.3
origins:
  api:
    url: https://API.example.com:8443/prefix/
    connect_timeout: 250ms
    read_timeout: 1m
    keepalive_timeout: 0
    max_idle_connections: 7
    tls: {verify: false, ca_file: certs/edge.pem, sni: Internal.example}
    custom_headers: {X-Origin-Verify: {secret: origin-verify}, X-Static: 42}
  site: {directory: ./public/, index_document: home.html}
  echo: {echo: true}
behaviors:
  - path: api/*
    origin: api
    allowed_methods: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]
    cached_methods: GET_HEAD_OPTIONS
    viewer_protocol_policy: https-only
    origin_request_policy:
      headers: {behavior: whitelist, items: [Authorization, X-Id]}
      query_strings: {behavior: all}
      forward_host: true
    cache_policy: CachingOptimized
    rewrite: {from: "/api/<*>", to: "/v1/<*>"}
    functions:
      origin-request: {file: fns/enrich.js, include_body: true}
      viewer-request: {builtin: basic-auth, realm: "edge", users: [{name: a, n: 1, ok: true}]}
  - {path: /static/*, origin: site, origin_request_policy: AllViewer, rewrite: {strip_prefix: /static/}}
  - {path: default, origin: echo, viewer_protocol_policy: redirect-to-https}
custom_error_responses:
  - {error_code: 404, response_page_path: /404.html, response_code: 200, error_caching_min_ttl: 60}
  - {error_code: 503}
secrets: {file: store.json}
access_log: {path: logs/access.log, format: json, edge_location: LAB1, log_cookies: true,
             buffer_size: 16k, flush_interval: 250ms}
admin: {address: "[::1]:9901", token_file: admin.token}
limits: {max_request_line: 4k, max_header_bytes: 32k, max_header_count: 50, max_request_body: 1m,
         header_timeout: 5s, body_timeout: 6s, idle_timeout: 7s, send_timeout: 8s, drain_timeout: 1h}
development: true
server_name: edge-lab
web_acl: waf.json
)";
  std::string file = d.write("edge.yaml", text);
  auto r = load_file(file);
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  ASSERT_NE(r.snapshot, nullptr);
  const Snapshot& s = *r.snapshot;
  EXPECT_EQ(s.source_file, file);
  EXPECT_EQ(s.source_text, text);

  ASSERT_EQ(s.listeners.size(), 2u);
  EXPECT_EQ(s.listeners[0].host, "0.0.0.0");
  EXPECT_EQ(s.listeners[0].port, 8080);
  EXPECT_FALSE(s.listeners[0].tls);
  EXPECT_EQ(s.listeners[1].host, "::1");
  EXPECT_EQ(s.listeners[1].port, 8443);
  ASSERT_TRUE(s.listeners[1].tls);
  ASSERT_EQ(s.listeners[1].tls->certificates.size(), 2u);
  EXPECT_EQ(s.listeners[1].tls->certificates[1].cert_file, d.file("certs/other.pem"));
  EXPECT_EQ(s.listeners[1].tls->certificates[1].key_file, d.file("certs/other.key"));
  EXPECT_EQ(s.listeners[1].tls->min_version, "TLSv1.3");

  ASSERT_EQ(s.origins.size(), 3u);
  EXPECT_EQ(s.origin_index.at("api"), 0u);
  EXPECT_EQ(s.origin_index.at("site"), 1u);
  EXPECT_EQ(s.origin_index.at("echo"), 2u);
  const Origin& api = s.origins[0];
  EXPECT_EQ(api.kind, OriginKind::Http);
  EXPECT_TRUE(api.https);
  EXPECT_EQ(api.host, "api.example.com");
  EXPECT_EQ(api.port, 8443);
  EXPECT_EQ(api.path_prefix, "/prefix");
  EXPECT_FALSE(api.tls_verify);
  EXPECT_EQ(api.ca_file, d.file("certs/edge.pem"));
  EXPECT_EQ(api.sni, "internal.example");
  EXPECT_EQ(api.connect_timeout, Duration(250));
  EXPECT_EQ(api.read_timeout, Duration(60'000));
  EXPECT_EQ(api.keepalive_timeout, Duration(0));
  EXPECT_EQ(api.max_idle_connections, 7u);
  ASSERT_EQ(api.custom_headers.size(), 2u);
  EXPECT_EQ(api.custom_headers[0].name, "X-Origin-Verify");
  EXPECT_EQ(api.custom_headers[0].secret, "origin-verify");
  EXPECT_EQ(api.custom_headers[0].value, "");
  EXPECT_EQ(api.custom_headers[1].name, "X-Static");
  EXPECT_EQ(api.custom_headers[1].value, "42");
  const Origin& site = s.origins[1];
  EXPECT_EQ(site.kind, OriginKind::Directory);
  EXPECT_EQ(site.directory, fs::canonical(d.path() / "public").string());
  EXPECT_EQ(site.index_document, "home.html");
  EXPECT_EQ(s.origins[2].kind, OriginKind::Echo);
  EXPECT_EQ(s.find_origin("site"), &s.origins[1]);
  EXPECT_EQ(s.find_origin("nope"), nullptr);

  ASSERT_EQ(s.behaviors.size(), 3u);
  const Behavior& b0 = s.behaviors[0];
  EXPECT_EQ(b0.path_pattern, "/api/*");
  EXPECT_FALSE(b0.is_default);
  EXPECT_EQ(b0.origin, "api");
  EXPECT_EQ(b0.origin_index, 0u);
  EXPECT_EQ(b0.allowed_methods,
            (std::vector<std::string>{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}));
  EXPECT_EQ(b0.cached_methods, (std::vector<std::string>{"GET", "HEAD", "OPTIONS"}));
  EXPECT_EQ(b0.viewer_protocol_policy, ViewerProtocolPolicy::HttpsOnly);
  EXPECT_EQ(b0.origin_request_policy.name, "custom");
  EXPECT_EQ(b0.origin_request_policy.headers.mode, ForwardList::Mode::Whitelist);
  EXPECT_EQ(b0.origin_request_policy.headers.items,
            (std::vector<std::string>{"authorization", "x-id"}));
  EXPECT_EQ(b0.origin_request_policy.cookies.mode, ForwardList::Mode::None);
  EXPECT_EQ(b0.origin_request_policy.query_strings.mode, ForwardList::Mode::All);
  EXPECT_TRUE(b0.origin_request_policy.forward_host);
  EXPECT_EQ(b0.cache_policy, "CachingOptimized");
  EXPECT_EQ(b0.rewrite.kind, PathRewrite::Kind::Wildcard);
  EXPECT_EQ(b0.rewrite.from, "/api/<*>");
  EXPECT_EQ(b0.rewrite.to, "/v1/<*>");
  ASSERT_EQ(b0.functions.size(), 2u);  // pipeline order, whatever the order written
  EXPECT_EQ(b0.functions[0].event, "viewer-request");
  EXPECT_EQ(b0.functions[0].kind, "builtin");
  EXPECT_EQ(b0.functions[0].name, "basic-auth");
  EXPECT_FALSE(b0.functions[0].include_body);
  EXPECT_EQ(b0.functions[0].options_json,
            R"({"realm":"edge","users":[{"n":1,"name":"a","ok":true}]})");
  EXPECT_EQ(b0.functions[1].event, "origin-request");
  EXPECT_EQ(b0.functions[1].kind, "file");
  EXPECT_EQ(b0.functions[1].name, d.file("fns/enrich.js"));
  EXPECT_TRUE(b0.functions[1].include_body);
  EXPECT_EQ(b0.functions[1].options_json, "{}");
  const Behavior& b1 = s.behaviors[1];
  EXPECT_EQ(b1.origin_request_policy.name, "AllViewer");
  EXPECT_TRUE(b1.origin_request_policy.forward_host);
  EXPECT_EQ(b1.rewrite.kind, PathRewrite::Kind::StripPrefix);
  EXPECT_EQ(b1.rewrite.prefix, "/static");
  EXPECT_EQ(b1.cache_policy, "CachingDisabled");
  EXPECT_TRUE(s.behaviors[2].is_default);
  EXPECT_EQ(s.behaviors[2].path_pattern, "default");
  EXPECT_EQ(s.behaviors[2].viewer_protocol_policy, ViewerProtocolPolicy::RedirectToHttps);

  ASSERT_EQ(s.custom_error_responses.size(), 2u);
  ASSERT_NE(s.custom_error(404), nullptr);
  EXPECT_EQ(s.custom_error(404)->response_page_path, "/404.html");
  EXPECT_EQ(s.custom_error(404)->response_code, 200);
  EXPECT_EQ(s.custom_error(404)->error_caching_min_ttl, 60);
  EXPECT_EQ(s.custom_error(503)->response_code, 0);
  EXPECT_EQ(s.custom_error(503)->error_caching_min_ttl, 10);
  EXPECT_EQ(s.custom_error(500), nullptr);

  EXPECT_EQ(s.secrets_file, d.file("store.json"));
  ASSERT_EQ(s.secrets.size(), 2u);
  const Secret& ov = s.secrets.at("origin-verify");
  ASSERT_NE(ov.current(), nullptr);
  EXPECT_EQ(ov.current()->id, "v2");
  EXPECT_EQ(ov.current()->value, "TOPSECRET-current");
  EXPECT_EQ(ov.current()->stages, std::vector<std::string>{"CURRENT"});  // AWSCURRENT
  EXPECT_EQ(s.secrets.at("pending").current(), nullptr);

  EXPECT_EQ(s.access_log.path, d.file("logs/access.log"));
  EXPECT_EQ(s.access_log.format, AccessLog::Format::Json);
  EXPECT_EQ(s.access_log.edge_location, "LAB1");
  EXPECT_TRUE(s.access_log.log_cookies);
  EXPECT_EQ(s.access_log.buffer_bytes, 16u * 1024);
  EXPECT_EQ(s.access_log.flush_interval, Duration(250));

  EXPECT_TRUE(s.admin.enabled);
  EXPECT_EQ(s.admin.host, "::1");
  EXPECT_EQ(s.admin.port, 9901);
  EXPECT_EQ(s.admin.token_file, d.file("admin.token"));
  EXPECT_EQ(s.admin.token, "0123456789abcdef-token");  // trimmed

  EXPECT_EQ(s.limits.max_request_line, 4096u);
  EXPECT_EQ(s.limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(s.limits.max_header_count, 50u);
  EXPECT_EQ(s.limits.max_request_body, 1u << 20);
  EXPECT_EQ(s.limits.header_timeout, Duration(5000));
  EXPECT_EQ(s.limits.body_timeout, Duration(6000));
  EXPECT_EQ(s.limits.idle_timeout, Duration(7000));
  EXPECT_EQ(s.limits.send_timeout, Duration(8000));
  EXPECT_EQ(s.limits.drain_timeout, Duration(3'600'000));
  EXPECT_TRUE(s.development);
  EXPECT_EQ(s.server_name, "edge-lab");
  EXPECT_EQ(s.web_acl, d.file("waf.json"));
}

TEST(ConfigLoader, MinimalConfigGetsTheDocumentedDefaults) {
  TempDir d;
  auto r = load_text(kMinimal, d.file("edge.yaml"));
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  const Snapshot& s = *r.snapshot;
  EXPECT_FALSE(s.admin.enabled);  // no admin section: no admin endpoint
  EXPECT_TRUE(s.access_log.path.empty());
  EXPECT_TRUE(s.secrets.empty());
  EXPECT_FALSE(s.development);
  EXPECT_EQ(s.server_name, "edgeguard");
  EXPECT_EQ(s.limits.max_request_body, 8u << 20);
  EXPECT_EQ(s.limits.header_timeout, Duration(10'000));
  const Behavior& b = s.behaviors[0];
  EXPECT_EQ(b.allowed_methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_EQ(b.cached_methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_EQ(b.viewer_protocol_policy, ViewerProtocolPolicy::AllowAll);
  EXPECT_EQ(b.origin_request_policy.name, "AllViewerExceptHostHeader");
  EXPECT_EQ(b.origin_request_policy.headers.mode, ForwardList::Mode::All);
  EXPECT_FALSE(b.origin_request_policy.forward_host);
  EXPECT_EQ(b.cache_policy, "CachingDisabled");
  EXPECT_EQ(b.rewrite.kind, PathRewrite::Kind::None);
  EXPECT_TRUE(b.functions.empty());
}

TEST(ConfigLoader, OriginUrlForms) {
  struct Case {
    const char* url;
    bool https;
    const char* host;
    int port;
    const char* prefix;
  };
  for (const Case& c : {Case{"http://a.example", false, "a.example", 80, ""},
                        Case{"https://a.example/", true, "a.example", 443, ""},
                        Case{"HTTPS://A.Example:444/x/y//", true, "a.example", 444, "/x/y"},
                        Case{"http://10.0.0.1:8080/api", false, "10.0.0.1", 8080, "/api"},
                        Case{"https://[2001:DB8::1]/p", true, "2001:db8::1", 443, "/p"},
                        Case{"http://[::1]:81", false, "::1", 81, ""}}) {
    std::string text =
        std::string("listeners: [{address: 127.0.0.1:8080}]\norigins: {o: {url: \"") + c.url +
        "\"}}\nbehaviors: [{path: default, origin: o}]\n";
    auto r = load_text(text, "/nonexistent/edge.yaml");
    ASSERT_TRUE(r.errors.empty()) << c.url << "\n" << all_errors(r);
    const Origin& o = r.snapshot->origins[0];
    EXPECT_EQ(o.https, c.https) << c.url;
    EXPECT_EQ(o.host, c.host) << c.url;
    EXPECT_EQ(o.port, c.port) << c.url;
    EXPECT_EQ(o.path_prefix, c.prefix) << c.url;
  }
}

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

TEST(ConfigLoader, RelativePathsResolveAgainstTheConfigFolder) {
  TempDir d;
  fs::create_directories(d.path() / "conf" / "site");
  fs::create_symlink(d.path() / "conf" / "site", d.path() / "conf" / "site-link");
  fs::copy_file(d.file("certs/edge.pem"), d.file("conf/edge.pem"));
  fs::copy_file(d.file("certs/edge.key"), d.file("conf/edge.key"));
  std::string file = d.write("conf/edge.yaml", R"(
listeners: [{address: 127.0.0.1:8443, tls: {cert: edge.pem, key: ../certs/edge.key}}]
origins: {site: {directory: site-link}}
behaviors: [{path: default, origin: site}]
web_acl: ../waf.json
)");
  // From an unrelated working directory, and through a relative config path.
  fs::path old = fs::current_path();
  fs::current_path(d.path() / "public");
  auto r = load_file("../conf/edge.yaml");
  fs::current_path(old);
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  const Snapshot& s = *r.snapshot;
  EXPECT_EQ(s.listeners[0].tls->certificates[0].cert_file, d.file("conf/edge.pem"));
  EXPECT_EQ(s.listeners[0].tls->certificates[0].key_file, d.file("certs/edge.key"));
  EXPECT_EQ(s.origins[0].directory, fs::canonical(d.path() / "conf" / "site").string());
  EXPECT_EQ(s.web_acl, d.file("waf.json"));
  EXPECT_EQ(s.source_file, "../conf/edge.yaml");

  // The same text loaded as if it lived in another folder: edge.pem and site-link are not
  // there (../certs/edge.key and ../waf.json still are).
  auto moved = load_text(s.source_text, d.file("elsewhere/edge.yaml"));
  ASSERT_EQ(moved.errors.size(), 2u) << all_errors(moved);
  EXPECT_EQ(moved.errors[0].path, "listeners[0].tls.cert");
  EXPECT_EQ(moved.errors[0].message,
            "file 'edge.pem' (" + d.file("elsewhere/edge.pem") + ") does not exist");
  EXPECT_EQ(moved.errors[1].message,
            "directory 'site-link' (" + d.file("elsewhere/site-link") + ") does not exist");
}

TEST(ConfigLoader, JsonInputWorksAndHasPositions) {
  TempDir d;
  std::string json = R"({
	"listeners": [{"address": "127.0.0.1:8080"}],
	"origins": {"site": {"directory": "public"}, "api": {"url": "http://api.internal:81"}},
	"behaviors": [
		{"path": "/api/*", "origin": "api", "allowed_methods": ["GET", "HEAD", "OPTIONS"]},
		{"path": "default", "origin": "site"}
	],
	"development": true,
	"limits": {"max_header_count": 10}
})";
  auto r = load_text(json, d.file("edge.json"));
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.snapshot->origins.size(), 2u);
  EXPECT_EQ(r.snapshot->origins[1].port, 81);
  EXPECT_EQ(r.snapshot->behaviors[0].allowed_methods.size(), 3u);
  EXPECT_TRUE(r.snapshot->development);
  EXPECT_EQ(r.snapshot->limits.max_header_count, 10u);

  std::string bad = json;
  bad.replace(bad.find("\"max_header_count\": 10"), 22, "\"max_header_count\": \"10\"");
  r = load_text(bad, d.file("edge.json"));
  EXPECT_TRUE(
      one_error(r, 9, 33, "limits.max_header_count", "expected an integer, found the string '10'"));
  r = load_text("{\"listeners\": [}", "e.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 1);
  EXPECT_NE(r.errors[0].message.find("YAML syntax error"), std::string::npos);
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

TEST(ConfigCheck, PrintsASummaryOrEveryError) {
  TempDir d;
  std::ostringstream out, err;
  EXPECT_EQ(run_check(d.write("ok.yaml", kMinimal), out, err), 0);
  EXPECT_EQ(out.str(), "config OK: 1 listeners, 1 origins, 1 behaviors\n");
  EXPECT_EQ(err.str(), "");
  out.str("");
  std::string bad = d.write("bad.yaml", std::string(kMinimal) + "development: 2\nzzz: 1\n");
  EXPECT_EQ(run_check(bad, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), bad + ":4:14: development: expected true or false, found the number 2\n" +
                           bad + ":5:1: zzz: unknown key 'zzz'\n");
}

}  // namespace
}  // namespace eg::config
