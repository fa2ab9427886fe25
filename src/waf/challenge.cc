#include "waf/challenge.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "aws/sigv4.h"
#include "core/strings.h"
#include "waf/challenge_internal.h"

namespace eg::waf {
namespace cd = challenge_detail;
namespace {

constexpr uint8_t kBlobVersion = 1;
constexpr std::string_view kCookieName = "aws-waf-token";
constexpr int64_t kClockSkewMs = 60'000;
// Long enough for a slow phone to finish the work or a person to read a puzzle; short
// enough that a solved puzzle is not worth hoarding.
constexpr int64_t kPowLifetimeMs = 5 * 60'000;
constexpr int64_t kCaptchaLifetimeMs = 10 * 60'000;
// The longest immunity time AWS allows: the cookie needs to live no longer, since each
// action checks its own immunity against the solved times inside.
constexpr int64_t kCookieMaxAgeS = 259'200;
constexpr size_t kMaxTokenChars = 1024;  // a real token is < 450; more is not ours
constexpr size_t kMaxEndpointBody = 4096;
constexpr uint32_t kMaxDifficulty = 32;  // beyond this a browser would never finish
constexpr size_t kSaltBytes = 16;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool random_bytes(void* out, size_t n) {
  return RAND_bytes(static_cast<unsigned char*>(out), int(n)) == 1;
}

void put_u8(std::string& out, uint8_t v) { out.push_back(char(v)); }
void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char(uint8_t(v >> shift)));
}
void put_address(std::string& out, const IpAddress& a) {
  put_u8(out, a.v6 ? 6 : 4);
  out.append(reinterpret_cast<const char*>(a.bytes.data()), a.v6 ? 16 : 4);
}

// Bounds-checked reading of a blob; any short read leaves it failed for good.
class BlobReader {
 public:
  explicit BlobReader(std::string_view s) : s_(s) {}
  uint8_t u8() {
    std::string_view b = take(1);
    return b.empty() ? 0 : uint8_t(b[0]);
  }
  int64_t i64() {
    std::string_view b = take(8);
    uint64_t v = 0;
    for (char c : b) v = v << 8 | uint8_t(c);
    return int64_t(v);
  }
  std::string_view take(size_t n) {
    if (!ok_ || s_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string_view b = s_.substr(pos_, n);
    pos_ += n;
    return b;
  }
  IpAddress address() {
    IpAddress a;
    uint8_t family = u8();
    if (family != 4 && family != 6) {
      ok_ = false;
      return a;
    }
    a.v6 = family == 6;
    std::string_view b = take(a.v6 ? 16 : 4);
    // A short read gives an empty view whose data() is null: memcpy from null is undefined
    // even for zero bytes.
    if (!b.empty()) std::memcpy(a.bytes.data(), b.data(), b.size());
    return a;
  }
  bool complete() const { return ok_ && pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Only the bytes of the family count: a v4 address says nothing about bytes 4..15.
bool same_address(const IpAddress& a, const IpAddress& b) {
  if (a.v6 != b.v6) return false;
  return std::memcmp(a.bytes.data(), b.bytes.data(), a.v6 ? 16 : 4) == 0;
}

struct TokenFields {
  int64_t issued_ms = 0;
  TokenTimes times;
  IpAddress client;
  std::string domain;
};

std::string token_blob(const TokenFields& t) {
  std::string b;
  put_u8(b, kBlobVersion);
  put_u64(b, uint64_t(t.issued_ms));
  put_u64(b, uint64_t(t.times.challenge_solved_ms));
  put_u64(b, uint64_t(t.times.captcha_solved_ms));
  put_address(b, t.client);
  put_u8(b, uint8_t(t.domain.size()));
  b += t.domain;
  return b;
}

std::optional<TokenFields> parse_token_blob(std::string_view blob) {
  BlobReader in(blob);
  TokenFields t;
  if (in.u8() != kBlobVersion) return std::nullopt;
  t.issued_ms = in.i64();
  t.times.challenge_solved_ms = in.i64();
  t.times.captcha_solved_ms = in.i64();
  t.client = in.address();
  t.domain = in.take(in.u8());
  if (!in.complete()) return std::nullopt;
  return t;
}

std::string normalise_domain(std::string_view d) {
  std::string s = to_lower(trim(d));
  while (!s.empty() && s.front() == '.') s.erase(s.begin());
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool is_ip_literal(std::string_view host) {
  return !host.empty() && (host.front() == '[' || parse_ip(host).has_value());
}

bool under_domain(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  if (domain.empty() || is_ip_literal(host)) return false;
  return host.size() > domain.size() + 1 && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

using Json = nlohmann::json;

http::Response json_response(int status, const Json& body) {
  http::Response r;
  r.status = status;
  r.body = body.dump();
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("X-Content-Type-Options", "nosniff");
  return r;
}

http::Response refusal(int status, std::string_view reason) {
  return json_response(status, Json{{"ok", false}, {"reason", reason}});
}

std::optional<std::string> string_field(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A counter the browser computed: decimal digits, as a string (what the page sends) or an
// unsigned number.
std::optional<std::string> counter_field(const Json& j) {
  auto it = j.find("counter");
  if (it == j.end()) return std::nullopt;
  std::string c;
  if (it->is_number_unsigned())
    c = std::to_string(it->get<uint64_t>());
  else if (it->is_string())
    c = it->get<std::string>();
  else
    return std::nullopt;
  if (c.empty() || c.size() > 20 ||
      !std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return std::nullopt;
  return c;
}

// The JSON object of an endpoint POST, or nullopt for anything else.
std::optional<Json> json_object_body(std::string_view body) {
  if (body.size() > kMaxEndpointBody) return std::nullopt;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

// What a person may type for a CAPTCHA answer: spaces dropped, case folded.
std::string normalise_answer(std::string_view typed) {
  std::string a;
  for (char c : typed.substr(0, 64)) {
    if (c == ' ' || c == '\t' || c == '-') continue;
    a.push_back(c >= 'a' && c <= 'z' ? char(c - 32) : c);
  }
  return a;
}

aws::sigv4::Sha256 answer_tag(const cd::Keys& keys, std::string_view salt,
                              std::string_view answer) {
  std::string msg(salt);
  msg += ':';
  msg += answer;
  return aws::sigv4::hmac_sha256(keys.answer, msg);
}

}  // namespace

// ---- building blocks ------------------------------------------------------------------------

namespace challenge_detail {

Keys derive_keys(std::string_view key) {
  auto derive = [&](std::string_view purpose) {
    return aws::sigv4::hmac_sha256(bytes_of(key), purpose);
  };
  return {derive("edgeguard waf token v1"), derive("edgeguard waf proof-of-work v1"),
          derive("edgeguard waf captcha v1"), derive("edgeguard waf captcha answer v1")};
}

std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v =
        uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char(uint8_t(acc >> bits)));
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string seal(const Key& key, std::string_view blob) {
  aws::sigv4::Sha256 mac = aws::sigv4::hmac_sha256(key, blob);
  std::string out = base64url(blob);
  out += '.';
  out += base64url({reinterpret_cast<const char*>(mac.data()), mac.size()});
  return out;
}

std::optional<std::string> unseal(const Key& key, std::string_view sealed) {
  size_t dot = sealed.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<std::string> blob = base64url_decode(sealed.substr(0, dot));
  std::optional<std::string> mac = base64url_decode(sealed.substr(dot + 1));
  if (!blob || !mac || mac->size() != 32) return std::nullopt;
  aws::sigv4::Sha256 expected = aws::sigv4::hmac_sha256(key, *blob);
  if (CRYPTO_memcmp(expected.data(), mac->data(), expected.size()) != 0) return std::nullopt;
  return blob;
}

uint32_t work_bits(std::string_view nonce, std::string_view counter) {
  std::string msg;
  msg.reserve(nonce.size() + 1 + counter.size());
  msg.append(nonce).append(":").append(counter);
  aws::sigv4::Sha256 h = aws::sigv4::sha256(msg);
  uint32_t bits = 0;
  for (uint8_t b : h) {
    if (b == 0) {
      bits += 8;
      continue;
    }
    while (!(b & 0x80)) {
      ++bits;
      b = uint8_t(b << 1);
    }
    break;
  }
  return bits;
}

std::string request_host(const http::Headers& headers) {
  const std::string* h = headers.find("host");
  if (!h) return {};
  std::string host = to_lower(trim(*h));
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string::npos) host.resize(close + 1);
  } else if (size_t colon = host.find(':');
             colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    host.resize(colon);
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

bool accepts_html(const http::Headers& headers) {
  for (const http::Header& h : headers) {
    if (!iequals(h.name, "accept")) continue;
    for (std::string_view range : split(h.value, ',')) {
      std::vector<std::string_view> parts = split(range, ';');
      if (parts.empty() || !iequals(trim(parts[0]), "text/html")) continue;
      bool refused = false;  // "text/html;q=0" says the client does not want it
      for (size_t i = 1; i < parts.size(); ++i) {
        std::string_view p = trim(parts[i]);
        if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
        std::string_view q = trim(p.substr(2));
        refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
      if (!refused) return true;
    }
  }
  return false;
}

std::string captcha_puzzle_id(const Keys& keys, std::string_view answer, const IpAddress& client,
                              int64_t expires_ms) {
  std::string salt(kSaltBytes, '\0');
  // A salt that failed to be random still leaves the answer keyed, so the id stays sound.
  (void)random_bytes(salt.data(), salt.size());
  aws::sigv4::Sha256 tag = answer_tag(keys, salt, answer);
  std::string blob;
  put_u8(blob, kBlobVersion);
  put_u64(blob, uint64_t(expires_ms));
  put_address(blob, client);
  blob += salt;
  blob.append(reinterpret_cast<const char*>(tag.data()), tag.size());
  return seal(keys.captcha, blob);
}

}  // namespace challenge_detail

// ---- the service ----------------------------------------------------------------------------

struct ChallengeService::Impl {
  cd::Keys keys;
  std::vector<std::string> token_domains;  // normalised, never empty strings
  uint32_t difficulty = 16;

  std::optional<TokenFields> read_token(const Request& r) const;
  // The listed domain the host falls under (the broadest, so the token is shared as widely
  // as the operator allowed), else the host itself.
  std::string token_domain_for(std::string_view host) const;
  std::string set_cookie(const Request& r, TokenTimes times) const;

  http::Response pow_puzzle(const Request& r) const;
  http::Response verify_pow(const Request& r) const;
  Json new_captcha(const Request& r) const;
  http::Response captcha_puzzle(const Request& r) const;
  http::Response verify_captcha(const Request& r) const;
};

std::optional<TokenFields> ChallengeService::Impl::read_token(const Request& r) const {
  std::string host;
  bool host_known = false;
  for (const http::Header& h : r.headers) {
    if (!iequals(h.name, "cookie")) continue;
    for (std::string_view pair : split(h.value, ';')) {
      pair = trim(pair);
      if (!pair.starts_with(kCookieName) || pair.size() <= kCookieName.size() ||
          pair[kCookieName.size()] != '=')
        continue;
      std::string_view value = trim(pair.substr(kCookieName.size() + 1));
      if (value.size() > kMaxTokenChars) continue;
      std::optional<std::string> blob = cd::unseal(keys.token, value);
      if (!blob) continue;
      std::optional<TokenFields> t = parse_token_blob(*blob);
      if (!t || !same_address(t->client, r.client_ip)) continue;
      if (!host_known) {
        host = cd::request_host(r.headers);
        host_known = true;
      }
      if (!under_domain(host, t->domain)) continue;
      return t;
    }
  }
  return std::nullopt;
}

std::string ChallengeService::Impl::token_domain_for(std::string_view host) const {
  const std::string* best = nullptr;
  for (const std::string& d : token_domains)
    if (under_domain(host, d) && (!best || d.size() < best->size())) best = &d;
  return best ? *best : std::string(host);
}

std::string ChallengeService::Impl::set_cookie(const Request& r, TokenTimes times) const {
  TokenFields t;
  t.issued_ms = r.now_ms;
  t.times = times;
  t.client = r.client_ip;
  std::string host = cd::request_host(r.headers);
  t.domain = token_domain_for(host);
  // No DNS name is this long; an empty domain makes a token no real host accepts.
  if (t.domain.size() > 253) t.domain.clear();
  std::string c(kCookieName);
  c += '=';
  c += cd::seal(keys.token, token_blob(t));
  c += "; Path=/; Max-Age=" + std::to_string(kCookieMaxAgeS) + "; HttpOnly; SameSite=Lax";
  // A token domain wider than the host is the point of TokenDomains: let the browser send
  // the cookie to every host under it.
  if (t.domain != host && !t.domain.empty()) c += "; Domain=" + t.domain;
  if (r.https) c += "; Secure";
  return c;
}

http::Response ChallengeService::Impl::pow_puzzle(const Request& r) const {
  std::string blob;
  put_u8(blob, kBlobVersion);
  int64_t expires = r.now_ms + kPowLifetimeMs;
  put_u64(blob, uint64_t(expires));
  put_u8(blob, uint8_t(difficulty));
  std::string salt(kSaltBytes, '\0');
  if (!random_bytes(salt.data(), salt.size())) return refusal(503, "no randomness available");
  blob += salt;
  put_address(blob, r.client_ip);
  return json_response(
      200,
      Json{{"nonce", cd::seal(keys.pow, blob)}, {"difficulty", difficulty}, {"expires", expires}});
}

http::Response ChallengeService::Impl::verify_pow(const Request& r) const {
  std::optional<Json> body = json_object_body(r.body);
  if (!body) return refusal(400, "malformed request");
  std::optional<std::string> nonce = string_field(*body, "nonce");
  std::optional<std::string> counter = counter_field(*body);
  if (!nonce || !counter || nonce->size() > 512) return refusal(400, "malformed request");
  std::optional<std::string> blob = cd::unseal(keys.pow, *nonce);
  if (!blob) return refusal(403, "forged nonce");
  BlobReader in(*blob);
  uint8_t version = in.u8();
  int64_t expires = in.i64();
  uint8_t nonce_difficulty = in.u8();
  in.take(kSaltBytes);
  IpAddress client = in.address();
  if (version != kBlobVersion || !in.complete()) return refusal(403, "forged nonce");
  if (expires < r.now_ms) return refusal(403, "expired nonce");
  if (!same_address(client, r.client_ip)) return refusal(403, "other client address");
  // A nonce issued before the operator raised the difficulty no longer buys a token.
  if (nonce_difficulty < difficulty) return refusal(403, "expired nonce");
  if (cd::work_bits(*nonce, *counter) < nonce_difficulty) return refusal(403, "wrong counter");

  TokenTimes times;
  if (std::optional<TokenFields> old = read_token(r)) times = old->times;
  times.challenge_solved_ms = r.now_ms;
  http::Response resp = json_response(200, Json{{"ok", true}});
  resp.headers.add("Set-Cookie", set_cookie(r, times));
  return resp;
}

Json ChallengeService::Impl::new_captcha(const Request& r) const {
  std::string answer;
  uint64_t seed = 0;
  uint8_t pool[64];
  if (!random_bytes(pool, sizeof pool) || !random_bytes(&seed, sizeof seed)) return nullptr;
  // Rejection sampling keeps every glyph equally likely (256 is not a multiple of 24).
  const size_t n = cd::kCaptchaAlphabet.size();
  const size_t limit = 256 - 256 % n;
  for (uint8_t b : pool) {
    if (answer.size() == cd::kCaptchaLength) break;
    if (b < limit) answer += cd::kCaptchaAlphabet[b % n];
  }
  if (answer.size() != cd::kCaptchaLength) return nullptr;  // ~1e-30: not worth a loop
  int64_t expires = r.now_ms + kCaptchaLifetimeMs;
  return Json{{"puzzle", cd::captcha_puzzle_id(keys, answer, r.client_ip, expires)},
              {"svg", cd::render_captcha_svg(answer, seed)},
              {"expires", expires}};
}

http::Response ChallengeService::Impl::captcha_puzzle(const Request& r) const {
  Json puzzle = new_captcha(r);
  if (puzzle.is_null()) return refusal(503, "no randomness available");
  return json_response(200, puzzle);
}

http::Response ChallengeService::Impl::verify_captcha(const Request& r) const {
  // Every refusal carries the next puzzle, so the page can go on without another round trip.
  auto refuse = [&](int status, std::string_view reason) {
    Json j{{"ok", false}, {"reason", reason}};
    Json next = new_captcha(r);
    if (!next.is_null()) j["next"] = std::move(next);
    return json_response(status, j);
  };
  std::optional<Json> body = json_object_body(r.body);
  if (!body) return refuse(400, "malformed request");
  std::optional<std::string> puzzle = string_field(*body, "puzzle");
  std::optional<std::string> typed = string_field(*body, "answer");
  if (!puzzle || !typed || puzzle->size() > 512) return refuse(400, "malformed request");
  std::optional<std::string> blob = cd::unseal(keys.captcha, *puzzle);
  if (!blob) return refuse(403, "forged puzzle");
  BlobReader in(*blob);
  uint8_t version = in.u8();
  int64_t expires = in.i64();
  IpAddress client = in.address();
  std::string_view salt = in.take(kSaltBytes);
  std::string_view tag = in.take(32);
  if (version != kBlobVersion || !in.complete()) return refuse(403, "forged puzzle");
  if (expires < r.now_ms) return refuse(403, "expired puzzle");
  if (!same_address(client, r.client_ip)) return refuse(403, "other client address");
  aws::sigv4::Sha256 expected = answer_tag(keys, salt, normalise_answer(*typed));
  if (CRYPTO_memcmp(expected.data(), tag.data(), expected.size()) != 0)
    return refuse(403, "wrong answer");

  TokenTimes times;
  if (std::optional<TokenFields> old = read_token(r)) times = old->times;
  // A solved CAPTCHA also proves a browser ran the page's script.
  times.captcha_solved_ms = r.now_ms;
  times.challenge_solved_ms = r.now_ms;
  http::Response resp = json_response(200, Json{{"ok", true}});
  resp.headers.add("Set-Cookie", set_cookie(r, times));
  return resp;
}

// ---- public interface -----------------------------------------------------------------------

ChallengeService::ChallengeService(ChallengeOptions o) : impl_(std::make_unique<Impl>()) {
  std::string key = std::move(o.key);
  if (key.empty()) {
    // No configured key: tokens live as long as this process, which is what the config
    // promises when challenge_key is left out.
    key.assign(32, '\0');
    if (!random_bytes(key.data(), key.size()))
      throw std::runtime_error("web ACL challenge: no randomness for a key");
  } else if (key.size() < 32) {
    throw std::invalid_argument("web ACL challenge key: at least 32 bytes needed, got " +
                                std::to_string(key.size()));
  }
  impl_->keys = cd::derive_keys(key);
  OPENSSL_cleanse(key.data(), key.size());
  for (const std::string& d : o.token_domains) {
    std::string n = normalise_domain(d);
    if (!n.empty()) impl_->token_domains.push_back(std::move(n));
  }
  impl_->difficulty = std::min(o.difficulty_bits, kMaxDifficulty);
}

ChallengeService::~ChallengeService() = default;

TokenTimes ChallengeService::token(const Request& r) const {
  std::optional<TokenFields> t = impl_->read_token(r);
  return t ? t->times : TokenTimes{};
}

namespace {
bool solved_within(int64_t solved_ms, int64_t now_ms, uint32_t immunity_s) {
  return solved_ms != 0 && solved_ms <= now_ms + kClockSkewMs &&
         now_ms - solved_ms <= int64_t(immunity_s) * 1000;
}
}  // namespace

bool ChallengeService::challenge_ok(const TokenTimes& t, int64_t now_ms, uint32_t immunity_s) {
  return solved_within(t.challenge_solved_ms, now_ms, immunity_s);
}

bool ChallengeService::captcha_ok(const TokenTimes& t, int64_t now_ms, uint32_t immunity_s) {
  return solved_within(t.captcha_solved_ms, now_ms, immunity_s);
}

namespace {
http::Response interstitial(int status, std::string_view action, std::string_view page,
                            const Request& r) {
  http::Response resp;
  resp.status = status;
  resp.headers.add("x-amzn-waf-action", action);
  resp.headers.add("Cache-Control", "no-store");
  if (cd::accepts_html(r.headers)) {
    resp.body = page;
    resp.headers.add("Content-Type", "text/html; charset=utf-8");
    resp.headers.add("Content-Security-Policy", cd::kPageCsp);
    resp.headers.add("X-Content-Type-Options", "nosniff");
  }
  return resp;
}
}  // namespace

http::Response ChallengeService::challenge_response(const Request& r) const {
  return interstitial(202, "challenge", cd::kChallengePage, r);
}

http::Response ChallengeService::captcha_response(const Request& r) const {
  return interstitial(405, "captcha", cd::kCaptchaPage, r);
}

bool ChallengeService::is_endpoint(std::string_view path) const {
  return path.starts_with(kChallengeEndpoint) ||
         path == kChallengeEndpoint.substr(0, kChallengeEndpoint.size() - 1);
}

http::Response ChallengeService::answer_endpoint(const Request& r) const {
  if (!is_endpoint(r.uri_path)) {
    http::Response none;
    none.status = 0;
    return none;
  }
  std::string_view sub = r.uri_path.size() > kChallengeEndpoint.size()
                             ? r.uri_path.substr(kChallengeEndpoint.size())
                             : std::string_view{};
  struct Route {
    std::string_view sub;
    std::string_view method;
    http::Response (Impl::*answer)(const Request&) const;
  };
  static constexpr Route kRoutes[] = {
      {"challenge", "GET", &Impl::pow_puzzle},
      {"verify", "POST", &Impl::verify_pow},
      {"captcha", "GET", &Impl::captcha_puzzle},
      {"captcha-verify", "POST", &Impl::verify_captcha},
  };
  for (const Route& route : kRoutes) {
    if (sub != route.sub) continue;
    if (r.method != route.method) {
      http::Response resp = refusal(405, "method not allowed");
      resp.headers.add("Allow", route.method);
      return resp;
    }
    return (impl_.get()->*route.answer)(r);
  }
  return refusal(404, "not found");
}

}  // namespace eg::waf
