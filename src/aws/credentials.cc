#include "aws/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/shared_config.h"
#include "core/http_date.h"
#include "core/log.h"
#include "core/strings.h"

extern char** environ;

namespace eg::aws {
namespace {

using Clock = std::chrono::system_clock;

std::string format_time(Clock::time_point t) {
  int64_t s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  CivilTime c = civil_from_unix(s);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::optional<std::string> nonempty_env(const GetEnv& getenv, const char* name) {
  auto v = getenv(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

// ---- static ----

class StaticProvider : public CredentialProvider {
 public:
  explicit StaticProvider(Credentials c) : creds_(std::move(c)) {
    if (creds_.source.empty()) creds_.source = "static configuration";
  }
  std::string_view name() const override { return "static"; }
  ProviderResult load() override {
    if (creds_.access_key_id.empty() || creds_.secret_access_key.empty())
      return ProviderResult::error(
          "static credentials: access_key_id and secret_access_key must both be set");
    return ProviderResult::found(creds_);
  }

 private:
  Credentials creds_;
};

// ---- environment ----

class EnvironmentProvider : public CredentialProvider {
 public:
  explicit EnvironmentProvider(GetEnv getenv) : getenv_(std::move(getenv)) {}
  std::string_view name() const override { return "environment"; }
  ProviderResult load() override {
    auto id = nonempty_env(getenv_, "AWS_ACCESS_KEY_ID");
    auto secret = nonempty_env(getenv_, "AWS_SECRET_ACCESS_KEY");
    if (!id && !secret)
      return ProviderResult::not_found("environment: AWS_ACCESS_KEY_ID is not set");
    if (!id)
      return ProviderResult::error(
          "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (!secret)
      return ProviderResult::error(
          "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    if (auto t = nonempty_env(getenv_, "AWS_SESSION_TOKEN"))
      c.session_token = *t;
    else if (auto legacy = nonempty_env(getenv_, "AWS_SECURITY_TOKEN"))
      c.session_token = *legacy;
    // botocore's EnvProvider reads it too (set by tools that export temporary credentials).
    if (auto exp = nonempty_env(getenv_, "AWS_CREDENTIAL_EXPIRATION")) {
      auto t = parse_iso8601(*exp);
      if (!t)
        return ProviderResult::error("environment: AWS_CREDENTIAL_EXPIRATION '" + *exp +
                                     "' is not an ISO 8601 time such as 2026-05-01T12:00:00Z");
      c.expiration = *t;
    }
    c.source = "environment";
    return ProviderResult::found(std::move(c));
  }

 private:
  GetEnv getenv_;
};

// ---- credential_process ----

// Splits like POSIX shell words (quotes and backslashes), without running a shell: botocore
// does the same (shlex.split), so a command that works with the AWS CLI works here.
std::optional<std::vector<std::string>> split_command(std::string_view cmd, std::string& error) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < cmd.size(); ++i) {
    char c = cmd[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(cur)), cur.clear(), in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < cmd.size()) cur.push_back(cmd[++i]);
      continue;
    }
    if (c == '\'') {
      size_t end = cmd.find('\'', i + 1);
      if (end == std::string_view::npos) {
        error = "unterminated single quote";
        return std::nullopt;
      }
      cur.append(cmd.substr(i + 1, end - i - 1));
      i = end;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      for (; j < cmd.size() && cmd[j] != '"'; ++j) {
        if (cmd[j] == '\\' && j + 1 < cmd.size() &&
            std::string_view("\"\\$`\n").find(cmd[j + 1]) != std::string_view::npos)
          ++j;
        cur.push_back(cmd[j]);
      }
      if (j >= cmd.size()) {
        error = "unterminated double quote";
        return std::nullopt;
      }
      i = j;
      continue;
    }
    cur.push_back(c);
  }
  if (in_word) words.push_back(std::move(cur));
  if (words.empty()) {
    error = "the command is empty";
    return std::nullopt;
  }
  return words;
}

struct ProcessOutput {
  int exit_status = -1;  // exit code, or -1 when killed / not run
  std::string out, err;
  std::string error;  // could not run / timed out
};

ProcessOutput run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  constexpr size_t kMaxOutput = 1 << 20;
  ProcessOutput r;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    r.error = "cannot run '" + argv[0] + "': " + std::strerror(rc);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  char buf[8192];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[k].fd, buf, sizeof buf);
      if (got <= 0) {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
        continue;
      }
      std::string& dst = k == 0 ? r.out : r.err;
      if (dst.size() < kMaxOutput) dst.append(buf, std::min<size_t>(got, kMaxOutput - dst.size()));
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    r.error = "timed out after " + std::to_string(timeout.count()) + " ms (killed)";
    return r;
  }
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.error = "killed by signal " + std::to_string(WTERMSIG(status));
  return r;
}

class ProcessProvider : public CredentialProvider {
 public:
  ProcessProvider(std::string command, std::string origin, std::chrono::milliseconds timeout)
      : command_(std::move(command)), origin_(std::move(origin)), timeout_(timeout) {}
  std::string_view name() const override { return "credential_process"; }
  ProviderResult load() override {
    std::string error;
    auto argv = split_command(command_, error);
    if (!argv) return ProviderResult::error(origin_ + ": credential_process: " + error);
    ProcessOutput out = run_process(*argv, timeout_);
    if (!out.error.empty())
      return ProviderResult::error(origin_ + ": credential_process '" + command_ +
                                   "': " + out.error);
    if (out.exit_status != 0) {
      std::string err = out.err;
      while (!err.empty() && std::isspace(static_cast<unsigned char>(err.back()))) err.pop_back();
      if (err.size() > 500) err = err.substr(0, 500) + "...";
      return ProviderResult::error(origin_ + ": credential_process '" + command_ +
                                   "' exited with status " + std::to_string(out.exit_status) +
                                   (err.empty() ? "" : ": " + err));
    }
    auto r = parse_process_output(out.out, origin_ + ": credential_process '" + command_ + "'");
    if (r.status == ProviderResult::Status::kFound)
      r.credentials.source = origin_ + ", credential_process";
    return r;
  }

 private:
  std::string command_;
  std::string origin_;
  std::chrono::milliseconds timeout_;
};

// ---- shared files ----

std::string expand_home(const std::string& path, const GetEnv& getenv) {
  if (path.empty() || path[0] != '~') return path;
  auto home = nonempty_env(getenv, "HOME");
  return (home ? *home : std::string()) + path.substr(1);
}

// The profile's keys from one file, or nothing when the profile is not there.
struct ProfileKeys {
  const SharedConfigSection* section = nullptr;
  std::string file;
};

class SharedFilesProvider : public CredentialProvider {
 public:
  explicit SharedFilesProvider(const ChainOptions& o) : options_(o) {}
  std::string_view name() const override { return "shared files"; }

  ProviderResult load() override {
    const GetEnv& env = options_.getenv;
    std::string profile = options_.profile;
    bool explicit_profile = !profile.empty();
    if (profile.empty()) {
      if (auto p = nonempty_env(env, "AWS_PROFILE")) {
        profile = *p;
        explicit_profile = true;
      } else if (auto legacy = nonempty_env(env, "AWS_DEFAULT_PROFILE")) {
        profile = *legacy;
        explicit_profile = true;
      } else {
        profile = "default";
      }
    }
    std::string cred_path = options_.credentials_file;
    if (cred_path.empty())
      cred_path = nonempty_env(env, "AWS_SHARED_CREDENTIALS_FILE").value_or("~/.aws/credentials");
    std::string config_path = options_.config_file;
    if (config_path.empty())
      config_path = nonempty_env(env, "AWS_CONFIG_FILE").value_or("~/.aws/config");
    cred_path = expand_home(cred_path, env);
    config_path = expand_home(config_path, env);

    SharedConfigFile cred_file, config_file;
    std::string error;
    if (!load_shared_config_file(cred_path, SharedConfigKind::kCredentials, cred_file, error))
      return ProviderResult::error(error);
    if (!load_shared_config_file(config_path, SharedConfigKind::kConfig, config_file, error))
      return ProviderResult::error(error);

    const SharedConfigSection* in_cred = cred_file.profile(profile);
    const SharedConfigSection* in_config = config_file.profile(profile);
    if (!in_cred && !in_config) {
      std::string where = "profile '" + profile + "' is in neither " + cred_path +
                          (cred_file.exists ? "" : " (no such file)") + " nor " + config_path +
                          (config_file.exists ? "" : " (no such file)");
      return explicit_profile ? ProviderResult::error("shared files: " + where)
                              : ProviderResult::not_found("shared files: " + where);
    }

    if (in_cred && in_cred->has("aws_access_key_id"))
      return keys_from(*in_cred, cred_path, profile);
    for (auto [section, path] :
         {std::pair{in_cred, &cred_path}, std::pair{in_config, &config_path}}) {
      if (!section) continue;
      if (const std::string* cmd = section->get("credential_process")) {
        std::string origin = *path + " [profile " + profile + "]";
        return ProcessProvider(*cmd, origin, options_.process_timeout).load();
      }
    }
    if (in_config && in_config->has("aws_access_key_id"))
      return keys_from(*in_config, config_path, profile);
    if (in_cred && in_cred->has("aws_secret_access_key"))
      return keys_from(*in_cred, cred_path, profile);

    // Profiles edgeguard cannot resolve on its own: say so rather than "not found".
    for (auto [section, path] :
         {std::pair{in_cred, &cred_path}, std::pair{in_config, &config_path}}) {
      if (!section) continue;
      for (const char* key :
           {"role_arn", "sso_session", "sso_start_url", "web_identity_token_file"})
        if (section->has(key))
          return ProviderResult::error(
              *path + " [profile " + profile + "]: '" + key +
              "' credentials are not supported by edgeguard; use credential_process (for "
              "example `credential_process = aws configure export-credentials --profile " +
              profile + " --format process`) or static keys");
    }
    return ProviderResult::not_found("shared files: profile '" + profile +
                                     "' has no aws_access_key_id or credential_process");
  }

 private:
  static ProviderResult keys_from(const SharedConfigSection& s, const std::string& path,
                                  const std::string& profile) {
    std::string where = path + " [profile " + profile + "]";
    const std::string* id = s.get("aws_access_key_id");
    const std::string* secret = s.get("aws_secret_access_key");
    if (!id || id->empty())
      return ProviderResult::error(where + " (line " + std::to_string(s.line) +
                                   "): aws_access_key_id is missing or empty");
    if (!secret || secret->empty())
      return ProviderResult::error(where + " (line " +
                                   std::to_string(s.line_of("aws_access_key_id")) +
                                   "): aws_access_key_id is set but aws_secret_access_key is " +
                                   (secret ? "empty" : "missing"));
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    if (const std::string* t = s.get("aws_session_token"))
      c.session_token = *t;
    else if (const std::string* legacy = s.get("aws_security_token"))
      c.session_token = *legacy;
    c.source = "shared file " + where;
    return ProviderResult::found(std::move(c));
  }

  ChainOptions options_;
};

// ---- chain ----

class ChainProvider : public CredentialProvider {
 public:
  explicit ChainProvider(std::vector<std::unique_ptr<CredentialProvider>> p)
      : providers_(std::move(p)) {}
  std::string_view name() const override { return "chain"; }
  ProviderResult load() override {
    std::string tried;
    for (auto& p : providers_) {
      ProviderResult r = p->load();
      if (r.status != ProviderResult::Status::kNotFound) return r;
      if (!tried.empty()) tried += "; ";
      tried += r.message;
    }
    return ProviderResult::not_found("no AWS credentials found (" + tried + ")");
  }

 private:
  std::vector<std::unique_ptr<CredentialProvider>> providers_;
};

}  // namespace

GetEnv process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::unique_ptr<CredentialProvider> make_static_provider(Credentials c) {
  return std::make_unique<StaticProvider>(std::move(c));
}
std::unique_ptr<CredentialProvider> make_environment_provider(GetEnv getenv) {
  return std::make_unique<EnvironmentProvider>(std::move(getenv));
}
std::unique_ptr<CredentialProvider> make_shared_files_provider(const ChainOptions& options) {
  return std::make_unique<SharedFilesProvider>(options);
}
std::unique_ptr<CredentialProvider> make_process_provider(std::string command,
                                                          std::string origin_for_messages,
                                                          std::chrono::milliseconds timeout) {
  return std::make_unique<ProcessProvider>(std::move(command), std::move(origin_for_messages),
                                           timeout);
}

std::unique_ptr<CredentialProvider> make_default_chain(const ChainOptions& options) {
  std::vector<std::unique_ptr<CredentialProvider>> p;
  if (options.static_credentials) p.push_back(make_static_provider(*options.static_credentials));
  if (options.use_environment) p.push_back(make_environment_provider(options.getenv));
  if (options.use_shared_files) p.push_back(make_shared_files_provider(options));
  return std::make_unique<ChainProvider>(std::move(p));
}

ProviderResult parse_process_output(std::string_view json, std::string_view origin) {
  std::string where(origin);
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return ProviderResult::error(where + ": the output is not a JSON object");
  auto version = doc.find("Version");
  if (version == doc.end())
    return ProviderResult::error(where + ": the output has no \"Version\" (expected 1)");
  if (!version->is_number_integer() || version->get<int64_t>() != 1)
    return ProviderResult::error(where + ": unsupported \"Version\" " + version->dump() +
                                 " (only 1 is supported)");
  auto string_field = [&](const char* name, bool required,
                          std::string& out) -> std::optional<ProviderResult> {
    auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) {
      if (required)
        return ProviderResult::error(where + ": the output has no \"" + std::string(name) + "\"");
      return std::nullopt;
    }
    if (!it->is_string())
      return ProviderResult::error(where + ": \"" + std::string(name) + "\" is not a string");
    out = it->get<std::string>();
    if (required && out.empty())
      return ProviderResult::error(where + ": \"" + std::string(name) + "\" is empty");
    return std::nullopt;
  };
  Credentials c;
  std::string expiration;
  if (auto e = string_field("AccessKeyId", true, c.access_key_id)) return *e;
  if (auto e = string_field("SecretAccessKey", true, c.secret_access_key)) return *e;
  if (auto e = string_field("SessionToken", false, c.session_token)) return *e;
  if (auto e = string_field("Expiration", false, expiration)) return *e;
  if (!expiration.empty()) {
    auto t = parse_iso8601(expiration);
    if (!t)
      return ProviderResult::error(where + ": \"Expiration\" '" + expiration +
                                   "' is not an ISO 8601 time such as 2026-05-01T12:00:00Z");
    c.expiration = *t;
  }
  c.source = where;
  return ProviderResult::found(std::move(c));
}

std::optional<Clock::time_point> parse_iso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM|+HHMM)
  auto digits = [&](size_t at, size_t n) -> int {
    if (at + n > s.size()) return -1;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
      se = digits(17, 2);
  // Years are bounded so that the instant fits system_clock's nanoseconds (to 2262).
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || se < 0 || se > 60)
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100000;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      micros += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '+' ? 1 : -1;
    int oh = digits(i + 1, 2);
    int om;
    size_t end;
    if (i + 3 < s.size() && s[i + 3] == ':') {
      om = digits(i + 4, 2);
      end = i + 6;
    } else {
      om = digits(i + 3, 2);
      end = i + 5;
    }
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset = sign * (oh * 3600 + om * 60);
    i = end;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  return Clock::time_point(std::chrono::seconds(secs)) + std::chrono::microseconds(micros);
}

// ---- RefreshingCredentials ----

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialProvider> provider)
    : RefreshingCredentials(std::move(provider), Options{}) {}

namespace {

std::atomic<uint64_t> next_generation{1};
uint64_t new_generation() { return next_generation.fetch_add(1, std::memory_order_relaxed); }

// What current() handed a thread last, per source (a worker signs for a few at most).
struct ThreadCopy {
  const void* owner = nullptr;
  uint64_t generation = 0;
  std::shared_ptr<const Credentials> credentials;
};
struct ThreadCopies {
  static constexpr size_t kSize = 4;
  ThreadCopy slots[kSize];
  size_t next = 0;
};
thread_local ThreadCopies thread_copies;

}  // namespace

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialProvider> provider,
                                             Options options)
    : provider_(std::move(provider)), options_(options), generation_(new_generation()) {}

RefreshingCredentials::~RefreshingCredentials() { stop(); }

void RefreshingCredentials::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void RefreshingCredentials::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RefreshingCredentials::refresh_now() {
  {
    std::lock_guard lk(mu_);
    refresh_requested_ = true;
  }
  cv_.notify_all();
}

void RefreshingCredentials::on_refreshed(
    std::function<void(const std::shared_ptr<const Credentials>&)> callback) {
  std::lock_guard lk(mu_);
  on_refreshed_ = std::move(callback);
}

uint64_t RefreshingCredentials::successful_loads() const {
  std::lock_guard lk(mu_);
  return successes_;
}
uint64_t RefreshingCredentials::failed_loads() const {
  std::lock_guard lk(mu_);
  return failures_;
}

RefreshingCredentials::Current RefreshingCredentials::current() const {
  Current c;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  for (const auto& slot : thread_copies.slots) {
    if (slot.owner != this || slot.generation != generation || !slot.credentials) continue;
    const Credentials& cur = *slot.credentials;
    if (cur.expiration && cur.expires_within(Clock::now(), std::chrono::seconds(0))) break;
    c.credentials = slot.credentials;
    return c;
  }

  std::lock_guard lk(mu_);
  auto now = Clock::now();
  if (current_ && !current_->expires_within(now, std::chrono::seconds(0))) {
    ThreadCopy* slot = nullptr;
    for (auto& s : thread_copies.slots)
      if (s.owner == this) slot = &s;
    if (!slot) {
      slot = &thread_copies.slots[thread_copies.next];
      thread_copies.next = (thread_copies.next + 1) % ThreadCopies::kSize;
    }
    *slot = {this, generation_.load(std::memory_order_relaxed), current_};
    c.credentials = current_;
    return c;
  }
  if (current_)
    c.error = "the AWS credentials from " + current_->source + " expired at " +
              format_time(*current_->expiration) +
              (last_error_.empty() ? " and have not been refreshed yet"
                                   : "; refreshing them failed: " + last_error_);
  else if (!last_error_.empty())
    c.error = last_error_;
  else
    c.error = "the AWS credentials are still loading";
  return c;
}

bool RefreshingCredentials::wait_first_load(std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, timeout, [this] { return first_load_done_ || stopping_; });
  return current_ && !current_->expires_within(Clock::now(), std::chrono::seconds(0));
}

void RefreshingCredentials::run() {
  std::chrono::milliseconds retry = options_.retry_delay;
  std::unique_lock lk(mu_);
  while (!stopping_) {
    lk.unlock();
    ProviderResult res = provider_->load();
    auto now = Clock::now();
    lk.lock();
    if (stopping_) break;

    std::optional<std::chrono::milliseconds> wait;  // nullopt: until asked
    std::shared_ptr<const Credentials> fresh;
    if (res.status == ProviderResult::Status::kFound &&
        res.credentials.expires_within(now, std::chrono::seconds(0))) {
      res =
          ProviderResult::error(res.credentials.source + " returned credentials that expired at " +
                                format_time(*res.credentials.expiration));
    }
    if (res.status == ProviderResult::Status::kFound) {
      fresh = std::make_shared<const Credentials>(std::move(res.credentials));
      current_ = fresh;
      generation_.store(new_generation(), std::memory_order_release);
      last_error_.clear();
      ++successes_;
      retry = options_.retry_delay;
      if (fresh->expiration) {
        auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(*fresh->expiration - now);
        // Reload refresh_ahead before expiry, or halfway for short-lived credentials.
        auto ahead = std::min<std::chrono::milliseconds>(options_.refresh_ahead, remaining / 2);
        wait =
            std::max<std::chrono::milliseconds>(remaining - ahead, std::chrono::milliseconds(500));
      }
      log::debug("AWS credentials loaded from {}", fresh->source);
    } else {
      ++failures_;
      last_error_ = res.message;
      wait = retry;
      retry = std::min(retry * 2, options_.max_retry_delay);
      log::warn("AWS credentials: {} (retrying in {} ms)", res.message, wait->count());
    }
    first_load_done_ = true;
    cv_.notify_all();
    if (fresh && on_refreshed_) {
      auto cb = on_refreshed_;
      lk.unlock();
      cb(fresh);
      lk.lock();
    }
    auto wake = [this] { return stopping_ || refresh_requested_; };
    if (wait)
      cv_.wait_for(lk, *wait, wake);
    else
      cv_.wait(lk, wake);
    refresh_requested_ = false;
  }
}

}  // namespace eg::aws
