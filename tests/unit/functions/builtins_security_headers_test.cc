#include <gtest/gtest.h>

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
