#include "proxy/origin_request.h"

#include <gtest/gtest.h>

namespace eg::proxy {
namespace {

using Mode = config::ForwardList::Mode;

config::ForwardList list(Mode m, std::vector<std::string> items = {}) {
  config::ForwardList l;
  l.mode = m;
  l.items = std::move(items);
  return l;
}

http::Request viewer_request() {
  http::Request r;
  r.method = "GET";
  r.path = "/x";
  r.headers.add("Host", "viewer.example");
  r.headers.add("User-Agent", "ua");
  r.headers.add("X-Custom", "1");
  r.headers.add("Connection", "keep-alive, X-Drop");
  r.headers.add("X-Drop", "hop");
  r.headers.add("Keep-Alive", "timeout=5");
  r.headers.add("Cookie", "a=1; session=s; b=2");
  return r;
}

TEST(OriginRequestPolicy, AllViewerExceptHostUsesOriginAuthority) {
  config::OriginRequestPolicy p;
  http::Headers out;
  apply_header_policy(p, viewer_request(), "origin.internal:8080", out);
  ASSERT_NE(out.find("host"), nullptr);
  EXPECT_EQ(*out.find("host"), "origin.internal:8080");
  EXPECT_NE(out.find("x-custom"), nullptr);
  EXPECT_EQ(out.find("connection"), nullptr);
  EXPECT_EQ(out.find("keep-alive"), nullptr);
  EXPECT_EQ(out.find("x-drop"), nullptr) << "headers named in Connection are hop-by-hop";
  EXPECT_EQ(*out.find("cookie"), "a=1; session=s; b=2");
}

TEST(OriginRequestPolicy, AllViewerForwardsHost) {
  config::OriginRequestPolicy p;
  p.forward_host = true;
  http::Headers out;
  apply_header_policy(p, viewer_request(), "origin.internal", out);
  EXPECT_EQ(*out.find("host"), "viewer.example");
}

TEST(OriginRequestPolicy, NoneForwardsNothingButHost) {
  config::OriginRequestPolicy p;
  p.headers = list(Mode::None);
  p.cookies = list(Mode::None);
  p.query_strings = list(Mode::None);
  http::Headers out;
  apply_header_policy(p, viewer_request(), "o", out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(*out.find("host"), "o");
}

TEST(OriginRequestPolicy, HeaderWhitelistIsCaseInsensitive) {
  config::OriginRequestPolicy p;
  p.headers = list(Mode::Whitelist, {"x-custom"});
  http::Headers out;
  apply_header_policy(p, viewer_request(), "o", out);
  EXPECT_NE(out.find("X-Custom"), nullptr);
  EXPECT_EQ(out.find("user-agent"), nullptr);
}

TEST(OriginRequestPolicy, CookieLists) {
  EXPECT_EQ(filter_cookies(list(Mode::Whitelist, {"session"}), "a=1; session=s; b=2"), "session=s");
  EXPECT_EQ(filter_cookies(list(Mode::AllExcept, {"session"}), "a=1; session=s; b=2"), "a=1; b=2");
  EXPECT_EQ(filter_cookies(list(Mode::None), "a=1"), "");
  // Cookie names are case-sensitive, as in CloudFront.
  EXPECT_EQ(filter_cookies(list(Mode::Whitelist, {"Session"}), "session=s"), "");
}

TEST(OriginRequestPolicy, QueryLists) {
  EXPECT_EQ(filter_query(list(Mode::All), "b=2&a=1"), "b=2&a=1");
  EXPECT_EQ(filter_query(list(Mode::Whitelist, {"a"}), "b=2&a=1&a=3"), "a=1&a=3");
  EXPECT_EQ(filter_query(list(Mode::AllExcept, {"a"}), "b=2&a=1&c"), "b=2&c");
  EXPECT_EQ(filter_query(list(Mode::None), "a=1"), "");
}

TEST(ProxyHeaders, AppendsForwardedForAndVia) {
  http::Headers h;
  h.add("X-Forwarded-For", "203.0.113.7");
  add_proxy_headers(h, "127.0.0.1", "1.1 edge (edgeguard)", "rid");
  EXPECT_EQ(*h.find("x-forwarded-for"), "203.0.113.7, 127.0.0.1");
  EXPECT_EQ(*h.find("via"), "1.1 edge (edgeguard)");
  EXPECT_EQ(*h.find("x-amz-cf-id"), "rid");
}

TEST(CustomHeaders, SecretCurrentVersionOverridesViewerHeader) {
  config::Origin o;
  o.custom_headers.push_back({"X-Origin-Verify", "", "ov"});
  o.custom_headers.push_back({"X-Static", "v", ""});
  std::map<std::string, config::Secret> secrets;
  config::Secret s;
  s.name = "ov";
  s.versions.push_back({"v1", "old", {"PREVIOUS"}});
  s.versions.push_back({"v2", "current-value", {"CURRENT"}});
  secrets["ov"] = s;
  http::Headers h;
  h.add("x-origin-verify", "forged-by-viewer");
  add_custom_headers(o, secrets, h);
  EXPECT_EQ(h.count("x-origin-verify"), 1u);
  EXPECT_EQ(*h.find("x-origin-verify"), "current-value");
  EXPECT_EQ(*h.find("x-static"), "v");
}

TEST(OriginAuthority, DefaultPortsOmitted) {
  config::Origin o;
  o.host = "api.example";
  o.port = 80;
  EXPECT_EQ(origin_authority(o), "api.example");
  o.https = true;
  o.port = 443;
  EXPECT_EQ(origin_authority(o), "api.example");
  o.port = 8443;
  EXPECT_EQ(origin_authority(o), "api.example:8443");
  o.host = "::1";
  EXPECT_EQ(origin_authority(o), "[::1]:8443");
}

}  // namespace
}  // namespace eg::proxy
