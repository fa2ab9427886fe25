// Challenge and CAPTCHA actions (aws-formats.md §3.5): the aws-waf-token cookie, the pages that
// earn it, and the endpoint those pages post their answer to.
//
// A token is issued after a browser solves a JavaScript proof-of-work (Challenge) or an
// interactive puzzle (CAPTCHA); it is HMAC-signed with a key from the ACL config, bound to
// the client address and the host's token domain, and records when each kind was solved, so
// each action checks its own immunity time. Without a valid token: Challenge answers 202
// with `x-amzn-waf-action: challenge`, CAPTCHA 405 with `x-amzn-waf-action: captcha`, each
// with its page when the client accepts text/html.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "waf/request.h"

namespace eg::waf {

// The path the interstitial pages post their answer to (and fetch their puzzle from). The web
// ACL stage answers it before any rule runs.
inline constexpr std::string_view kChallengeEndpoint = "/.edgeguard/waf/";

struct ChallengeOptions {
  std::string key;                         // HMAC key, >= 32 bytes
  std::vector<std::string> token_domains;  // TokenDomains; empty: the request's host only
  uint32_t difficulty_bits = 16;           // proof-of-work: leading zero bits of SHA-256
};

struct TokenTimes {
  int64_t challenge_solved_ms = 0;  // 0: never
  int64_t captcha_solved_ms = 0;
};

class ChallengeService {
 public:
  explicit ChallengeService(ChallengeOptions o);
  ~ChallengeService();

  // Reads and checks the aws-waf-token cookie of the request (signature, address, domain);
  // a missing or invalid token gives zero times.
  TokenTimes token(const Request& r) const;
  // Is the token good for Challenge (resp. CAPTCHA) with this immunity time, in seconds?
  static bool challenge_ok(const TokenTimes& t, int64_t now_ms, uint32_t immunity_s);
  static bool captcha_ok(const TokenTimes& t, int64_t now_ms, uint32_t immunity_s);

  // The terminating answers when the token is missing or too old.
  http::Response challenge_response(const Request& r) const;  // 202
  http::Response captcha_response(const Request& r) const;    // 405

  // Requests to kChallengeEndpoint (verify a proof-of-work or a puzzle answer, issue the
  // token as Set-Cookie, or serve a new puzzle). nullopt-like empty status 0 when the path is
  // not the endpoint.
  bool is_endpoint(std::string_view path) const;
  http::Response answer_endpoint(const Request& r) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::waf
