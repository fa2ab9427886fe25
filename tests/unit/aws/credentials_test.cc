// The credential chain as a user meets it: environment variables, the shared files with
// profiles, credential_process (a real script the test writes), and the refreshing holder.
#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "aws/shared_config.h"

namespace eg::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Status = ProviderResult::Status;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "eg-creds-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path path() const { return path_; }
  std::string write(const std::string& name, const std::string& text, bool exec = false) const {
    fs::path p = path_ / name;
    std::ofstream(p) << text;
    if (exec) chmod(p.c_str(), 0755);
    return p.string();
  }

 private:
  fs::path path_;
};

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// ---- environment ----

TEST(EnvironmentProvider, ReadsKeysAndToken) {
  auto p = make_environment_provider(env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                             {"AWS_SECRET_ACCESS_KEY", "secretenv"},
                                             {"AWS_SESSION_TOKEN", "tok"}}));
  auto r = p->load();
  ASSERT_EQ(r.status, Status::kFound) << r.message;
  EXPECT_EQ(r.credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(r.credentials.secret_access_key, "secretenv");
  EXPECT_EQ(r.credentials.session_token, "tok");
  EXPECT_EQ(r.credentials.source, "environment");
}

TEST(EnvironmentProvider, AbsentIsNotFoundAndHalfSetIsAnError) {
  EXPECT_EQ(make_environment_provider(env_of({}))->load().status, Status::kNotFound);
  auto r = make_environment_provider(env_of({{"AWS_ACCESS_KEY_ID", "AKID"}}))->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.message, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

// ---- shared files ----

struct Files {
  TempDir dir;
  std::string credentials, config;
  ChainOptions options(std::map<std::string, std::string> env = {}) const {
    ChainOptions o;
    o.credentials_file = credentials;
    o.config_file = config;
    o.getenv = env_of(std::move(env));
    o.use_environment = false;
    return o;
  }
};

Files make_files(const std::string& credentials, const std::string& config) {
  Files f;
  f.credentials = f.dir.write("credentials", credentials);
  f.config = f.dir.write("config", config);
  return f;
}

TEST(SharedFiles, DefaultProfileFromTheCredentialsFile) {
  auto f = make_files(
      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secret/default\n\n[work]\naws_access_key_id = AKIDWORK\n"
      "aws_secret_access_key = secretwork\naws_session_token = worktoken\n",
      "");
  auto r = make_shared_files_provider(f.options())->load();
  ASSERT_EQ(r.status, Status::kFound) << r.message;
  EXPECT_EQ(r.credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(r.credentials.secret_access_key, "secret/default");
  EXPECT_EQ(r.credentials.source, "shared file " + f.credentials + " [profile default]");
}

TEST(SharedFiles, ProfileFromOptionOrAwsProfile) {
  auto f = make_files(
      "[default]\naws_access_key_id=A\naws_secret_access_key=B\n"
      "[work]\nAWS_ACCESS_KEY_ID = AKIDWORK\naws_secret_access_key = secretwork\n"
      "aws_session_token = worktoken\n",
      "");
  auto o = f.options({{"AWS_PROFILE", "work"}});
  auto r = make_shared_files_provider(o)->load();
  ASSERT_EQ(r.status, Status::kFound) << r.message;
  EXPECT_EQ(r.credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(r.credentials.session_token, "worktoken");
  o = f.options();
  o.profile = "work";
  EXPECT_EQ(make_shared_files_provider(o)->load().credentials.access_key_id, "AKIDWORK");
}

TEST(SharedFiles, ConfigFileUsesProfilePrefixedSections) {
  auto f = make_files("",
                      "[default]\nregion = eu-west-1\n"
                      "[profile ops]\nregion = us-east-1\naws_access_key_id = AKIDOPS\n"
                      "aws_secret_access_key = secretops\n"
                      "s3 =\n  max_concurrent_requests = 20\n"
                      "[ops]\naws_access_key_id = IGNORED\naws_secret_access_key = IGNORED\n"
                      "[sso-session corp]\nsso_region = us-east-1\n");
  auto o = f.options();
  o.profile = "ops";
  auto r = make_shared_files_provider(o)->load();
  ASSERT_EQ(r.status, Status::kFound) << r.message;
  EXPECT_EQ(r.credentials.access_key_id, "AKIDOPS");
  EXPECT_EQ(r.credentials.source, "shared file " + f.config + " [profile ops]");
}

TEST(SharedFiles, CredentialsFileWinsOverConfigFile) {
  auto f = make_files("[p]\naws_access_key_id = FROMCRED\naws_secret_access_key = s1\n",
                      "[profile p]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s2\n");
  auto o = f.options();
  o.profile = "p";
  EXPECT_EQ(make_shared_files_provider(o)->load().credentials.access_key_id, "FROMCRED");
}

TEST(SharedFiles, MissingSecretNamesFileProfileAndKey) {
  auto f = make_files("[default]\nregion=x\n[broken]\naws_access_key_id = AKID\n", "");
  auto o = f.options();
  o.profile = "broken";
  auto r = make_shared_files_provider(o)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.message, f.credentials +
                           " [profile broken] (line 4): aws_access_key_id is set but "
                           "aws_secret_access_key is missing");
}

TEST(SharedFiles, ExplicitProfileThatDoesNotExistIsAnError) {
  auto f = make_files("[default]\naws_access_key_id=A\naws_secret_access_key=B\n", "");
  auto o = f.options({{"AWS_PROFILE", "nope"}});
  auto r = make_shared_files_provider(o)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_NE(r.message.find("profile 'nope' is in neither " + f.credentials), std::string::npos)
      << r.message;
}

TEST(SharedFiles, NoFilesIsNotFound) {
  TempDir d;
  ChainOptions o;
  o.credentials_file = (d.path() / "absent-credentials").string();
  o.config_file = (d.path() / "absent-config").string();
  o.getenv = env_of({});
  auto r = make_shared_files_provider(o)->load();
  EXPECT_EQ(r.status, Status::kNotFound);
  EXPECT_NE(r.message.find("(no such file)"), std::string::npos);
}

TEST(SharedFiles, EnvironmentVariablesNameTheFiles) {
  auto f = make_files("[default]\naws_access_key_id=VIAENV\naws_secret_access_key=B\n", "");
  ChainOptions o;
  o.getenv = env_of({{"AWS_SHARED_CREDENTIALS_FILE", f.credentials},
                     {"AWS_CONFIG_FILE", f.config},
                     {"HOME", "/nonexistent"}});
  o.use_environment = false;
  EXPECT_EQ(make_shared_files_provider(o)->load().credentials.access_key_id, "VIAENV");
  // And ~ expands to HOME.
  ChainOptions h;
  h.getenv = env_of({{"HOME", f.dir.path().string()}});
  h.credentials_file = "~/credentials";
  h.config_file = "~/config";
  EXPECT_EQ(make_shared_files_provider(h)->load().credentials.access_key_id, "VIAENV");
}

TEST(SharedFiles, SyntaxErrorsNameFileAndLine) {
  auto f = make_files("[default]\naws_access_key_id = A\nthis line has no equals sign\n", "");
  auto r = make_shared_files_provider(f.options())->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.message, f.credentials +
                           ":3: expected 'key = value' or '[section]', not 'this line has no "
                           "equals sign'");
  auto g = make_files("", "region = x\n");
  r = make_shared_files_provider(g.options())->load();
  EXPECT_EQ(r.message, g.config + ":1: 'region' is outside any [section]");
  auto h = make_files("[default\n", "");
  EXPECT_EQ(make_shared_files_provider(h.options())->load().message,
            h.credentials + ":1: section header without a closing ']'");
}

TEST(SharedFiles, AssumeRoleProfilesSayWhatToDoInstead) {
  auto f = make_files(
      "", "[profile admin]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
  auto o = f.options();
  o.profile = "admin";
  auto r = make_shared_files_provider(o)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_NE(r.message.find("'role_arn' credentials are not supported"), std::string::npos);
  EXPECT_NE(r.message.find("credential_process"), std::string::npos);
}

// ---- credential_process ----

TEST(CredentialProcess, RunsTheCommandWithArgumentsAndParsesVersion1) {
  TempDir d;
  std::string script = d.write("creds.sh",
                               "#!/bin/sh\n"
                               "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
                               "\"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\", "
                               "\"Expiration\": \"2030-01-02T03:04:05Z\"}' \"$1\" \"$2\"\n",
                               true);
  auto f = make_files(
      "", "[profile proc]\ncredential_process = " + script + " 'secret with spaces' \"tok\"\n");
  f.dir.write("unused", "");
  auto o = f.options();
  o.profile = "proc";
  auto r = make_shared_files_provider(o)->load();
  ASSERT_EQ(r.status, Status::kFound) << r.message;
  EXPECT_EQ(r.credentials.access_key_id, "AKIDPROC");
  EXPECT_EQ(r.credentials.secret_access_key, "secret with spaces");
  EXPECT_EQ(r.credentials.session_token, "tok");
  ASSERT_TRUE(r.credentials.expiration);
  EXPECT_EQ(*r.credentials.expiration, *parse_iso8601("2030-01-02T03:04:05Z"));
  EXPECT_EQ(r.credentials.source, f.config + " [profile proc], credential_process");
}

TEST(CredentialProcess, FailuresSayWhatHappened) {
  TempDir d;
  std::string failing =
      d.write("fail.sh", "#!/bin/sh\necho 'token expired, run aws sso login' >&2\nexit 3\n", true);
  auto r = make_process_provider(failing, "profile x", 5s)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.message, "profile x: credential_process '" + failing +
                           "' exited with status 3: token expired, run aws sso login");

  r = make_process_provider(d.path().string() + "/does-not-exist", "profile x", 5s)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_NE(r.message.find("cannot run"), std::string::npos) << r.message;

  std::string slow = d.write("slow.sh", "#!/bin/sh\nexec sleep 10\n", true);
  auto t0 = std::chrono::steady_clock::now();
  r = make_process_provider(slow, "profile x", 300ms)->load();
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_NE(r.message.find("timed out after 300 ms"), std::string::npos) << r.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  r = make_process_provider("'unterminated", "profile x", 1s)->load();
  EXPECT_NE(r.message.find("unterminated single quote"), std::string::npos);
}

TEST(CredentialProcess, OutputIsValidated) {
  auto bad = [](std::string_view json) { return parse_process_output(json, "cmd").message; };
  EXPECT_EQ(bad("not json"), "cmd: the output is not a JSON object");
  EXPECT_EQ(bad("{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\"}"),
            "cmd: the output has no \"Version\" (expected 1)");
  EXPECT_EQ(bad("{\"Version\":2,\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\"}"),
            "cmd: unsupported \"Version\" 2 (only 1 is supported)");
  EXPECT_EQ(bad("{\"Version\":1,\"SecretAccessKey\":\"b\"}"),
            "cmd: the output has no \"AccessKeyId\"");
  EXPECT_EQ(bad("{\"Version\":1,\"AccessKeyId\":\"a\",\"SecretAccessKey\":5}"),
            "cmd: \"SecretAccessKey\" is not a string");
  EXPECT_EQ(bad("{\"Version\":1,\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\","
                "\"Expiration\":\"tomorrow\"}"),
            "cmd: \"Expiration\" 'tomorrow' is not an ISO 8601 time such as 2026-05-01T12:00:00Z");
  auto ok = parse_process_output("{\"Version\":1,\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\"}",
                                 "cmd");
  EXPECT_EQ(ok.status, Status::kFound);
  EXPECT_FALSE(ok.credentials.expiration);
}

TEST(Iso8601, FormsAwsWrites) {
  auto base = *parse_iso8601("2026-05-01T12:00:00Z");
  EXPECT_EQ(*parse_iso8601("2026-05-01T12:00:00.500Z"), base + 500ms);
  EXPECT_EQ(*parse_iso8601("2026-05-01T14:00:00+02:00"), base);
  EXPECT_EQ(*parse_iso8601("2026-05-01T07:00:00-0500"), base);
  EXPECT_FALSE(parse_iso8601("2026-05-01 12:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-02-30T12:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-05-01T12:00:00"));
  EXPECT_FALSE(parse_iso8601("2026-05-01T12:00:00Zjunk"));
}

// ---- chain ----

TEST(Chain, OrderIsStaticThenEnvironmentThenFiles) {
  auto f = make_files("[default]\naws_access_key_id=FILE\naws_secret_access_key=B\n", "");
  ChainOptions o = f.options({{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "E"}});
  o.use_environment = true;
  EXPECT_EQ(make_default_chain(o)->load().credentials.access_key_id, "ENV");
  o.static_credentials = Credentials{"STATIC", "S", "", {}, ""};
  EXPECT_EQ(make_default_chain(o)->load().credentials.access_key_id, "STATIC");
  o.static_credentials.reset();
  o.getenv = env_of({});
  EXPECT_EQ(make_default_chain(o)->load().credentials.access_key_id, "FILE");
}

TEST(Chain, NothingAnywhereListsWhatWasTried) {
  TempDir d;
  ChainOptions o;
  o.getenv = env_of({});
  o.credentials_file = (d.path() / "c").string();
  o.config_file = (d.path() / "f").string();
  auto r = make_default_chain(o)->load();
  EXPECT_EQ(r.status, Status::kNotFound);
  EXPECT_NE(r.message.find("no AWS credentials found (environment: AWS_ACCESS_KEY_ID is not set; "
                           "shared files: profile 'default' is in neither"),
            std::string::npos)
      << r.message;
}

// ---- refreshing holder ----

// A provider whose answers the test scripts.
class ScriptedProvider : public CredentialProvider {
 public:
  std::string_view name() const override { return "scripted"; }
  ProviderResult load() override {
    std::lock_guard lk(mu);
    ++loads;
    if (fail) return ProviderResult::error("scripted failure");
    Credentials c{"AKID" + std::to_string(loads), "s", "", {}, "scripted"};
    if (lifetime) c.expiration = std::chrono::system_clock::now() + *lifetime;
    return ProviderResult::found(c);
  }
  std::mutex mu;
  int loads = 0;
  bool fail = false;
  std::optional<std::chrono::milliseconds> lifetime;
};

TEST(RefreshingCredentials, ReloadsAheadOfExpiry) {
  auto provider = std::make_unique<ScriptedProvider>();
  ScriptedProvider* p = provider.get();
  p->lifetime = 1500ms;
  RefreshingCredentials::Options opts;
  opts.refresh_ahead = std::chrono::seconds(1);
  RefreshingCredentials holder(std::move(provider), opts);
  EXPECT_EQ(holder.current().error, "the AWS credentials are still loading");
  holder.start();
  ASSERT_TRUE(holder.wait_first_load(5s));
  EXPECT_EQ(holder.current().credentials->access_key_id, "AKID1");
  // Reloaded before the first ones expire, so a reader never sees a gap.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (holder.successful_loads() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto cur = holder.current();
    ASSERT_TRUE(cur.credentials) << cur.error;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(holder.successful_loads(), 3u);
  EXPECT_NE(holder.current().credentials->access_key_id, "AKID1");
}

TEST(RefreshingCredentials, ExpiredCredentialsAreAnErrorNotASignature) {
  auto provider = std::make_unique<ScriptedProvider>();
  ScriptedProvider* p = provider.get();
  p->lifetime = 600ms;
  RefreshingCredentials::Options opts;
  opts.retry_delay = 50ms;
  RefreshingCredentials holder(std::move(provider), opts);
  holder.start();
  ASSERT_TRUE(holder.wait_first_load(5s));
  {
    std::lock_guard lk(p->mu);
    p->fail = true;
  }
  std::this_thread::sleep_for(900ms);
  auto cur = holder.current();
  EXPECT_FALSE(cur.credentials);
  EXPECT_NE(cur.error.find("the AWS credentials from scripted expired at"), std::string::npos)
      << cur.error;
  EXPECT_NE(cur.error.find("refreshing them failed: scripted failure"), std::string::npos);
  EXPECT_GE(holder.failed_loads(), 1u);
  {
    std::lock_guard lk(p->mu);
    p->fail = false;
    p->lifetime.reset();
  }
  holder.refresh_now();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!holder.current().credentials && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(holder.current().credentials);
}

TEST(RefreshingCredentials, FirstLoadFailureIsReported) {
  auto provider = std::make_unique<ScriptedProvider>();
  provider->fail = true;
  RefreshingCredentials holder(std::move(provider));
  holder.start();
  EXPECT_FALSE(holder.wait_first_load(5s));
  EXPECT_EQ(holder.current().error, "scripted failure");
  holder.stop();
}

// Hands out "<prefix>-<n>" on the n-th load.
class CountingProvider : public CredentialProvider {
 public:
  explicit CountingProvider(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string_view name() const override { return "counting"; }
  ProviderResult load() override {
    return ProviderResult::found({prefix_ + "-" + std::to_string(++loads_), "s", "", {}, "c"});
  }

 private:
  std::string prefix_;
  int loads_ = 0;
};

TEST(RefreshingCredentials, AThreadSeesEveryChangeOfEverySource) {
  // More sources than a thread keeps copies of, read interleaved from one thread; a refresh
  // is visible to the next current() on a thread that read the old credentials before.
  std::vector<std::unique_ptr<RefreshingCredentials>> holders;
  for (int i = 0; i < 6; ++i) {
    holders.push_back(std::make_unique<RefreshingCredentials>(
        std::make_unique<CountingProvider>("K" + std::to_string(i))));
    holders.back()->start();
    ASSERT_TRUE(holders.back()->wait_first_load(5s));
  }
  auto key = [](const RefreshingCredentials& h) {
    auto cur = h.current();
    return cur.credentials ? cur.credentials->access_key_id : cur.error;
  };
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(key(*holders[i]), "K" + std::to_string(i) + "-1");
  for (int i : {0, 5}) {
    holders[i]->refresh_now();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (holders[i]->successful_loads() < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    EXPECT_EQ(key(*holders[i]), "K" + std::to_string(i) + "-2");
  }
  EXPECT_EQ(key(*holders[1]), "K1-1");
  // A new source, likely at a freed one's address, has its own credentials.
  holders[0].reset();
  holders[0] = std::make_unique<RefreshingCredentials>(std::make_unique<CountingProvider>("N"));
  EXPECT_EQ(key(*holders[0]), "the AWS credentials are still loading");
  holders[0]->start();
  ASSERT_TRUE(holders[0]->wait_first_load(5s));
  EXPECT_EQ(key(*holders[0]), "N-1");
}

TEST(RefreshingCredentials, CredentialProcessEndToEnd) {
  // A real script that hands out a new key on every call, valid for 2 seconds.
  TempDir d;
  std::string counter = (d.path() / "n").string();
  std::string script =
      d.write("rotating.sh",
              "#!/bin/sh\nn=$(cat '" + counter +
                  "' 2>/dev/null || echo 0)\nn=$((n+1))\n"
                  "echo $n > '" +
                  counter +
                  "'\n"
                  "exp=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)\n"
                  "printf '{\"Version\":1,\"AccessKeyId\":\"AKIDROT%s\",\"SecretAccessKey\":\"s\","
                  "\"SessionToken\":\"t\",\"Expiration\":\"%s\"}' $n $exp\n",
              true);
  RefreshingCredentials::Options opts;
  opts.refresh_ahead = std::chrono::seconds(1);
  RefreshingCredentials holder(make_process_provider(script, "test", 5s), opts);
  std::atomic<int> callbacks{0};
  holder.on_refreshed([&](const std::shared_ptr<const Credentials>&) { ++callbacks; });
  holder.start();
  ASSERT_TRUE(holder.wait_first_load(5s)) << holder.current().error;
  EXPECT_EQ(holder.current().credentials->access_key_id, "AKIDROT1");
  auto deadline = std::chrono::steady_clock::now() + 6s;
  while (holder.current().credentials &&
         holder.current().credentials->access_key_id == "AKIDROT1" &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto cur = holder.current();
  ASSERT_TRUE(cur.credentials) << cur.error;
  EXPECT_NE(cur.credentials->access_key_id, "AKIDROT1");
  EXPECT_GE(callbacks.load(), 2);
}

}  // namespace
}  // namespace eg::aws
