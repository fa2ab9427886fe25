// AWS credentials and the standard provider chain: static (from config), environment, the
// shared credentials/config files with profiles, and credential_process.
//
// Loading is blocking (it reads files and may run a process): never call a provider on an
// event loop. RefreshingCredentials does the loading on its own thread and hands readers the
// current credentials without blocking.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eg::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  // Absent for credentials that do not expire (static, environment, shared files).
  std::optional<std::chrono::system_clock::time_point> expiration;
  // Where they came from, for messages ("environment", "shared credentials file
  // /root/.aws/credentials, profile default", ...). Never holds a secret.
  std::string source;

  // True when `now` is past the expiration minus `margin`.
  bool expires_within(std::chrono::system_clock::time_point now,
                      std::chrono::seconds margin) const {
    return expiration && now + margin >= *expiration;
  }
};

// What one provider found. kNotFound lets the chain try the next provider; kError stops it
// (the provider was configured but broken: a profile without a secret, a failing process),
// the way the AWS SDKs do.
struct ProviderResult {
  enum class Status : uint8_t { kFound, kNotFound, kError };
  Status status = Status::kNotFound;
  Credentials credentials;  // when kFound
  std::string message;      // why not found / what is wrong (names the file, profile, key)

  static ProviderResult found(Credentials c) { return {Status::kFound, std::move(c), {}}; }
  static ProviderResult not_found(std::string why) {
    return {Status::kNotFound, {}, std::move(why)};
  }
  static ProviderResult error(std::string what) { return {Status::kError, {}, std::move(what)}; }
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  virtual std::string_view name() const = 0;
  // Blocking. Safe to call from one thread at a time.
  virtual ProviderResult load() = 0;
};

// Environment lookup, injectable for tests. Default: std::getenv.
using GetEnv = std::function<std::optional<std::string>(const char* name)>;
GetEnv process_environment();

struct ChainOptions {
  // From edgeguard's own config; tried first when set.
  std::optional<Credentials> static_credentials;
  // Profile name; empty: AWS_PROFILE, then "default". A profile named here or in AWS_PROFILE
  // that exists in neither file is an error, not a fall-through.
  std::string profile;
  bool use_environment = true;   // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
  bool use_shared_files = true;  // ~/.aws/credentials, ~/.aws/config (+ credential_process)
  // Overrides of AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE (which override ~/.aws/...).
  std::string credentials_file;
  std::string config_file;
  std::chrono::milliseconds process_timeout{60000};  // credential_process run time limit
  GetEnv getenv = process_environment();
};

// The providers in order: static, environment, shared files (credentials file, then
// credential_process, then the config file, for the selected profile).
std::unique_ptr<CredentialProvider> make_default_chain(const ChainOptions& options);

// Individual providers (the chain is made of these; tests use them alone).
std::unique_ptr<CredentialProvider> make_static_provider(Credentials c);
std::unique_ptr<CredentialProvider> make_environment_provider(GetEnv getenv);
std::unique_ptr<CredentialProvider> make_shared_files_provider(const ChainOptions& options);
// Runs `command` (split like a shell would split words, but not run by a shell) and parses
// its stdout: {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}.
std::unique_ptr<CredentialProvider> make_process_provider(std::string command,
                                                          std::string origin_for_messages,
                                                          std::chrono::milliseconds timeout);

// Parses credential_process output. `origin` names the command/profile in error messages.
ProviderResult parse_process_output(std::string_view json, std::string_view origin);

// ISO 8601 / RFC 3339 instants as AWS writes them: "2026-05-01T12:00:00Z",
// "2026-05-01T12:00:00.123Z", "2026-05-01T12:00:00+02:00".
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s);

// Loads credentials once through a provider and keeps them fresh on a background thread.
//
//   RefreshingCredentials creds(make_default_chain(opts));
//   creds.start();
//   creds.wait_first_load(std::chrono::seconds(5));
//   auto cur = creds.current();          // never blocks
//   if (!cur.credentials) answer_503(cur.error);
class RefreshingCredentials {
 public:
  struct Options {
    // Credentials with an expiration are reloaded this long before it.
    std::chrono::seconds refresh_ahead{300};
    // After a failed load: first retry delay, doubled up to max_retry_delay.
    std::chrono::milliseconds retry_delay{1000};
    std::chrono::milliseconds max_retry_delay{60000};
  };
  struct Current {
    std::shared_ptr<const Credentials> credentials;  // null when none are valid now
    std::string error;                               // why, when null
  };

  explicit RefreshingCredentials(std::unique_ptr<CredentialProvider> provider);
  RefreshingCredentials(std::unique_ptr<CredentialProvider> provider, Options options);
  ~RefreshingCredentials();  // stops and joins the thread
  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;

  void start();  // starts the thread; the first load begins at once
  void stop();

  // The credentials valid now (not expired), or an error naming why there are none.
  // Cheap: while they have not changed, a per-thread copy checked with one atomic load (the
  // mutex, never held while loading, only after a change or when there are none).
  Current current() const;
  // Blocks until the first load attempt finished (success or failure) or `timeout`
  // passed. Returns true when valid credentials are available.
  bool wait_first_load(std::chrono::milliseconds timeout) const;
  // Asks the thread to reload now (e.g. after an origin answered 403 ExpiredToken).
  void refresh_now();
  // Called on the refresh thread after every successful load (keep it short: post to your
  // own loop). Set before start().
  void on_refreshed(std::function<void(const std::shared_ptr<const Credentials>&)> callback);

  uint64_t successful_loads() const;
  uint64_t failed_loads() const;

 private:
  void run();

  std::unique_ptr<CredentialProvider> provider_;
  Options options_;
  std::function<void(const std::shared_ptr<const Credentials>&)> on_refreshed_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::shared_ptr<const Credentials> current_;
  // Changes with current_ (under mu_), to a value no instance had before: a thread's copy of
  // (this, generation_, current_) is current_ while generation_ still holds that value.
  std::atomic<uint64_t> generation_;
  std::string last_error_;
  bool first_load_done_ = false;
  bool stopping_ = false;
  bool refresh_requested_ = false;
  uint64_t successes_ = 0;
  uint64_t failures_ = 0;
  std::thread thread_;
};

}  // namespace eg::aws
