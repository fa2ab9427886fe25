// The Challenge/CAPTCHA service on fuzz-built requests: the aws-waf-token cookie check and
// the endpoint under /.edgeguard/waf/ that pages post their answers to. Both read viewer
// bytes before any rule runs, so nothing may crash, and nothing forged may earn a token.
//
// Input: one flag byte, then lines: method, endpoint subpath, Cookie, Host, Accept, and the
// rest is the body. Flags pick the client address, https, the token domains, whether the
// cookie is a fuzz blob sealed with the right key (to reach the token parser behind the MAC),
// and how the body is made:
//   0 raw: as given; no answer may issue a token.
//   1 sealed blob: {"nonce"/"puzzle": the body's first bytes sealed with the right keys,
//     "counter"/"answer": the rest}; a token only for a solved proof of work (16 bits).
//   2 real puzzle: a CAPTCHA puzzle id for an answer from the body, the typed answer from
//     the rest; a token exactly when the typed answer normalises to it, unexpired.
//   3 real nonce: the nonce GET challenge just served, the body as the counter; a token only
//     for a solved proof of work.
// Whenever a token is issued, feeding it back must make token() accept it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "waf/challenge.h"
#include "waf/challenge_internal.h"

namespace {

using namespace eg::waf;
namespace cd = challenge_detail;
using Json = nlohmann::json;

constexpr int64_t kNow = 1'800'000'000'000;
constexpr uint32_t kDifficulty = 16;
const std::string kKey(32, 'k');

void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  fprintf(stderr, "challenge_endpoint_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

const ChallengeService& service(unsigned domains) {
  auto make = [](std::vector<std::string> d) {
    ChallengeOptions o;
    o.key = kKey;
    o.token_domains = std::move(d);
    o.difficulty_bits = kDifficulty;
    return new ChallengeService(std::move(o));
  };
  static const ChallengeService* services[] = {
      make({}),
      make({"example.com"}),
      make({".Example.COM.", "shop.example", ""}),
  };
  return *services[domains % 3];
}

const cd::Keys& keys() {
  static const cd::Keys k = cd::derive_keys(kKey);
  return k;
}

std::string_view take_line(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view l = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return l;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The server's normalisation of a typed CAPTCHA answer (challenge.cc), restated.
std::string normalised_answer(std::string_view typed) {
  std::string a;
  for (char c : typed.substr(0, 64)) {
    if (c == ' ' || c == '\t' || c == '-') continue;
    a.push_back(c >= 'a' && c <= 'z' ? char(c - 32) : c);
  }
  return a;
}

// The aws-waf-token cookie a response sets ("aws-waf-token=<value>"), if any.
std::optional<std::string> issued_token(const eg::http::Response& resp) {
  for (const auto& h : resp.headers) {
    if (!eg::http::iequals(h.name, "set-cookie")) continue;
    std::string_view v = h.value;
    if (!v.starts_with("aws-waf-token=")) continue;
    return std::string(v.substr(0, v.find(';')));
  }
  return std::nullopt;
}

struct Call {
  IpAddress client;
  std::string method, path, body;
  eg::http::Headers headers;
  bool https = false;
  Request view() const {
    return Request{client, method, path, "", headers, body, "", "", "fuzz", https, kNow};
  }
};

}  // namespace

// Undefined behaviour is a finding like a crash: UBSan stops at its first report (the build
// lets it recover otherwise, and libFuzzer would not notice).
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view method = take_line(in), subpath = take_line(in), cookie = take_line(in),
                   host = take_line(in), accept = take_line(in);
  const std::string_view body = in;

  static const char* kClients[] = {"198.51.100.7", "2001:db8::7", "192.0.2.1",
                                   "::ffff:198.51.100.7"};
  const ChallengeService& svc = service(flags >> 6);
  const bool sealed_cookie = flags & 0x08;
  const unsigned body_mode = (flags >> 4) & 3;

  Call call;
  call.client = *parse_ip(kClients[flags & 3]);
  call.https = flags & 0x04;
  if (!host.empty()) call.headers.add("Host", host);
  if (!accept.empty()) call.headers.add("Accept", accept);
  if (sealed_cookie)
    call.headers.add("Cookie", "a=b; aws-waf-token=" + cd::seal(keys().token, cookie));
  else if (!cookie.empty())
    call.headers.add("Cookie", cookie);

  TokenTimes times = svc.token(call.view());
  if (!sealed_cookie)
    check(times.challenge_solved_ms == 0 && times.captcha_solved_ms == 0,
          "token() accepted a cookie not sealed with the key", std::string(cookie));
  // The interstitials read the Accept header.
  (void)svc.challenge_response(call.view());
  (void)svc.captcha_response(call.view());

  // What the body must do to earn a token, per mode; set below.
  std::string nonce, counter;
  bool answer_right = false;
  if (body_mode == 1) {
    size_t n = body.empty() ? 0 : std::min<size_t>(uint8_t(body[0]), body.size() - 1);
    std::string_view blob = body.substr(body.empty() ? 0 : 1, n),
                     rest = body.substr(n + !body.empty());
    nonce = cd::seal(keys().pow, blob);
    counter = rest;
    call.body = dump(Json{{"nonce", nonce},
                          {"counter", counter},
                          {"puzzle", cd::seal(keys().captcha, blob)},
                          {"answer", rest}});
  } else if (body_mode == 2) {
    std::string_view b = body;
    int64_t offset_ms = b.empty() ? 60'000 : (int64_t(int8_t(b[0])) * 10'000);
    if (!b.empty()) b.remove_prefix(1);
    std::string_view answer = take_line(b);
    std::string puzzle = cd::captcha_puzzle_id(keys(), answer, call.client, kNow + offset_ms);
    call.body = dump(Json{{"puzzle", puzzle}, {"answer", std::string(b)}});
    // The typed answer as the server will read it (invalid UTF-8 was replaced).
    std::string typed = Json::parse(call.body)["answer"].get<std::string>();
    answer_right = offset_ms >= 0 && normalised_answer(typed) == answer;
  } else if (body_mode == 3) {
    Call get = call;
    get.method = "GET";
    get.path = std::string(kChallengeEndpoint) + "challenge";
    eg::http::Response served = svc.answer_endpoint(get.view());
    check(served.status == 200, "GET challenge failed", served.body);
    nonce = Json::parse(served.body)["nonce"].get<std::string>();
    counter = body;
    call.body = dump(Json{{"nonce", nonce}, {"counter", counter}});
  } else {
    call.body = body;
  }

  struct Route {
    std::string_view sub, method;
  };
  const Route routes[] = {{"challenge", "GET"},       {"verify", "POST"}, {"captcha", "GET"},
                          {"captcha-verify", "POST"}, {"", "GET"},        {subpath, "POST"}};
  for (const Route& route : routes) {
    call.path = std::string(kChallengeEndpoint) + std::string(route.sub);
    call.method = method.empty() ? route.method : method;
    check(svc.is_endpoint(call.path), "the endpoint does not recognise itself", call.path);
    eg::http::Response resp = svc.answer_endpoint(call.view());
    // A JSON object (not re-parsed: CAPTCHA answers carry a large SVG, and parsing it would
    // take half the time of a run).
    check(resp.body.size() >= 2 && resp.body.front() == '{' && resp.body.back() == '}',
          "an endpoint answer that is not a JSON object", resp.body);
    std::optional<std::string> token = issued_token(resp);
    if (!token) {
      check(!(body_mode == 2 && answer_right && route.sub == "captcha-verify" &&
              call.method == "POST"),
            "the right CAPTCHA answer was refused", resp.body);
      continue;
    }
    check(resp.status == 200, "a token with a status other than 200", std::to_string(resp.status));
    bool earned = false;
    if (route.sub == "verify" && (body_mode == 1 || body_mode == 3))
      earned = cd::work_bits(nonce, counter) >= kDifficulty;
    else if (route.sub == "captcha-verify" && body_mode == 2)
      earned = answer_right;
    check(earned, "a token for a request that did not earn one", call.body);
    // The token must work when the same client presents it to the same host (unless the host
    // is longer than any DNS name: such a token is made unusable on purpose).
    Call back = call;
    back.headers.remove("Cookie");
    back.headers.add("Cookie", *token);
    if (cd::request_host(back.headers).size() <= 253)
      check(svc.token(back.view()).challenge_solved_ms == kNow,
            "an issued token is not accepted back", *token);
  }

  // A path that is not the endpoint gets status 0 (not answered here).
  call.path = std::string(subpath);
  if (!svc.is_endpoint(call.path))
    check(svc.answer_endpoint(call.view()).status == 0, "a non-endpoint path was answered",
          call.path);
  return 0;
}
