#include <gtest/gtest.h>

#include "builtins_support.h"
#include "functions/builtins/builtin.h"

namespace eg::functions::test {
namespace {

TEST(BuiltinRegistry, NamesAndEvents) {
  const auto names = builtin_names();
  const std::vector<std::string_view> expected = {"basic-auth", "ip-allowlist", "security-headers",
                                                  "redirect", "rewrite"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(builtin_events("rewrite"),
            (std::vector<EventType>{EventType::ViewerRequest, EventType::OriginRequest}));
  EXPECT_TRUE(builtin_events("nope").empty());
}

TEST(BuiltinRegistry, UnknownBuiltinListsTheKnownOnes) {
  std::string error;
  EXPECT_FALSE(try_make("basic-auht", EventType::ViewerRequest, "{}", error));
  EXPECT_EQ(error,
            "unknown builtin 'basic-auht' (known: basic-auth, ip-allowlist, security-headers, "
            "redirect, rewrite)");
}

TEST(BuiltinRegistry, UnknownOptionListsTheAllowedOnes) {
  std::string error;
  EXPECT_FALSE(
      try_make("basic-auth", EventType::ViewerRequest, R"({"user": "users.htpasswd"})", error));
  EXPECT_EQ(error,
            "basic-auth: unknown option 'user' (allowed: users, credentials, realm, "
            "strip_authorization, cache_ttl, cache_size)");
}

TEST(BuiltinRegistry, WrongTypesNameTheOptionAndTheExpectedType) {
  std::string error;
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": ["a", "b"]})", error);
  EXPECT_EQ(error, "basic-auth: users: expected a string, got a list");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": "10.0.0.0/8", "ttl": "10m"})",
           error);
  EXPECT_EQ(error, "ip-allowlist: ttl: expected an integer, got a string");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": "10.0.0.0/8", "ttl": -1})",
           error);
  EXPECT_EQ(error, "ip-allowlist: ttl: expected an integer from 0 to 604800, got -1");
  try_make("security-headers", EventType::ViewerResponse, R"({"override": "yes"})", error);
  EXPECT_EQ(error, "security-headers: override: expected true or false, got a string");
  try_make("rewrite", EventType::ViewerRequest, R"([1])", error);
  EXPECT_EQ(error, "rewrite: options must be a mapping, got a list");
}

TEST(BuiltinRegistry, ABuiltinRefusesAnEventItCannotRunAt) {
  std::string error;
  EXPECT_FALSE(
      try_make("basic-auth", EventType::OriginResponse, R"({"users": "users.htpasswd"})", error));
  EXPECT_EQ(error, "basic-auth: cannot run at origin-response (it runs at viewer-request)");
  EXPECT_FALSE(try_make("security-headers", EventType::ViewerRequest, "{}", error));
  EXPECT_EQ(error,
            "security-headers: cannot run at viewer-request (it runs at origin-response, "
            "viewer-response)");
  EXPECT_FALSE(try_make("rewrite", EventType::ViewerResponse, R"({"spa_fallback": true})", error));
}

TEST(BuiltinRegistry, BuiltinsExposeTheirMetrics) {
  auto f = make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": ["10.0.0.0/8"]})");
  EXPECT_EQ(f->name(), "builtin ip-allowlist");
  auto req = request("/");
  f->on_request_now(viewer("10.1.1.1"), req);
  f->on_request_now(viewer("11.1.1.1"), req);
  auto* builtin = dynamic_cast<builtins::BuiltinFunction*>(f.get());
  ASSERT_TRUE(builtin);
  uint64_t allowed = 0, denied = 0;
  for (const auto& m : builtin->metrics()) {
    if (m.name == "allowed") allowed = m.value;
    if (m.name == "denied") denied = m.value;
  }
  EXPECT_EQ(allowed, 1u);
  EXPECT_EQ(denied, 1u);
}

}  // namespace
}  // namespace eg::functions::test
