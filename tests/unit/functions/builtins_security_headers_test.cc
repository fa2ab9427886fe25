#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "builtins_support.h"

namespace eg::functions::test {
namespace {

http::Response origin_response(std::initializer_list<http::Header> headers) {
  http::Response r;
  for (const auto& h : headers) r.headers.add(h.name, h.value);
  return r;
}

TEST(BuiltinSecurityHeaders, DefaultsAreTheManagedPolicysValues) {
  auto f = make("security-headers", EventType::ViewerResponse, "{}");
  auto req = request("/");
  auto resp = origin_response({{"Content-Type", "text/html"}});
  ResponseResult r = f->on_response_now(viewer(), req, resp);
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(*resp.headers.find("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(*resp.headers.find("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(*resp.headers.find("X-Frame-Options"), "SAMEORIGIN");
  EXPECT_EQ(*resp.headers.find("X-XSS-Protection"), "1; mode=block");
  EXPECT_EQ(*resp.headers.find("Referrer-Policy"), "strict-origin-when-cross-origin");
  EXPECT_FALSE(resp.headers.contains("Content-Security-Policy"));
  EXPECT_EQ(*resp.headers.find("Content-Type"), "text/html");
}

TEST(BuiltinSecurityHeaders, OverrideReplacesOriginValuesUnlessTurnedOff) {
  auto options = R"j({"x_frame_options": "DENY", "x_xss_protection": false,
    "content_security_policy": "default-src 'self'; img-src *",
    "custom": {"Permissions-Policy": "camera=()"}})j";
  auto replacing = make("security-headers", EventType::OriginResponse, options);
  auto req = request("/");
  auto resp = origin_response({{"x-frame-options", "ALLOWALL"}, {"X-Frame-Options", "x"}});
  replacing->on_response_now(viewer(), req, resp);
  EXPECT_EQ(resp.headers.count("X-Frame-Options"), 1u);
  EXPECT_EQ(*resp.headers.find("X-Frame-Options"), "DENY");
  EXPECT_FALSE(resp.headers.contains("X-XSS-Protection"));
  EXPECT_EQ(*resp.headers.find("Content-Security-Policy"), "default-src 'self'; img-src *");
  EXPECT_EQ(*resp.headers.find("Permissions-Policy"), "camera=()");

  auto nlohmann_options = nlohmann::json::parse(options);
  nlohmann_options["override"] = false;
  auto keeping = make("security-headers", EventType::ViewerResponse, nlohmann_options.dump());
  auto kept = origin_response({{"x-frame-options", "ALLOWALL"}});
  keeping->on_response_now(viewer(), req, kept);
  EXPECT_EQ(kept.headers.count("X-Frame-Options"), 1u);
  EXPECT_EQ(*kept.headers.find("X-Frame-Options"), "ALLOWALL");
  EXPECT_EQ(*kept.headers.find("X-Content-Type-Options"), "nosniff");
}

// The headers are applied in one pass over the response; the result must be what setting
// (override) or adding (no override) each configured header in turn gives, order included,
// also when a custom header repeats a known one and when the origin sent one twice.
TEST(BuiltinSecurityHeaders, SameResultAsSettingEachHeaderInTurn) {
  const std::vector<http::Header> configured = {
      {"Strict-Transport-Security", "max-age=31536000"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "SAMEORIGIN"},
      {"X-XSS-Protection", "1; mode=block"},
      {"Referrer-Policy", "strict-origin-when-cross-origin"},
      {"Content-Security-Policy", "default-src 'self'"},
      {"Permissions-Policy", "camera=()"},
      {"x-frame-options", "DENY"},  // custom entries come in name order, after the known ones
  };
  const auto options = R"j({"content_security_policy": true,
    "custom": {"Permissions-Policy": "camera=()", "x-frame-options": "DENY"}})j";
  const std::vector<std::vector<http::Header>> origins = {
      {},
      {{"Content-Type", "text/html"}, {"Content-Length", "5"}},
      {{"X-Frame-Options", "ALLOWALL"}, {"Server", "o"}, {"x-frame-options", "x"}},
      {{"referrer-policy", "no-referrer"},
       {"STRICT-TRANSPORT-SECURITY", "max-age=1"},
       {"Vary", "Accept"},
       {"Strict-Transport-Security", "max-age=2"}},
  };
  for (bool override_origin : {true, false}) {
    auto options_json = nlohmann::json::parse(options);
    options_json["override"] = override_origin;
    auto f = make("security-headers", EventType::ViewerResponse, options_json.dump());
    for (const auto& origin : origins) {
      http::Response expected;
      for (const auto& h : origin) expected.headers.add(h.name, h.value);
      http::Response resp = expected;
      for (const auto& h : configured) {
        if (override_origin)
          expected.headers.set(h.name, h.value);
        else if (!expected.headers.contains(h.name))
          expected.headers.add(h.name, h.value);
      }
      auto req = request("/");
      f->on_response_now(viewer(), req, resp);
      std::vector<std::pair<std::string, std::string>> got, want;
      for (const auto& h : resp.headers) got.emplace_back(h.name, h.value);
      for (const auto& h : expected.headers) want.emplace_back(h.name, h.value);
      EXPECT_EQ(got, want) << "override " << override_origin << ", origin headers "
                           << origin.size();
    }
  }
}

TEST(BuiltinSecurityHeaders, BadValuesAreRefused) {
  std::string error;
  try_make("security-headers", EventType::ViewerResponse, R"({"referrer_policy": 3})", error);
  EXPECT_EQ(error,
            "security-headers: referrer_policy: expected true, false or a header value "
            "(non-empty, no control characters)");
  try_make("security-headers", EventType::ViewerResponse,
           R"({"content_security_policy": "a\r\nSet-Cookie: x"})", error);
  EXPECT_NE(error.find("content_security_policy"), std::string::npos);
  try_make("security-headers", EventType::ViewerResponse, R"({"custom": {"Bad Name": "x"}})",
           error);
  EXPECT_EQ(error, "security-headers: custom: 'Bad Name' is not a valid header name");
}

}  // namespace
}  // namespace eg::functions::test
