#include "functions/builtins/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/base64.h"
#include "core/strings.h"

namespace eg::functions::builtins {

namespace {

constexpr std::string_view kCryptAlphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool all_in_crypt_alphabet(std::string_view s) {
  return s.find_first_not_of(kCryptAlphabet) == std::string_view::npos;
}

// "$2y$10$" + 22 salt + 31 hash characters.
bool valid_bcrypt(std::string_view h) {
  if (h.size() != 60 || h[6] != '$') return false;
  if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  return cost >= 4 && cost <= 31 && all_in_crypt_alphabet(h.substr(7));
}

// "$5$[rounds=N$]salt$hash": hash is 43 (SHA-256) or 86 (SHA-512) characters.
bool valid_sha_crypt(std::string_view h, size_t hash_chars) {
  std::string_view rest = h.substr(3);
  if (starts_with(rest, "rounds=")) {
    const size_t end = rest.find('$');
    if (end == std::string_view::npos || !parse_uint(rest.substr(7, end - 7))) return false;
    rest = rest.substr(end + 1);
  }
  const size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos || dollar > 16) return false;
  const std::string_view salt = rest.substr(0, dollar), hash = rest.substr(dollar + 1);
  return salt.find_first_of("$:\n") == std::string_view::npos && hash.size() == hash_chars &&
         all_in_crypt_alphabet(hash);
}

// How expensive a hash is to check, to pick the one an unknown user's password is hashed
// against: the most expensive one, so "no such user" is never the fast answer.
int cost_rank(const BasicAuthOptions::Credential& c) {
  switch (c.scheme) {
    case PasswordScheme::Bcrypt:
      return 1000 + (c.hash[4] - '0') * 10 + (c.hash[5] - '0');
    case PasswordScheme::Sha512Crypt:
      return 500;
    case PasswordScheme::Sha256Crypt:
      return 400;
    case PasswordScheme::Sha256Base64:
      return 0;
  }
  return 0;
}

bool valid_user_name(std::string_view user) {
  if (user.empty()) return false;
  for (unsigned char ch : user)
    if (ch < 0x20 || ch == 0x7f || ch == ':') return false;
  return true;
}

void load_htpasswd(OptionReader& r, const std::filesystem::path& file,
                   std::vector<BasicAuthOptions::Credential>& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    r.fail("users", "cannot read file " + file.string() + ": " + std::strerror(errno));
    return;
  }
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::string_view text = trim(line);
    if (!text.empty() && text.back() == '\r') text = trim(text.substr(0, text.size() - 1));
    if (text.empty() || text.front() == '#') continue;
    const std::string where = "file " + file.string() + " line " + std::to_string(number) + ": ";
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      r.fail("users", where + "expected user:hash");
      return;
    }
    BasicAuthOptions::Credential c;
    c.user = text.substr(0, colon);
    if (!valid_user_name(c.user)) {
      r.fail("users", where + "the user name is empty or holds a control character");
      return;
    }
    std::string error;
    if (!parse_password_hash(text.substr(colon + 1), c, error)) {
      r.fail("users", where + error);
      return;
    }
    out.push_back(std::move(c));
  }
}

void load_inline(OptionReader& r, const nlohmann::json& list,
                 std::vector<BasicAuthOptions::Credential>& out) {
  if (!list.is_array()) {
    r.fail("credentials",
           "expected a list of {user, password_hash}, got " + std::string(json_type_name(list)));
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "item " + std::to_string(i + 1) + ": ";
    const nlohmann::json& item = list[i];
    if (!item.is_object()) {
      r.fail("credentials",
             where + "expected {user, password_hash}, got " + std::string(json_type_name(item)));
      return;
    }
    for (const auto& [key, value] : item.items())
      if (key != "user" && key != "password_hash") {
        r.fail("credentials", where + "unknown key '" + key + "' (allowed: user, password_hash)");
        return;
      }
    auto user = item.find("user"), hash = item.find("password_hash");
    if (user == item.end() || !user->is_string() || hash == item.end() || !hash->is_string()) {
      r.fail("credentials", where + "user and password_hash are both required strings");
      return;
    }
    BasicAuthOptions::Credential c;
    c.user = user->get<std::string>();
    if (!valid_user_name(c.user)) {
      r.fail("credentials", where + "the user name is empty or holds ':' or a control character");
      return;
    }
    std::string error;
    if (!parse_password_hash(hash->get<std::string>(), c, error)) {
      r.fail("credentials", where + error);
      return;
    }
    out.push_back(std::move(c));
  }
}

// Strict standard base64 into a caller's buffer; false on anything malformed or too long.
bool decode_base64(std::string_view text, char* out, size_t capacity, size_t& length) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.empty() || text.size() % 4 != 0 || text.size() / 4 * 3 > capacity) return false;
  length = 0;
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    for (int k = 0; k < 4; ++k) {
      v[k] = value(text[i + k]);
      // '=' only at the end: "xx==" or "xxx=".
      if (v[k] < 0 && !(last && text[i + k] == '=' && k >= 2 && (k == 3 || text[i + 3] == '=')))
        return false;
    }
    out[length++] = char(v[0] << 2 | v[1] >> 4);
    if (v[2] >= 0) out[length++] = char((v[1] & 0xf) << 4 | v[2] >> 2);
    if (v[2] >= 0 && v[3] >= 0) out[length++] = char((v[2] & 0x3) << 6 | v[3]);
  }
  return true;
}

}  // namespace

bool parse_password_hash(std::string_view text, BasicAuthOptions::Credential& out,
                         std::string& error) {
  if (starts_with(text, "$2y$") || starts_with(text, "$2b$") || starts_with(text, "$2a$")) {
    if (!valid_bcrypt(text)) {
      error = "malformed bcrypt hash (expected $2y$NN$ and 53 characters of ./A-Za-z0-9)";
      return false;
    }
    out.scheme = PasswordScheme::Bcrypt;
    out.hash = text;
    return true;
  }
  if (starts_with(text, "$5$") || starts_with(text, "$6$")) {
    const bool sha256 = text[1] == '5';
    if (!valid_sha_crypt(text, sha256 ? 43 : 86)) {
      error = std::string("malformed ") + (sha256 ? "$5$ sha256-crypt" : "$6$ sha512-crypt") +
              " hash (expected $N$[rounds=R$]salt$hash)";
      return false;
    }
    out.scheme = sha256 ? PasswordScheme::Sha256Crypt : PasswordScheme::Sha512Crypt;
    out.hash = text;
    return true;
  }
  if (starts_with(text, "{SHA256}")) {
    auto digest = base64_decode(text.substr(8));
    if (!digest || digest->size() != 32) {
      error = "malformed {SHA256} hash (expected the base64 of a 32-byte SHA-256 digest)";
      return false;
    }
    out.scheme = PasswordScheme::Sha256Base64;
    out.hash = std::move(*digest);
    return true;
  }
  std::string_view prefix = "plain text or DES crypt";
  if (!text.empty() && (text[0] == '$' || text[0] == '{')) {
    const size_t end = text.find(text[0] == '$' ? '$' : '}', 1);
    prefix = end == std::string_view::npos ? text.substr(0, 1) : text.substr(0, end + 1);
  }
  error = "unsupported hash '" + std::string(prefix) +
          "' (use bcrypt $2y$/$2b$ or SHA-256 {SHA256}/ $5$)";
  return false;
}

void parse_basic_auth_options(OptionReader& r, BasicAuthOptions& out) {
  r.allow_only({"users", "credentials", "realm", "strip_authorization", "cache_ttl", "cache_size"});
  std::filesystem::path users;
  if (r.read_path("users", users)) load_htpasswd(r, users, out.credentials);
  if (const nlohmann::json* list = r.get("credentials")) load_inline(r, *list, out.credentials);
  if (r.read("realm", out.realm)) {
    for (unsigned char ch : out.realm)
      if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
        r.fail("realm", "a realm holds no quotes, backslashes or control characters");
        break;
      }
  }
  r.read("strip_authorization", out.strip_authorization);
  r.read("cache_ttl", out.cache_ttl_s, 0, 86400);
  r.read("cache_size", out.cache_size, 1, 1'000'000);
  if (!r.ok()) return;
  if (out.credentials.empty()) {
    r.fail("needs users (an htpasswd file) or credentials, with at least one user");
    return;
  }
  std::sort(out.credentials.begin(), out.credentials.end(),
            [](const auto& a, const auto& b) { return a.user < b.user; });
  for (size_t i = 1; i < out.credentials.size(); ++i)
    if (out.credentials[i].user == out.credentials[i - 1].user) {
      r.fail("user '" + out.credentials[i].user + "' is defined twice");
      return;
    }
}

BasicAuth::BasicAuth(BasicAuthOptions options, Clock now)
    : options_(std::move(options)), now_(now) {
  std::sort(options_.credentials.begin(), options_.credentials.end(),
            [](const auto& a, const auto& b) { return a.user < b.user; });
  for (const auto& c : options_.credentials)
    if (!dummy_ || cost_rank(c) > cost_rank(*dummy_)) dummy_ = &c;
  www_authenticate_ = "Basic realm=\"" + options_.realm + "\", charset=\"UTF-8\"";
  if (RAND_bytes(cache_key_secret_.data(), int(cache_key_secret_.size())) != 1)
    options_.cache_ttl_s = 0;  // no secret for the cache keys: do without the cache
}

size_t BasicAuth::DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

bool BasicAuth::verify(std::string_view user, std::string_view password) const {
  auto it = std::lower_bound(options_.credentials.begin(), options_.credentials.end(), user,
                             [](const auto& c, std::string_view u) { return c.user < u; });
  const bool known = it != options_.credentials.end() && it->user == user;
  // An unknown user is checked against the most expensive stored hash all the same, so the
  // answer takes as long as for a known user with a wrong password: timing does not tell
  // which user names exist.
  const BasicAuthOptions::Credential& c = known ? *it : *dummy_;

  bool match = false;
  if (c.scheme == PasswordScheme::Sha256Base64) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const uint8_t*>(password.data()), password.size(), digest);
    match = CRYPTO_memcmp(digest, c.hash.data(), sizeof digest) == 0;
  } else {
    // crypt(3) takes a C string; a password holding NUL cannot match but is hashed anyway.
    char phrase[CRYPT_MAX_PASSPHRASE_SIZE];
    const bool fits =
        password.size() < sizeof phrase && password.find('\0') == std::string_view::npos;
    const size_t n = std::min(password.size(), sizeof phrase - 1);
    std::memcpy(phrase, password.data(), n);
    phrase[n] = '\0';
    // struct crypt_data is ~32 KB: one per thread rather than on the stack.
    thread_local crypt_data data;
    const char* hashed = crypt_rn(phrase, c.hash.c_str(), &data, sizeof data);
    match = fits && hashed && std::strlen(hashed) == c.hash.size() &&
            CRYPTO_memcmp(hashed, c.hash.data(), c.hash.size()) == 0;
    OPENSSL_cleanse(phrase, sizeof phrase);
  }
  return known && match;
}

// bcrypt is slow by design (50-100 ms at cost 10), and a browser sends the same
// Authorization header with every request after login. Successful verifications are
// remembered for cache_ttl seconds under HMAC-SHA256(per-instance random key, user:password),
// so a repeated request costs one HMAC and a map lookup (microseconds). The key is an HMAC,
// not a plain hash, so the cache's memory offers nothing cheaper to brute-force than bcrypt.
// Failures are never cached: every wrong guess pays the full hash.
bool BasicAuth::cached(const Digest& key) {
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  if (it->second > now_()) return true;
  cache_.erase(it);
  return false;
}

void BasicAuth::remember(const Digest& key) {
  const int64_t now = now_();
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= size_t(options_.cache_size)) {
    std::erase_if(cache_, [now](const auto& e) { return e.second <= now; });
    if (cache_.size() >= size_t(options_.cache_size)) {
      // Still full of live entries: drop the one closest to expiry (O(n), rare).
      auto oldest =
          std::min_element(cache_.begin(), cache_.end(),
                           [](const auto& a, const auto& b) { return a.second < b.second; });
      cache_.erase(oldest);
    }
  }
  cache_[key] = now + options_.cache_ttl_s * 1000;
}

RequestResult BasicAuth::challenge() const {
  RequestResult r;
  r.answer = text_response(401, "Unauthorized\n");
  r.answer->headers.add("WWW-Authenticate", www_authenticate_);
  return r;
}

BasicAuth::Attempt::~Attempt() { OPENSSL_cleanse(decoded, sizeof decoded); }

std::optional<RequestResult> BasicAuth::decide_without_hashing(http::Request& req, Attempt& a) {
  const std::string* header = req.headers.find("Authorization");
  std::string_view value = header ? trim(*header) : std::string_view();
  if (value.size() < 6 || !iequals(value.substr(0, 6), "Basic ") ||
      !decode_base64(trim(value.substr(6)), a.decoded, sizeof a.decoded, a.length)) {
    bump(metrics_.challenged);
    return challenge();
  }
  const size_t colon = std::string_view(a.decoded, a.length).find(':');
  if (colon == std::string_view::npos) {
    bump(metrics_.challenged);
    return challenge();
  }
  a.colon = colon;
  if (options_.cache_ttl_s <= 0) return std::nullopt;
  unsigned key_length = 0;
  HMAC(EVP_sha256(), cache_key_secret_.data(), int(cache_key_secret_.size()),
       reinterpret_cast<const uint8_t*>(a.decoded), a.length, a.key.data(), &key_length);
  if (!cached(a.key)) return std::nullopt;
  bump(metrics_.cache_hits);
  return decide(req, a, true);
}

RequestResult BasicAuth::decide(http::Request& req, Attempt& a, bool ok) {
  if (!ok) {
    bump(metrics_.denied);
    return challenge();
  }
  bump(metrics_.allowed);
  if (options_.strip_authorization) req.headers.remove("Authorization");
  return {};
}

RequestResult BasicAuth::on_request_now(const Context& c, http::Request& req) {
  Attempt a;
  if (auto answer = decide_without_hashing(req, a)) return std::move(*answer);
  const bool ok = verify(a.user(), a.password());
  if (ok && options_.cache_ttl_s > 0) remember(a.key);
  return decide(req, a, ok);
}

namespace {

boost::asio::thread_pool& hashing_pool() {
  static boost::asio::thread_pool pool(2);
  return pool;
}

// Runs check() on the hashing pool and resumes the caller on its own executor.
template <class Check>
auto on_hashing_pool(Check check) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(bool)>(
      [](auto handler, Check check) {
        auto home = boost::asio::get_associated_executor(handler);
        boost::asio::post(hashing_pool(),
                          [check = std::move(check), handler = std::move(handler), home]() mutable {
                            const bool ok = check();
                            boost::asio::post(home, [handler = std::move(handler), ok]() mutable {
                              std::move(handler)(ok);
                            });
                          });
      },
      boost::asio::use_awaitable, std::move(check));
}

}  // namespace

boost::asio::awaitable<RequestResult> BasicAuth::on_request(const Context& c, http::Request& req) {
  Attempt a;
  if (auto answer = decide_without_hashing(req, a)) co_return std::move(*answer);
  const bool ok = co_await on_hashing_pool([this, &a] { return verify(a.user(), a.password()); });
  if (ok && options_.cache_ttl_s > 0) remember(a.key);
  co_return decide(req, a, ok);
}

std::vector<MetricValue> BasicAuth::metrics() const {
  return {{"allowed", read(metrics_.allowed)},
          {"denied", read(metrics_.denied)},
          {"challenged", read(metrics_.challenged)},
          {"cache_hits", read(metrics_.cache_hits)}};
}

}  // namespace eg::functions::builtins
