// basic-auth (viewer-request): HTTP Basic authentication against an htpasswd file and/or
// inline credentials. Missing or wrong credentials answer 401 with WWW-Authenticate; right
// ones let the request go on, without its Authorization header unless told otherwise.
//
//   viewer-request: {builtin: basic-auth, users: auth/users.htpasswd, realm: staff}
//
// Options: users (htpasswd file), credentials ([{user, password_hash}]), realm ("edgeguard"),
// strip_authorization (true), cache_ttl (seconds a verified password is remembered, 300;
// 0 turns the cache off), cache_size (1024 entries).
// Hashes: bcrypt ($2y$, $2b$, $2a$), sha256-crypt ($5$), sha512-crypt ($6$), {SHA256}base64.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "functions/builtins/builtin.h"
#include "functions/builtins/options.h"

namespace eg::functions::builtins {

enum class PasswordScheme : uint8_t { Bcrypt, Sha256Crypt, Sha512Crypt, Sha256Base64 };

struct BasicAuthOptions {
  struct Credential {
    std::string user;
    PasswordScheme scheme = PasswordScheme::Bcrypt;
    std::string hash;  // crypt(3) string as written; {SHA256}: the 32 digest bytes
  };
  std::vector<Credential> credentials;  // from `users` and `credentials`, unique users
  std::string realm = "edgeguard";
  bool strip_authorization = true;
  int64_t cache_ttl_s = 300;
  int64_t cache_size = 1024;
};

void parse_basic_auth_options(OptionReader& r, BasicAuthOptions& out);

// One htpasswd entry's hash: its scheme and stored form, or an error such as
// "unsupported hash '$1$' (use bcrypt $2y$/$2b$ or SHA-256 {SHA256}/ $5$)".
bool parse_password_hash(std::string_view text, BasicAuthOptions::Credential& out,
                         std::string& error);

struct BasicAuthMetrics {
  std::atomic<uint64_t> allowed{0};
  std::atomic<uint64_t> denied{0};      // wrong user or password
  std::atomic<uint64_t> challenged{0};  // no or malformed Authorization header
  std::atomic<uint64_t> cache_hits{0};
};

class BasicAuth final : public BuiltinFunction {
 public:
  explicit BasicAuth(BasicAuthOptions options, Clock now = steady_now_ms);

  std::string_view name() const override { return "builtin basic-auth"; }
  // bcrypt costs ~60 ms at cost 10: the gateway runs a check that misses the cache on a
  // small hashing pool, so wrong guesses do not stall an event loop.
  bool asynchronous() const override { return true; }
  RequestResult on_request_now(const Context& c, http::Request& req) override;
  boost::asio::awaitable<RequestResult> on_request(const Context& c, http::Request& req) override;
  std::vector<MetricValue> metrics() const override;
  const BasicAuthMetrics& counters() const { return metrics_; }

 private:
  using Digest = std::array<uint8_t, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };

  // The credentials of one request, while they are checked; wiped when done.
  struct Attempt {
    char decoded[768];
    size_t length = 0;
    size_t colon = 0;
    Digest key{};
    ~Attempt();
    std::string_view user() const { return {decoded, colon}; }
    std::string_view password() const { return {decoded + colon + 1, length - colon - 1}; }
  };
  // The answer when it needs no hashing (no or malformed credentials, a cached login).
  std::optional<RequestResult> decide_without_hashing(http::Request& req, Attempt& a);
  RequestResult decide(http::Request& req, Attempt& a, bool ok);
  bool verify(std::string_view user, std::string_view password) const;
  bool cached(const Digest& key);
  void remember(const Digest& key);
  RequestResult challenge() const;

  BasicAuthOptions options_;                             // credentials sorted by user
  const BasicAuthOptions::Credential* dummy_ = nullptr;  // hashed for unknown users
  std::string www_authenticate_;
  Clock now_;
  std::array<uint8_t, 32> cache_key_secret_{};
  std::mutex cache_mutex_;
  std::unordered_map<Digest, int64_t, DigestHash> cache_;  // key → expiry (ms)
  BasicAuthMetrics metrics_;
};

}  // namespace eg::functions::builtins
