#include "waf/challenge.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "waf/challenge_internal.h"

namespace eg::waf {
namespace {

namespace cd = challenge_detail;
using Json = nlohmann::json;

constexpr int64_t kNow = 1'760'000'000'000;  // a fixed wall clock, ms
const std::string kKey(40, 'k');

IpAddress ip(std::string_view text) { return *parse_ip(text); }

// A viewer's request as the web ACL stage would hand it over.
struct Call {
  http::Headers headers;
  IpAddress client = ip("198.51.100.7");
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  bool https = false;
  int64_t now_ms = kNow;

  Call(std::string_view host = "shop.example") { headers.add("Host", host); }
  Request view() const {
    return Request{.client_ip = client,
                   .method = method,
                   .uri_path = path,
                   .query_string = "",
                   .headers = headers,
                   .body = body,
                   .ja3 = "",
                   .ja4 = "",
                   .request_id = "req-1",
                   .https = https,
                   .now_ms = now_ms};
  }
};

ChallengeOptions options(std::string key = kKey, std::vector<std::string> domains = {}) {
  ChallengeOptions o;
  o.key = std::move(key);
  o.token_domains = std::move(domains);
  o.difficulty_bits = 8;  // quick to brute force here, same code path as 16
  return o;
}

uint32_t leading_zero_bits(std::string_view msg) {
  unsigned char h[32];
  unsigned int n = 0;
  EVP_Digest(msg.data(), msg.size(), h, &n, EVP_sha256(), nullptr);
  uint32_t bits = 0;
  for (unsigned char b : h) {
    if (b == 0) {
      bits += 8;
      continue;
    }
    while (!(b & 0x80)) ++bits, b = static_cast<unsigned char>(b << 1);
    break;
  }
  return bits;
}

// What the interstitial's script does, by brute force with OpenSSL.
std::string solve(std::string_view nonce, uint32_t bits) {
  for (uint64_t c = 0;; ++c) {
    std::string counter = std::to_string(c);
    if (leading_zero_bits(std::string(nonce) + ":" + counter) >= bits) return counter;
  }
}
std::string unsolve(std::string_view nonce, uint32_t bits) {
  for (uint64_t c = 0;; ++c) {
    std::string counter = std::to_string(c);
    if (leading_zero_bits(std::string(nonce) + ":" + counter) < bits) return counter;
  }
}

Json fetch_puzzle(const ChallengeService& s, Call c, std::string_view sub) {
  c.path = std::string(kChallengeEndpoint) + std::string(sub);
  c.method = "GET";
  http::Response r = s.answer_endpoint(c.view());
  EXPECT_EQ(r.status, 200) << r.body;
  return Json::parse(r.body);
}

http::Response post(const ChallengeService& s, Call c, std::string_view sub, const Json& body) {
  c.path = std::string(kChallengeEndpoint) + std::string(sub);
  c.method = "POST";
  c.body = body.dump();
  return s.answer_endpoint(c.view());
}

std::string reason(const http::Response& r) {
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("reason") ? j["reason"].get<std::string>() : "";
}

// The token of a Set-Cookie header ("aws-waf-token=VALUE; Path=/; ...").
std::string cookie_token(const http::Response& r) {
  const std::string* sc = r.headers.find("set-cookie");
  if (!sc) return "";
  std::string_view v = *sc;
  if (!v.starts_with("aws-waf-token=")) return "";
  v.remove_prefix(14);
  return std::string(v.substr(0, v.find(';')));
}

// Solves the proof of work as `c`'s client and returns the issued cookie value.
std::string earn_challenge_token(const ChallengeService& s, const Call& c) {
  Json puzzle = fetch_puzzle(s, c, "challenge");
  std::string nonce = puzzle["nonce"];
  http::Response r =
      post(s, c, "verify", {{"nonce", nonce}, {"counter", solve(nonce, puzzle["difficulty"])}});
  EXPECT_EQ(r.status, 200) << r.body;
  return cookie_token(r);
}

Call with_cookie(Call c, std::string_view token) {
  c.headers.add("Cookie", "theme=dark; aws-waf-token=" + std::string(token) + "; lang=en");
  return c;
}

TEST(ChallengeTokenTest, ProofOfWorkEarnsATokenThatPasses) {
  ChallengeService s(options());
  Call c;
  std::string token = earn_challenge_token(s, c);
  ASSERT_FALSE(token.empty());

  Call later = with_cookie(c, token);
  later.now_ms = kNow + 5000;
  TokenTimes t = s.token(later.view());
  EXPECT_EQ(t.challenge_solved_ms, kNow);
  EXPECT_EQ(t.captcha_solved_ms, 0);  // a proof of work is no CAPTCHA
  EXPECT_TRUE(ChallengeService::challenge_ok(t, later.now_ms, 300));
  EXPECT_FALSE(ChallengeService::captcha_ok(t, later.now_ms, 300));
}

TEST(ChallengeTokenTest, SetCookieAttributes) {
  ChallengeService s(options());
  Call c;
  Json puzzle = fetch_puzzle(s, c, "challenge");
  EXPECT_EQ(puzzle["difficulty"], 8);
  EXPECT_GT(puzzle["expires"].get<int64_t>(), kNow);
  Json answer{{"nonce", puzzle["nonce"]},
              {"counter", solve(puzzle["nonce"].get<std::string>(), 8)}};
  http::Response r = post(s, c, "verify", answer);
  ASSERT_EQ(r.status, 200);
  std::string sc = *r.headers.find("set-cookie");
  EXPECT_NE(sc.find("; Path=/"), std::string::npos) << sc;
  EXPECT_NE(sc.find("; HttpOnly"), std::string::npos) << sc;
  EXPECT_NE(sc.find("; SameSite=Lax"), std::string::npos) << sc;
  EXPECT_NE(sc.find("; Max-Age=259200"), std::string::npos) << sc;
  EXPECT_EQ(sc.find("Secure"), std::string::npos) << "plain http cannot keep a Secure cookie";
  EXPECT_EQ(sc.find("Domain="), std::string::npos) << "no token domains: a host-only cookie";
  EXPECT_EQ(*r.headers.find("cache-control"), "no-store");

  c.https = true;
  r = post(s, c, "verify", answer);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("set-cookie")->find("; Secure"), std::string::npos);
}

TEST(ChallengeTokenTest, TamperedTokenIsRefused) {
  ChallengeService s(options());
  Call c;
  std::string token = earn_challenge_token(s, c);
  size_t dot = token.find('.');
  ASSERT_NE(dot, std::string::npos);
  // Push the solved time forward by rewriting the payload: the MAC no longer fits.
  std::string payload = *cd::base64url_decode(token.substr(0, dot));
  payload[9 + 5] ^= 0x01;
  std::string forged = cd::base64url(payload) + token.substr(dot);
  EXPECT_EQ(s.token(with_cookie(c, forged).view()).challenge_solved_ms, 0);
  std::string bad_mac = token;
  bad_mac.back() = bad_mac.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.token(with_cookie(c, bad_mac).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(c, token.substr(0, dot)).view()).challenge_solved_ms, 0);
}

TEST(ChallengeTokenTest, TokenOfAnotherKeyIsRefused) {
  ChallengeService mine(options());
  ChallengeService theirs(options(std::string(40, 'z')));
  Call c;
  std::string token = earn_challenge_token(theirs, c);
  EXPECT_NE(theirs.token(with_cookie(c, token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(mine.token(with_cookie(c, token).view()).challenge_solved_ms, 0);
}

TEST(ChallengeTokenTest, TokenFromAnotherClientAddressIsRefused) {
  ChallengeService s(options());
  Call c;
  std::string token = earn_challenge_token(s, c);
  Call elsewhere = with_cookie(c, token);
  elsewhere.client = ip("198.51.100.8");
  EXPECT_EQ(s.token(elsewhere.view()).challenge_solved_ms, 0);
  elsewhere.client = ip("2001:db8::7");
  EXPECT_EQ(s.token(elsewhere.view()).challenge_solved_ms, 0);
  Call same = with_cookie(c, token);
  same.client.bytes[10] = 0xff;  // a byte an IPv4 address does not use
  EXPECT_NE(s.token(same.view()).challenge_solved_ms, 0);
}

TEST(ChallengeTokenTest, TokenIsBoundToItsDomain) {
  ChallengeService s(options());
  Call c("Shop.Example:8443");  // port and case do not matter
  std::string token = earn_challenge_token(s, c);
  EXPECT_NE(s.token(with_cookie(Call("shop.example"), token).view()).challenge_solved_ms, 0);
  EXPECT_NE(s.token(with_cookie(Call("a.shop.example"), token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("other.example"), token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("evilshop.example"), token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("example"), token).view()).challenge_solved_ms, 0);
}

TEST(ChallengeTokenTest, TokenDomainsShareATokenAcrossSubdomains) {
  ChallengeService s(options(kKey, {"Example.COM.", "app.example.com"}));
  Call c("app.example.com");
  Json puzzle = fetch_puzzle(s, c, "challenge");
  http::Response r =
      post(s, c, "verify",
           {{"nonce", puzzle["nonce"]}, {"counter", solve(puzzle["nonce"].get<std::string>(), 8)}});
  ASSERT_EQ(r.status, 200);
  // The broadest listed domain, so the browser sends the cookie to every host under it.
  EXPECT_NE(r.headers.find("set-cookie")->find("; Domain=example.com"), std::string::npos);
  std::string token = cookie_token(r);
  EXPECT_NE(s.token(with_cookie(Call("api.example.com"), token).view()).challenge_solved_ms, 0);
  EXPECT_NE(s.token(with_cookie(Call("example.com"), token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("example.org"), token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("badexample.com"), token).view()).challenge_solved_ms, 0);

  // A host outside every listed domain gets a token for itself only.
  Call outside("shop.example.net");
  std::string own = earn_challenge_token(s, outside);
  EXPECT_NE(s.token(with_cookie(outside, own).view()).challenge_solved_ms, 0);
  EXPECT_EQ(s.token(with_cookie(Call("example.net"), own).view()).challenge_solved_ms, 0);
}

TEST(ChallengeTokenTest, ImmunityTimeIsCheckedAgainstTheSolvedTime) {
  TokenTimes t{.challenge_solved_ms = kNow, .captcha_solved_ms = kNow - 100'000};
  EXPECT_TRUE(ChallengeService::challenge_ok(t, kNow + 300'000, 300));
  EXPECT_FALSE(ChallengeService::challenge_ok(t, kNow + 300'001, 300));
  EXPECT_TRUE(ChallengeService::captcha_ok(t, kNow, 100));
  EXPECT_FALSE(ChallengeService::captcha_ok(t, kNow, 99));
  // A solved time from the future is a forged or foreign clock beyond honest skew.
  EXPECT_TRUE(ChallengeService::challenge_ok(t, kNow - 60'000, 300));
  EXPECT_FALSE(ChallengeService::challenge_ok(t, kNow - 60'001, 300));
  EXPECT_FALSE(ChallengeService::challenge_ok(TokenTimes{}, kNow, 259'200));
  EXPECT_FALSE(ChallengeService::captcha_ok(TokenTimes{}, kNow, 259'200));
}

TEST(ChallengeTokenTest, ExpiredTokenFailsItsImmunity) {
  ChallengeService s(options());
  Call c;
  std::string token = earn_challenge_token(s, c);
  Call later = with_cookie(c, token);
  later.now_ms = kNow + 301'000;
  TokenTimes t = s.token(later.view());
  EXPECT_EQ(t.challenge_solved_ms, kNow) << "the token itself is still genuine";
  EXPECT_FALSE(ChallengeService::challenge_ok(t, later.now_ms, 300));
  EXPECT_TRUE(ChallengeService::challenge_ok(t, later.now_ms, 3600));
}

TEST(ChallengeTokenTest, GarbageCookiesGiveZeroTimes) {
  ChallengeService s(options());
  std::mt19937_64 rng(7);
  std::vector<std::string> values = {
      "", ".", "..", "a.b", "====.====", "%00.", "A.A", "AAAA", std::string(5000, 'A') + ".AA"};
  for (int i = 0; i < 200; ++i) {
    std::string v(rng() % 120, '\0');
    for (char& ch : v) ch = cd::base64url(std::string(1, char(rng())))[0];
    v.insert(rng() % (v.size() + 1), ".");
    values.push_back(v);
  }
  for (const std::string& v : values) {
    Call c;
    c.headers.add("Cookie", "aws-waf-token=" + v);
    TokenTimes t = s.token(c.view());
    EXPECT_EQ(t.challenge_solved_ms, 0) << v;
    EXPECT_EQ(t.captcha_solved_ms, 0) << v;
  }
  Call no_host;
  no_host.headers.clear();
  EXPECT_EQ(s.token(no_host.view()).challenge_solved_ms, 0);
}

TEST(ChallengeResponseTest, ChallengeIs202WithThePageOnlyForHtml) {
  ChallengeService s(options());
  Call browser;
  browser.headers.add("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
  http::Response r = s.challenge_response(browser.view());
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(*r.headers.find("x-amzn-waf-action"), "challenge");
  EXPECT_EQ(*r.headers.find("cache-control"), "no-store");
  EXPECT_EQ(*r.headers.find("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(*r.headers.find("content-security-policy"), cd::kPageCsp);
  EXPECT_NE(r.body.find("/.edgeguard/waf/"), std::string::npos);
  EXPECT_NE(r.body.find("crypto.subtle.digest"), std::string::npos);

  for (std::string_view accept : {"", "*/*", "application/json", "text/html;q=0", "text/plain"}) {
    Call api;
    if (!accept.empty()) api.headers.add("Accept", accept);
    http::Response plain = s.challenge_response(api.view());
    EXPECT_EQ(plain.status, 202) << accept;
    EXPECT_EQ(*plain.headers.find("x-amzn-waf-action"), "challenge");
    EXPECT_TRUE(plain.body.empty()) << accept;
    EXPECT_EQ(plain.headers.find("content-type"), nullptr) << accept;
  }
}

TEST(ChallengeResponseTest, CaptchaIs405WithThePageOnlyForHtml) {
  ChallengeService s(options());
  Call browser;
  browser.headers.add("accept", "TEXT/HTML;q=0.9");
  http::Response r = s.captcha_response(browser.view());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(*r.headers.find("x-amzn-waf-action"), "captcha");
  EXPECT_EQ(*r.headers.find("cache-control"), "no-store");
  EXPECT_EQ(*r.headers.find("content-security-policy"), cd::kPageCsp);
  EXPECT_NE(r.body.find("<input"), std::string::npos);
  EXPECT_NE(r.body.find("captcha-verify"), std::string::npos);

  Call curl;
  curl.headers.add("Accept", "*/*");
  http::Response plain = s.captcha_response(curl.view());
  EXPECT_EQ(plain.status, 405);
  EXPECT_EQ(*plain.headers.find("x-amzn-waf-action"), "captcha");
  EXPECT_TRUE(plain.body.empty());
}

TEST(ChallengeVerifyTest, WrongCounterIsRefused) {
  ChallengeService s(options());
  Call c;
  std::string nonce = fetch_puzzle(s, c, "challenge")["nonce"];
  http::Response r = post(s, c, "verify", {{"nonce", nonce}, {"counter", unsolve(nonce, 8)}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "wrong counter");
  EXPECT_EQ(r.headers.find("set-cookie"), nullptr);
}

TEST(ChallengeVerifyTest, ForgedNonceIsRefused) {
  ChallengeService s(options());
  ChallengeService other(options(std::string(40, 'o')));
  Call c;
  // A nonce of another key, solved honestly, buys nothing here.
  std::string foreign = fetch_puzzle(other, c, "challenge")["nonce"];
  http::Response r = post(s, c, "verify", {{"nonce", foreign}, {"counter", solve(foreign, 8)}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "forged nonce");
  // Nor does a nonce whose difficulty byte was lowered.
  std::string nonce = fetch_puzzle(s, c, "challenge")["nonce"];
  std::string blob = *cd::base64url_decode(nonce.substr(0, nonce.find('.')));
  blob[9] = 0;
  std::string lowered = cd::base64url(blob) + nonce.substr(nonce.find('.'));
  r = post(s, c, "verify", {{"nonce", lowered}, {"counter", "0"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "forged nonce");
}

TEST(ChallengeVerifyTest, ExpiredNonceIsRefused) {
  ChallengeService s(options());
  Call c;
  Json puzzle = fetch_puzzle(s, c, "challenge");
  std::string nonce = puzzle["nonce"];
  Call late = c;
  late.now_ms = puzzle["expires"].get<int64_t>() + 1;
  http::Response r = post(s, late, "verify", {{"nonce", nonce}, {"counter", solve(nonce, 8)}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "expired nonce");
}

TEST(ChallengeVerifyTest, NonceOfAnotherClientIsRefused) {
  ChallengeService s(options());
  Call c;
  std::string nonce = fetch_puzzle(s, c, "challenge")["nonce"];
  Call elsewhere = c;
  elsewhere.client = ip("203.0.113.9");
  http::Response r = post(s, elsewhere, "verify", {{"nonce", nonce}, {"counter", solve(nonce, 8)}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "other client address");
}

TEST(ChallengeVerifyTest, RaisedDifficultyRetiresOldNonces) {
  ChallengeService easy(options());
  ChallengeOptions o = options();
  o.difficulty_bits = 12;
  ChallengeService hard(o);
  Call c;
  std::string nonce = fetch_puzzle(easy, c, "challenge")["nonce"];
  http::Response r = post(hard, c, "verify", {{"nonce", nonce}, {"counter", solve(nonce, 8)}});
  EXPECT_EQ(r.status, 403);
}

TEST(ChallengeVerifyTest, MalformedRequestsAreRefused) {
  ChallengeService s(options());
  Call c;
  c.method = "POST";
  c.path = "/.edgeguard/waf/verify";
  for (std::string body : std::vector<std::string>{
           "", "null", "[]", "{\"nonce\":1,\"counter\":\"1\"}",
           "{\"nonce\":\"a.b\",\"counter\":\"-1\"}", "{\"nonce\":\"a.b\"}",
           "{\"nonce\":\"a.b\",\"counter\":\"12x\"}", "{\"nonce\":\"\xff\"}",
           std::string(5000, '{'), std::string(4000, '['), "{\"nonce\":\"a.b\",\"counter\":[1]}"}) {
    c.body = body;
    http::Response r = s.answer_endpoint(c.view());
    EXPECT_EQ(r.status, 400) << body.substr(0, 40);
    EXPECT_EQ(reason(r), "malformed request");
  }
  std::string nonce = fetch_puzzle(s, Call(), "challenge")["nonce"];
  // A counter sent as a JSON number is the same work.
  uint64_t counter = std::stoull(solve(nonce, 8));
  EXPECT_EQ(post(s, Call(), "verify", {{"nonce", nonce}, {"counter", counter}}).status, 200);
}

TEST(ChallengeEndpointTest, RandomBodiesNeverEarnAToken) {
  ChallengeService s(options());
  std::mt19937_64 rng(11);
  std::string nonce = fetch_puzzle(s, Call(), "challenge")["nonce"];
  for (int i = 0; i < 400; ++i) {
    std::string body;
    switch (i % 3) {
      case 0:  // raw bytes
        body.resize(rng() % 300);
        for (char& ch : body) ch = char(rng());
        break;
      case 1:  // the right nonce, a guessed counter (at 8 bits about 1 in 256 works)
        body = Json{{"nonce", nonce}, {"counter", std::to_string(rng() % 1000)}}.dump();
        break;
      default:  // a puzzle id made of random base64url
        body = Json{{"puzzle", cd::base64url(std::to_string(rng())) + "." + cd::base64url("x")},
                    {"answer", "ACD34K"}}
                   .dump();
    }
    for (std::string_view sub : {"verify", "captcha-verify"}) {
      Call c;
      c.method = "POST";
      c.path = std::string(kChallengeEndpoint) + std::string(sub);
      c.body = body;
      http::Response r = s.answer_endpoint(c.view());
      bool lucky =
          i % 3 == 1 && sub == "verify" &&
          leading_zero_bits(nonce + ":" + Json::parse(body)["counter"].get<std::string>()) >= 8;
      EXPECT_EQ(r.status == 200, lucky) << sub << " " << body.substr(0, 60);
      EXPECT_EQ(r.headers.find("set-cookie") != nullptr, lucky);
    }
  }
}

TEST(ChallengeEndpointTest, RoutesItsSubpaths) {
  ChallengeService s(options());
  EXPECT_TRUE(s.is_endpoint("/.edgeguard/waf/verify"));
  EXPECT_TRUE(s.is_endpoint("/.edgeguard/waf/"));
  EXPECT_TRUE(s.is_endpoint("/.edgeguard/waf"));
  EXPECT_FALSE(s.is_endpoint("/.edgeguard/wafx"));
  EXPECT_FALSE(s.is_endpoint("/protected"));

  Call c;
  c.path = "/.edgeguard/waf/nope";
  http::Response r = s.answer_endpoint(c.view());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(*r.headers.find("content-type"), "application/json");
  c.path = "/.edgeguard/waf/";
  EXPECT_EQ(s.answer_endpoint(c.view()).status, 404);
  c.path = "/.edgeguard/waf/verify";  // GET where POST is needed
  r = s.answer_endpoint(c.view());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(*r.headers.find("allow"), "POST");
  c.path = "/elsewhere";
  EXPECT_EQ(s.answer_endpoint(c.view()).status, 0);
}

TEST(ChallengeCaptchaTest, RightAnswerEarnsCaptchaAndChallengeTimes) {
  ChallengeService s(options());
  cd::Keys keys = cd::derive_keys(kKey);
  Call c;
  std::string puzzle = cd::captcha_puzzle_id(keys, "ACD34K", c.client, kNow + 60'000);
  // Typed as a person might: lower case, a space.
  http::Response r = post(s, c, "captcha-verify", {{"puzzle", puzzle}, {"answer", "acd 34k"}});
  ASSERT_EQ(r.status, 200) << r.body;
  TokenTimes t = s.token(with_cookie(c, cookie_token(r)).view());
  EXPECT_EQ(t.captcha_solved_ms, kNow);
  EXPECT_EQ(t.challenge_solved_ms, kNow);
  EXPECT_TRUE(ChallengeService::captcha_ok(t, kNow + 60'000, 300));
}

TEST(ChallengeCaptchaTest, WrongAnswerGetsANewPuzzle) {
  ChallengeService s(options());
  cd::Keys keys = cd::derive_keys(kKey);
  Call c;
  std::string puzzle = cd::captcha_puzzle_id(keys, "ACD34K", c.client, kNow + 60'000);
  http::Response r = post(s, c, "captcha-verify", {{"puzzle", puzzle}, {"answer", "ACD34X"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(reason(r), "wrong answer");
  EXPECT_EQ(r.headers.find("set-cookie"), nullptr);
  Json j = Json::parse(r.body);
  ASSERT_TRUE(j["next"].is_object());
  EXPECT_NE(j["next"]["puzzle"], puzzle);
  EXPECT_TRUE(j["next"]["svg"].get<std::string>().starts_with("<svg"));
}

TEST(ChallengeCaptchaTest, ExpiredForeignAndForgedPuzzlesAreRefused) {
  ChallengeService s(options());
  cd::Keys keys = cd::derive_keys(kKey);
  Call c;
  std::string expired = cd::captcha_puzzle_id(keys, "ACD34K", c.client, kNow - 1);
  EXPECT_EQ(reason(post(s, c, "captcha-verify", {{"puzzle", expired}, {"answer", "ACD34K"}})),
            "expired puzzle");
  std::string theirs = cd::captcha_puzzle_id(keys, "ACD34K", ip("192.0.2.1"), kNow + 60'000);
  EXPECT_EQ(reason(post(s, c, "captcha-verify", {{"puzzle", theirs}, {"answer", "ACD34K"}})),
            "other client address");
  std::string forged =
      cd::captcha_puzzle_id(cd::derive_keys(std::string(40, 'x')), "ACD34K", c.client, kNow + 1);
  EXPECT_EQ(reason(post(s, c, "captcha-verify", {{"puzzle", forged}, {"answer", "ACD34K"}})),
            "forged puzzle");
  // A proof-of-work nonce is not a puzzle id, though both are sealed blobs.
  std::string nonce = fetch_puzzle(s, c, "challenge")["nonce"];
  EXPECT_EQ(reason(post(s, c, "captcha-verify", {{"puzzle", nonce}, {"answer", "ACD34K"}})),
            "forged puzzle");
}

TEST(ChallengeCaptchaTest, SolvingOneKindKeepsTheOther) {
  ChallengeService s(options());
  cd::Keys keys = cd::derive_keys(kKey);
  Call c;
  std::string puzzle = cd::captcha_puzzle_id(keys, "TTTTTT", c.client, kNow + 60'000);
  http::Response r = post(s, c, "captcha-verify", {{"puzzle", puzzle}, {"answer", "TTTTTT"}});
  ASSERT_EQ(r.status, 200);
  Call later = with_cookie(c, cookie_token(r));
  later.now_ms = kNow + 400'000;
  std::string refreshed = earn_challenge_token(s, later);
  Call fresh = c;  // the browser replaces the cookie: only the new one is sent
  fresh.now_ms = later.now_ms;
  TokenTimes t = s.token(with_cookie(fresh, refreshed).view());
  EXPECT_EQ(t.challenge_solved_ms, kNow + 400'000);
  EXPECT_EQ(t.captcha_solved_ms, kNow) << "the CAPTCHA time survives a new proof of work";
}

TEST(ChallengeCaptchaTest, PictureHoldsNoTextAndVariesWithTheSeed) {
  std::string a = cd::render_captcha_svg("ACD34K", 1);
  EXPECT_EQ(a, cd::render_captcha_svg("ACD34K", 1));
  EXPECT_NE(a, cd::render_captcha_svg("ACD34K", 2));
  EXPECT_NE(a, cd::render_captcha_svg("ACD34X", 1));
  EXPECT_TRUE(a.starts_with("<svg"));
  EXPECT_EQ(a.find("<text"), std::string::npos);
  EXPECT_EQ(a.find("34K"), std::string::npos);
  EXPECT_LT(a.size(), 4096u);

  ChallengeService s(options());
  Json p = fetch_puzzle(s, Call(), "captcha");
  EXPECT_TRUE(p["svg"].get<std::string>().starts_with("<svg"));
  EXPECT_GT(p["expires"].get<int64_t>(), kNow);
}

TEST(ChallengeCaptchaTest, EveryAnswerGlyphIsDrawn) {
  auto strokes = [](std::string_view svg) { return std::count(svg.begin(), svg.end(), 'M'); };
  const auto noise_only = strokes(cd::render_captcha_svg("", 5));
  for (char glyph : cd::kCaptchaAlphabet)
    EXPECT_GE(strokes(cd::render_captcha_svg(std::string(1, glyph), 5)), noise_only + 2) << glyph;
}

TEST(ChallengeKeyTest, ShortKeyIsAConfigErrorAndNoKeyIsRandom) {
  EXPECT_THROW(ChallengeService(options("too-short")), std::invalid_argument);
  ChallengeService a(options("")), b(options(""));
  Call c;
  std::string token = earn_challenge_token(a, c);
  EXPECT_NE(a.token(with_cookie(c, token).view()).challenge_solved_ms, 0);
  EXPECT_EQ(b.token(with_cookie(c, token).view()).challenge_solved_ms, 0);
}

TEST(ChallengeBase64Test, RoundTripAndStrictness) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    EXPECT_EQ(cd::base64url_decode(cd::base64url(s)), s);
  }
  EXPECT_EQ(cd::base64url("\xfb\xff"), "-_8");
  EXPECT_FALSE(cd::base64url_decode("Zm9v=").has_value());
  EXPECT_FALSE(cd::base64url_decode("Zg+").has_value());
  EXPECT_FALSE(cd::base64url_decode("Z").has_value());
  EXPECT_FALSE(cd::base64url_decode("Zh").has_value()) << "non-zero leftover bits";
}

}  // namespace
}  // namespace eg::waf
