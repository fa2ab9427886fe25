#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/check.h"
#include "config_test_util.h"
#include "functions/function.h"
#include "waf/acl.h"

namespace eg::config {
namespace {
namespace fs = std::filesystem;
using namespace eg::config::test_util;

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
      viewer-request: {builtin: basic-auth, realm: "edge", credentials: [{user: a, password_hash: "{SHA256}ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs="}]}
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
  EXPECT_EQ(
      b0.functions[0].options_json,
      R"({"credentials":[{"password_hash":"{SHA256}ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=","user":"a"}],"realm":"edge"})");
  EXPECT_EQ(b0.function_at[0], b0.functions[0].compiled.get());  // compiled at load
  EXPECT_EQ(b0.functions[0].compiled->name(), "builtin basic-auth");
  EXPECT_EQ(b0.functions[1].compiled->runtime(), "nodejs");
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
  ASSERT_TRUE(s.waf.acl);  // compiled at load
  EXPECT_EQ(s.waf.acl->name(), "fixture");
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
