#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "builtins_support.h"
#include "core/base64.h"
#include "functions/builtins/basic_auth.h"

namespace eg::functions::test {
namespace {

using builtins::BasicAuth;
using builtins::BasicAuthOptions;
using builtins::OptionReader;

std::string basic(std::string_view user_password) {
  return "Basic " + base64_encode(user_password);
}

int64_t g_now_ms = 1'000'000;
int64_t fake_now() { return g_now_ms; }

std::unique_ptr<BasicAuth> make_with_clock(std::string_view options_json) {
  std::string error;
  const nlohmann::json options = nlohmann::json::parse(options_json);
  OptionReader reader("basic-auth", options, data_dir(), error);
  BasicAuthOptions parsed;
  parse_basic_auth_options(reader, parsed);
  EXPECT_TRUE(reader.ok()) << error;
  return std::make_unique<BasicAuth>(std::move(parsed), &fake_now);
}

TEST(BuiltinBasicAuth, BcryptEntryLetsTheRequestOnWithoutItsAuthorizationHeader) {
  auto f = make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})");
  auto req = request("/private", {{"Authorization", basic("alice:wonderland")}, {"X-A", "1"}});
  RequestResult r = f->on_request_now(viewer(), req);
  EXPECT_FALSE(r.answer);
  EXPECT_FALSE(r.failure);
  EXPECT_FALSE(req.headers.contains("Authorization"));
  EXPECT_TRUE(req.headers.contains("X-A"));
}

TEST(BuiltinBasicAuth, WrongGuessesAreHashedOffTheEventLoop) {
  // dave's entry is bcrypt at cost 10 (~60 ms a check): while three wrong guesses are
  // checked, a 2 ms timer on the same event loop keeps ticking.
  auto f = make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})");
  ASSERT_TRUE(f->asynchronous());
  boost::asio::io_context io;
  int answered = 0, ticks = 0;
  std::vector<http::Request> requests;
  for (int i = 0; i < 3; ++i)
    requests.push_back(request("/", {{"Authorization", basic("dave:guess" + std::to_string(i))}}));
  for (auto& req : requests)
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          RequestResult r = co_await f->on_request(viewer(), req);
          EXPECT_TRUE(r.answer && r.answer->status == 401);
          ++answered;
        },
        boost::asio::detached);
  boost::asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    timer.expires_after(std::chrono::milliseconds(2));
    timer.async_wait([&](boost::system::error_code) {
      ++ticks;
      if (answered < 3) tick();
    });
  };
  tick();
  io.run();
  EXPECT_EQ(answered, 3);
  EXPECT_GE(ticks, 10);  // 3 x ~60 ms of hashing on two pool threads: ~45 ticks if not blocked
  // The right password through the same path lets the request on.
  auto ok = request("/", {{"Authorization", basic("dave:d4ve")}});
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        RequestResult r = co_await f->on_request(viewer(), ok);
        EXPECT_FALSE(r.answer);
      },
      boost::asio::detached);
  io.restart();
  io.run();
  EXPECT_FALSE(ok.headers.contains("Authorization"));
}

TEST(BuiltinBasicAuth, Bcrypt2bAndSha256CryptAndSha256Base64EntriesVerify) {
  auto f = make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})");
  for (std::string_view creds : {"dave:d4ve", "bob:builder", "carol:c4r0l"}) {
    auto req = request("/", {{"Authorization", basic(creds)}});
    EXPECT_FALSE(f->on_request_now(viewer(), req).answer) << creds;
  }
}

TEST(BuiltinBasicAuth, WrongPasswordIs401WithTheRealmChallenge) {
  auto f = make("basic-auth", EventType::ViewerRequest,
                R"({"users": "users.htpasswd", "realm": "staff only"})");
  for (std::string_view creds : {"alice:wrong", "bob:Builder", "carol:", "dave:d4ve "}) {
    auto req = request("/", {{"Authorization", basic(creds)}});
    RequestResult r = f->on_request_now(viewer(), req);
    ASSERT_TRUE(r.answer) << creds;
    EXPECT_EQ(r.answer->status, 401);
    ASSERT_TRUE(r.answer->headers.find("WWW-Authenticate"));
    EXPECT_EQ(*r.answer->headers.find("WWW-Authenticate"),
              "Basic realm=\"staff only\", charset=\"UTF-8\"");
    EXPECT_FALSE(r.answer->body.empty());
    EXPECT_EQ(r.answer->content_length, r.answer->body.size());
  }
}

TEST(BuiltinBasicAuth, UnknownUserIs401AndStillPaysForAHash) {
  auto f = make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})");
  auto req = request("/", {{"Authorization", basic("mallory:wonderland")}});
  const auto start = std::chrono::steady_clock::now();
  RequestResult r = f->on_request_now(viewer(), req);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, 401);
  // Checked against dave's cost-10 bcrypt hash (tens of ms), not answered at once.
  EXPECT_GE(took, std::chrono::milliseconds(5));
}

TEST(BuiltinBasicAuth, MissingOrMalformedAuthorizationIs401) {
  auto f = make_with_clock(R"({"users": "users.htpasswd"})");
  const std::string no_colon = basic("alicewonderland");
  const std::string_view values[] = {
      "", "Bearer abc", "Basic", "Basic ", "Basic !!!!", "Basic YWxpY2U6d29uZGVybGFuZA", no_colon};
  for (std::string_view value : values) {
    auto req = value.empty() ? request("/") : request("/", {{"Authorization", value}});
    RequestResult r = f->on_request_now(viewer(), req);
    ASSERT_TRUE(r.answer) << value;
    EXPECT_EQ(r.answer->status, 401) << value;
    EXPECT_TRUE(r.answer->headers.contains("WWW-Authenticate"));
  }
  EXPECT_EQ(f->counters().challenged.load(), 7u);
  EXPECT_EQ(f->counters().denied.load(), 0u);
  // The scheme name is case-insensitive.
  auto req = request("/", {{"Authorization", "basic " + base64_encode("carol:c4r0l")}});
  EXPECT_FALSE(f->on_request_now(viewer(), req).answer);
}

TEST(BuiltinBasicAuth, RepeatedCredentialsHitTheCacheUntilItsTtl) {
  auto f = make_with_clock(R"({"users": "users.htpasswd", "cache_ttl": 60})");
  auto once = [&](std::string_view creds) {
    auto req = request("/", {{"Authorization", basic(creds)}});
    return !f->on_request_now(viewer(), req).answer;
  };
  EXPECT_TRUE(once("dave:d4ve"));
  EXPECT_EQ(f->counters().cache_hits.load(), 0u);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(once("dave:d4ve"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5));
  EXPECT_EQ(f->counters().cache_hits.load(), 1u);
  // A wrong password is never cached, nor served from another user's entry.
  EXPECT_FALSE(once("dave:wrong"));
  EXPECT_FALSE(once("dave:wrong"));
  EXPECT_EQ(f->counters().cache_hits.load(), 1u);
  g_now_ms += 61'000;
  EXPECT_TRUE(once("dave:d4ve"));
  EXPECT_EQ(f->counters().cache_hits.load(), 1u);
  EXPECT_EQ(f->counters().allowed.load(), 3u);
  EXPECT_EQ(f->counters().denied.load(), 2u);
}

TEST(BuiltinBasicAuth, InlineCredentialsAndKeepingTheAuthorizationHeader) {
  auto f = make("basic-auth", EventType::ViewerRequest, R"({
    "credentials": [{"user": "ci", "password_hash": "{SHA256}9q7ZGdGx7ne9zbKwU+9qDDKH/5XXredTjXHj0LJB5yQ="}],
    "strip_authorization": false, "cache_ttl": 0})");
  auto req = request("/", {{"Authorization", basic("ci:c4r0l")}});
  EXPECT_FALSE(f->on_request_now(viewer(), req).answer);
  EXPECT_TRUE(req.headers.contains("Authorization"));
}

TEST(BuiltinBasicAuth, HtpasswdErrorsNameTheFileLineAndHash) {
  TempDir dir("basic-auth");
  dir.write("users.htpasswd",
            "# comment\nalice:$2y$05$KYPoovkjibXoOEJxmIameeMAb2etVyq1fyCsMLvIa4hccmllXdcO2\n"
            "old:$1$abcdefgh$0123456789012345678901\n");
  std::string error;
  EXPECT_FALSE(try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})",
                        error, dir.path));
  EXPECT_EQ(error, "basic-auth: users: file " + (dir.path / "users.htpasswd").string() +
                       " line 3: unsupported hash '$1$' (use bcrypt $2y$/$2b$ or SHA-256 "
                       "{SHA256}/ $5$)");

  dir.write("users.htpasswd", "apr:$apr1$xyz$abc\n");
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})", error,
           dir.path);
  EXPECT_NE(error.find("line 1: unsupported hash '$apr1$'"), std::string::npos) << error;

  dir.write("users.htpasswd", "sha1:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})", error,
           dir.path);
  EXPECT_NE(error.find("unsupported hash '{SHA}'"), std::string::npos) << error;

  dir.write("users.htpasswd", "short:$2y$05$tooshort\n");
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})", error,
           dir.path);
  EXPECT_NE(error.find("line 1: malformed bcrypt hash"), std::string::npos) << error;

  dir.write("users.htpasswd", "nocolon\n");
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})", error,
           dir.path);
  EXPECT_NE(error.find("line 1: expected user:hash"), std::string::npos) << error;

  dir.write("users.htpasswd",
            "a:{SHA256}9q7ZGdGx7ne9zbKwU+9qDDKH/5XXredTjXHj0LJB5yQ=\n"
            "a:{SHA256}9q7ZGdGx7ne9zbKwU+9qDDKH/5XXredTjXHj0LJB5yQ=\n");
  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "users.htpasswd"})", error,
           dir.path);
  EXPECT_EQ(error, "basic-auth: user 'a' is defined twice");

  try_make("basic-auth", EventType::ViewerRequest, R"({"users": "missing.htpasswd"})", error,
           dir.path);
  EXPECT_NE(error.find("basic-auth: users: cannot read file"), std::string::npos) << error;

  try_make("basic-auth", EventType::ViewerRequest, R"({"realm": "x"})", error);
  EXPECT_EQ(error,
            "basic-auth: needs users (an htpasswd file) or credentials, with at least one user");

  try_make("basic-auth", EventType::ViewerRequest,
           R"({"users": "users.htpasswd", "realm": "say \"hi\""})", error);
  EXPECT_EQ(error, "basic-auth: realm: a realm holds no quotes, backslashes or control characters");
}

}  // namespace
}  // namespace eg::functions::test
