#include <gtest/gtest.h>

#include "builtins_support.h"

namespace eg::functions::test {
namespace {

// The Location of the redirect, or "" when the request went on.
std::string location_for(Function& f, std::string_view target, std::string_view host,
                         bool https = true, int* status = nullptr) {
  auto req = request(target, {{"Host", host}});
  RequestResult r = f.on_request_now(viewer("192.0.2.1", https), req);
  if (!r.answer) return "";
  if (status) *status = r.answer->status;
  const std::string* location = r.answer->headers.find("Location");
  return location ? *location : "(no Location)";
}

TEST(BuiltinRedirect, HostRedirectKeepsPathAndQuery) {
  auto f =
      make("redirect", EventType::ViewerRequest,
           R"({"from_host": ["example.com", "example.net"], "to": "https://www.example.com/"})");
  int status = 0;
  EXPECT_EQ(location_for(*f, "/a/b?x=1&y=2", "Example.COM:8080", true, &status),
            "https://www.example.com/a/b?x=1&y=2");
  EXPECT_EQ(status, 301);
  EXPECT_EQ(location_for(*f, "/", "example.net"), "https://www.example.com/");
  EXPECT_EQ(location_for(*f, "/", "www.example.com"), "");
}

TEST(BuiltinRedirect, PrefixRedirectWithStatusAndWithoutQuery) {
  auto f = make("redirect", EventType::ViewerRequest,
                R"({"prefix": "/old/", "to": "/new/", "status": 308, "keep_query": false})");
  int status = 0;
  EXPECT_EQ(location_for(*f, "/old/page.html?q=1", "h", true, &status), "/new/page.html");
  EXPECT_EQ(status, 308);
  EXPECT_EQ(location_for(*f, "/older/x", "h"), "");

  auto absolute = make("redirect", EventType::ViewerRequest,
                       R"({"prefix": "/docs/", "to": "https://docs.example.com/", "status": 302})");
  EXPECT_EQ(location_for(*absolute, "/docs/a?b", "h", true, &status),
            "https://docs.example.com/a?b");
  EXPECT_EQ(status, 302);
}

TEST(BuiltinRedirect, HttpToHttps) {
  auto f = make("redirect", EventType::ViewerRequest, R"({"https": true})");
  EXPECT_EQ(location_for(*f, "/a?b=1", "example.com:8080", false), "https://example.com/a?b=1");
  EXPECT_EQ(location_for(*f, "/a", "example.com", true), "");
  // A Host that is not a plain host[:port] is never copied into a Location.
  EXPECT_EQ(location_for(*f, "/a", "evil.com/x", false), "");

  auto port = make("redirect", EventType::ViewerRequest, R"({"https": true, "https_port": 8443})");
  EXPECT_EQ(location_for(*port, "/", "[2001:db8::1]:8080", false), "https://[2001:db8::1]:8443/");
}

TEST(BuiltinRedirect, OptionErrors) {
  std::string error;
  try_make("redirect", EventType::ViewerRequest, R"({"prefix": "/a/", "to": "/b/", "status": 200})",
           error);
  EXPECT_EQ(error, "redirect: status: expected one of 301, 302, 303, 307, 308, got 200");
  try_make("redirect", EventType::ViewerRequest, R"({"from_host": "a.com", "to": "/path"})", error);
  EXPECT_NE(error.find("redirect: to: with from_host, expected a base URL"), std::string::npos);
  try_make("redirect", EventType::ViewerRequest,
           R"({"from_host": "https://a.com", "to": "https://b.com"})", error);
  EXPECT_NE(error.find("redirect: from_host: 'https://a.com' is not a host name"),
            std::string::npos);
  try_make("redirect", EventType::ViewerRequest, "{}", error);
  EXPECT_EQ(error, "redirect: needs from_host and to, prefix and to, or https: true");
}

}  // namespace
}  // namespace eg::functions::test
