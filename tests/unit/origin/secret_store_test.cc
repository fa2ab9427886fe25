#include "origin/secret_store.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/loader.h"

namespace eg::origin {
namespace {

namespace fs = std::filesystem;

constexpr const char* kValueA = "value-A-never-printed-0123456789";
constexpr const char* kValueB = "value-B-never-printed-0123456789";

std::string store_text() {
  return std::string(R"({"secrets": {"origin-verify": {"versions": [
      {"id": "v1", "value": ")") +
         kValueA + R"(", "stages": ["CURRENT"]}]}}})";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "eg-secret-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

SecretStore parse_ok(const std::string& text) {
  std::vector<std::string> errors;
  auto s = SecretStore::parse(text, "store.json", errors);
  EXPECT_TRUE(s) << (errors.empty() ? "" : errors[0]);
  return s ? *s : SecretStore();
}

std::string stages_of(const SecretStore& s, const std::string& name) {
  std::string out;
  for (const auto& v : s.versions(name)) {
    out += v.id + "=";
    for (size_t i = 0; i < v.stages.size(); ++i) out += (i ? "+" : "") + v.stages[i];
    out += " ";
  }
  return out;
}

TEST(SecretStore, ParsesVersionsAndAwsStageNames) {
  auto s = parse_ok(R"({"secrets": {
      "b": {"versions": [{"id": "x", "value": "", "stages": []}]},
      "a": {"versions": [{"id": "1", "value": "one", "stages": ["AWSPREVIOUS"]},
                         {"id": "2", "value": "two", "stages": ["AWSCURRENT", "mine"]}]}}})");
  EXPECT_EQ(s.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stages_of(s, "a"), "1=PREVIOUS 2=CURRENT+mine ");
  auto cur = s.find_stage("a", kStageCurrent);
  ASSERT_TRUE(cur);
  EXPECT_EQ(cur->value, "two");
  EXPECT_FALSE(s.find_stage("a", kStagePending));
  EXPECT_FALSE(s.has("c"));
}

// Each error names the file and the path down to the secret, and never shows a value.
TEST(SecretStore, ErrorsNameTheFileAndTheSecretNotTheValue) {
  std::string text = std::string(R"({"secrets": {"origin-verify": {"versions": [
      {"id": "v1", "value": ")") +
                     kValueA + R"(", "stages": ["CURRENT"]},
      {"id": "v2", "value": ")" +
                     kValueB + R"(", "stages": ["AWSCURRENT"], "note": ")" + kValueB + R"("},
      {"id": "v1", "value": 42, "stages": "PENDING"}]},
    "bad name!": {"versions": []},
    "empty": {"versions": []}}})";
  std::vector<std::string> errors;
  EXPECT_FALSE(SecretStore::parse(text, "/etc/edgeguard/secrets.json", errors));
  std::vector<std::string> want = {
      "/etc/edgeguard/secrets.json: secrets.origin-verify.versions[1].note: unknown key 'note'; "
      "expected 'id', 'value' or 'stages'",
      "/etc/edgeguard/secrets.json: secrets.origin-verify.versions[1].stages[0]: stage CURRENT "
      "is already on version 'v1'",
      "/etc/edgeguard/secrets.json: secrets.origin-verify.versions[2].id: duplicate version id "
      "'v1'",
      "/etc/edgeguard/secrets.json: secrets.origin-verify.versions[2].value: expected a string, "
      "found a number",
      "/etc/edgeguard/secrets.json: secrets.origin-verify.versions[2].stages: expected an array, "
      "found a string",
      "/etc/edgeguard/secrets.json: secrets.bad name!: invalid secret name 'bad name!' (letters, "
      "digits and /_+=.@- only, up to 128 characters)",
      "/etc/edgeguard/secrets.json: secrets.empty.versions: a secret needs at least one version",
  };
  EXPECT_EQ(errors, want);
  for (const auto& e : errors) {
    EXPECT_EQ(e.find(kValueA), std::string::npos) << e;
    EXPECT_EQ(e.find(kValueB), std::string::npos) << e;
  }
}

TEST(SecretStore, SyntaxErrorsDuplicateKeysAndEmptyFiles) {
  std::vector<std::string> errors;
  EXPECT_FALSE(SecretStore::parse("{\"secrets\": {\"a\": }", "s.json", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("s.json: invalid JSON: parse error at line 1, column 19", 0), 0u)
      << errors[0];
  errors.clear();
  EXPECT_FALSE(SecretStore::parse(R"({"secrets": {"a": {"versions": [
      {"id": "1", "value": "x", "value": "y", "stages": []}]}}})",
                                  "s.json", errors));
  EXPECT_EQ(errors,
            std::vector<std::string>{"s.json: secrets.a.versions[0]: duplicate key 'value'"});
  errors.clear();
  EXPECT_FALSE(SecretStore::parse(" \n", "s.json", errors));
  EXPECT_EQ(errors, std::vector<std::string>{
                        "s.json: the secrets store is empty; expected {\"secrets\": {...}}"});
  errors.clear();
  EXPECT_FALSE(SecretStore::parse("{\"secret\": {}}", "s.json", errors));
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "s.json: secret: unknown key 'secret'; the only key here is 'secrets'",
                        "s.json: secrets: required key is missing"}));
}

// A store is accepted here exactly when the gateway's config loader accepts it, so a store
// `secrets rotate` writes is one the gateways reload.
TEST(SecretStore, AcceptsWhatTheConfigLoaderAccepts) {
  TempDir dir;
  const std::vector<std::string> stores = {
      store_text(),
      R"({"secrets": {}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "", "stages": ["AWSCURRENT"]}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x", "stages": ["CURRENT"]},
          {"id": "2", "value": "y", "stages": ["PENDING", "label"]},
          {"id": "3", "value": "z", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": []}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x", "stages": ["CURRENT"]},
          {"id": "2", "value": "y", "stages": ["AWSCURRENT"]}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x", "stages": ["CURRENT"]},
          {"id": "1", "value": "y", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x", "stages": [""]}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "", "value": "x", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": [{"value": "x", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x"}]}}})",
      R"({"secrets": {"a": {"versions": [{"id": "1", "value": "x", "stages": [], "x": 1}]}}})",
      R"({"secrets": {"a": {"versions": [], "rotation": "30d"}}})",
      R"({"secrets": {"a b": {"versions": [{"id": "1", "value": "x", "stages": []}]}}})",
      R"({"secrets": {"a": {"versions": {}}}})",
      R"({"secrets": []})",
      R"({"secrets": {}, "other": 1})",
      R"({})",
      R"([])",
      "{\"secrets\": {\"a\": {\"versions\": [{\"id\": \"1\", \"value\": \"x\", \"value\": \"y\", "
      "\"stages\": []}]}}}",
  };
  const std::string config = R"(
listeners: [{address: "127.0.0.1:18080"}]
secrets: {file: store.json}
origins: {e: {echo: true}}
behaviors: [{path: default, origin: e}]
)";
  for (const auto& text : stores) {
    write_file(dir.file("store.json"), text, 0600);
    auto loaded = config::load_text(config, dir.file("edgeguard.yaml"));
    std::vector<std::string> errors;
    bool ours = SecretStore::parse(text, dir.file("store.json"), errors).has_value();
    std::string loader_errors;
    for (const auto& e : loaded.errors) loader_errors += e.to_string() + "\n";
    EXPECT_EQ(ours, loaded.snapshot != nullptr)
        << text << "\nloader: " << loader_errors << "ours: " << (errors.empty() ? "" : errors[0]);
  }
}

TEST(SecretStore, StagePendingAddsOneVersion) {
  auto s = parse_ok(store_text());
  std::string error;
  auto p = s.stage_pending("origin-verify", "v2", kValueB, error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->id, "v2");
  EXPECT_FALSE(p->reused);
  EXPECT_EQ(stages_of(s, "origin-verify"), "v1=CURRENT v2=PENDING ");
  EXPECT_EQ(s.find_stage("origin-verify", kStagePending)->value, kValueB);
}

// An interrupted rotation left a PENDING version: it is reused, not stacked.
TEST(SecretStore, StagePendingReusesAnInterruptedRotation) {
  auto s = parse_ok(store_text());
  std::string error;
  ASSERT_TRUE(s.stage_pending("origin-verify", "v2", kValueB, error));
  auto again = s.stage_pending("origin-verify", "v3", "another", error);
  ASSERT_TRUE(again) << error;
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->id, "v2");
  EXPECT_EQ(stages_of(s, "origin-verify"), "v1=CURRENT v2=PENDING ");
  EXPECT_EQ(s.find_stage("origin-verify", kStagePending)->value, kValueB);
}

TEST(SecretStore, StagePendingErrors) {
  auto s = parse_ok(store_text());
  std::string error;
  EXPECT_FALSE(s.stage_pending("other", "v2", "x", error));
  EXPECT_EQ(error, "no secret 'other' in the store");
  EXPECT_FALSE(s.stage_pending("origin-verify", "v1", "x", error));
  EXPECT_EQ(error, "version id 'v1' is already used");
  // A PENDING label left on the CURRENT version is stale: a new version takes it.
  auto stale = parse_ok(R"({"secrets": {"a": {"versions": [
      {"id": "1", "value": "x", "stages": ["CURRENT", "PENDING"]}]}}})");
  auto p = stale.stage_pending("a", "2", "y", error);
  ASSERT_TRUE(p) << error;
  EXPECT_FALSE(p->reused);
  EXPECT_EQ(stages_of(stale, "a"), "1=CURRENT 2=PENDING ");
}

// Three rotations: PENDING -> CURRENT -> PREVIOUS -> gone; the store never grows past two.
TEST(SecretStore, FinishMovesTheStages) {
  auto s = parse_ok(store_text());
  std::string error;
  std::vector<std::string> expected = {"v1=PREVIOUS r1=CURRENT ", "r1=PREVIOUS r2=CURRENT ",
                                       "r2=PREVIOUS r3=CURRENT "};
  for (int i = 1; i <= 3; ++i) {
    std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(s.stage_pending("origin-verify", id, "value" + id, error)) << error;
    auto f = s.finish("origin-verify", error);
    ASSERT_TRUE(f) << error;
    EXPECT_EQ(f->current, id);
    EXPECT_EQ(f->previous, i == 1 ? "v1" : "r" + std::to_string(i - 1));
    if (i == 1)
      EXPECT_FALSE(f->dropped);
    else
      EXPECT_EQ(f->dropped, i == 2 ? "v1" : "r" + std::to_string(i - 2));
    EXPECT_EQ(stages_of(s, "origin-verify"), expected[i - 1]);
  }
  EXPECT_EQ(s.find_stage("origin-verify", kStageCurrent)->value, "valuer3");
  EXPECT_FALSE(s.finish("origin-verify", error));
  EXPECT_EQ(error, "secret 'origin-verify' has no PENDING version to finish");
}

// Secrets Manager spellings stay as the store wrote them; other labels are left alone and keep
// their version alive.
TEST(SecretStore, FinishKeepsSpellingsAndOtherLabels) {
  auto s = parse_ok(R"({"secrets": {"a": {"versions": [
      {"id": "0", "value": "w", "stages": ["AWSPREVIOUS", "pinned"]},
      {"id": "1", "value": "x", "stages": ["AWSCURRENT"]}]}}})");
  std::string error;
  ASSERT_TRUE(s.stage_pending("a", "2", "y", error)) << error;
  auto f = s.finish("a", error);
  ASSERT_TRUE(f) << error;
  EXPECT_FALSE(f->dropped);
  EXPECT_EQ(stages_of(s, "a"), "0=pinned 1=PREVIOUS 2=CURRENT ");
  std::string text = s.serialize();
  EXPECT_NE(text.find("\"AWSCURRENT\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"AWSPREVIOUS\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"CURRENT\""), std::string::npos) << text;
}

TEST(SecretStore, SerializeKeepsOrderAndReadsBack) {
  auto s = parse_ok(R"({"secrets": {"zeta": {"versions": [{"stages": ["CURRENT"], "value": "z",
      "id": "1"}]}, "alpha": {"versions": [{"id": "1", "value": "a", "stages": ["CURRENT"]}]}}})");
  std::string text = s.serialize();
  EXPECT_LT(text.find("zeta"), text.find("alpha"));
  EXPECT_LT(text.find("\"stages\""), text.find("\"value\""));
  EXPECT_EQ(text.back(), '\n');
  auto back = parse_ok(text);
  EXPECT_EQ(back.serialize(), text);
}

TEST(SecretStore, AddSecret) {
  SecretStore s;
  std::string error;
  ASSERT_TRUE(s.add_secret("origin-verify", "v1", "x", error)) << error;
  EXPECT_EQ(stages_of(s, "origin-verify"), "v1=CURRENT ");
  EXPECT_FALSE(s.add_secret("origin-verify", "v2", "y", error));
  EXPECT_EQ(error, "secret 'origin-verify' already exists");
  EXPECT_FALSE(s.add_secret("has space", "v2", "y", error));
  parse_ok(s.serialize());
}

TEST(SecretStoreFile, WritesMode0600AndFixesAWiderMode) {
  TempDir dir;
  std::string path = dir.file("secrets.json");
  write_file(path, store_text(), 0644);
  auto r = read_store_file(path);
  ASSERT_TRUE(r.store);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], path +
                               " has mode 0644: group or others may read the secret values "
                               "(edgeguard writes it with mode 0600)");
  std::string error;
  ASSERT_TRUE(r.store->stage_pending("origin-verify", "v2", kValueB, error));
  ASSERT_TRUE(write_store_file(path, *r.store, error)) << error;
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"secrets.json"});  // no temporary left
  auto again = read_store_file(path);
  ASSERT_TRUE(again.store);
  EXPECT_TRUE(again.warnings.empty());
  EXPECT_EQ(again.store->find_stage("origin-verify", kStagePending)->value, kValueB);
}

TEST(SecretStoreFile, NewFileIs0600WhateverTheUmask) {
  TempDir dir;
  mode_t old = ::umask(0);
  std::string error;
  bool ok = write_store_file(dir.file("new.json"), SecretStore(), error);
  ::umask(old);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(mode_of(dir.file("new.json")), 0600u);
}

// The write fails midway (the file size limit is hit inside write()): the old file is intact
// and no temporary file is left.
TEST(SecretStoreFile, AWriteFailingMidwayLeavesTheOldFile) {
  TempDir dir;
  std::string path = dir.file("secrets.json");
  write_file(path, store_text(), 0600);
  auto r = read_store_file(path);
  ASSERT_TRUE(r.store);
  std::string error;
  ASSERT_TRUE(r.store->stage_pending("origin-verify", "v2", std::string(4096, 'x'), error));

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 512;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool ok = write_store_file(path, *r.store, error);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_FALSE(ok);
  EXPECT_NE(error.find("writing " + dir.path() + "/.secrets.json.tmp."), std::string::npos)
      << error;
  EXPECT_NE(error.find("File too large; " + path + " is unchanged"), std::string::npos) << error;
  EXPECT_EQ(read_file(path), store_text());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"secrets.json"});
}

TEST(SecretStoreFile, AReadOnlyFolderLeavesTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  TempDir dir;
  std::string path = dir.file("secrets.json");
  write_file(path, store_text(), 0600);
  ::chmod(dir.path().c_str(), 0500);
  std::string error;
  EXPECT_FALSE(write_store_file(path, SecretStore(), error));
  ::chmod(dir.path().c_str(), 0700);
  EXPECT_EQ(error, "cannot create a temporary file in " + dir.path() + ": Permission denied; " +
                       path + " is unchanged");
  EXPECT_EQ(read_file(path), store_text());
}

// Writing through a symlink replaces the file it points to and keeps the link.
TEST(SecretStoreFile, WritesThroughASymlink) {
  TempDir dir;
  fs::create_directory(dir.file("real"));
  write_file(dir.file("real/secrets.json"), store_text(), 0600);
  fs::create_symlink(dir.file("real/secrets.json"), dir.file("link.json"));
  auto r = read_store_file(dir.file("link.json"));
  ASSERT_TRUE(r.store);
  std::string error;
  ASSERT_TRUE(r.store->stage_pending("origin-verify", "v2", "x", error));
  ASSERT_TRUE(write_store_file(dir.file("link.json"), *r.store, error)) << error;
  EXPECT_TRUE(fs::is_symlink(dir.file("link.json")));
  EXPECT_NE(read_file(dir.file("real/secrets.json")).find("\"v2\""), std::string::npos);
}

TEST(SecretStoreFile, ReadErrorsNameTheFile) {
  TempDir dir;
  auto r = read_store_file(dir.file("missing.json"));
  EXPECT_FALSE(r.store);
  EXPECT_EQ(r.errors, std::vector<std::string>{dir.file("missing.json") +
                                               ": cannot read the secrets store: No such file "
                                               "or directory"});
  auto ok = read_store_file(dir.file("missing.json"), /*missing_ok=*/true);
  ASSERT_TRUE(ok.store);
  EXPECT_TRUE(ok.store->names().empty());
  write_file(dir.file("bad.json"), "{\"secrets\": 1}", 0600);
  auto bad = read_store_file(dir.file("bad.json"));
  EXPECT_EQ(bad.errors, std::vector<std::string>{dir.file("bad.json") +
                                                 ": secrets: expected an object, found a number"});
}

TEST(SecretStoreLock, SecondHolderWaitsThenFails) {
  TempDir dir;
  std::string path = dir.file("secrets.json");
  std::string error;
  auto first = StoreLock::acquire(path, std::chrono::milliseconds(0), error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(mode_of(path + ".lock"), 0600u);
  auto second = StoreLock::acquire(path, std::chrono::milliseconds(120), error);
  EXPECT_FALSE(second);
  EXPECT_EQ(error, "another edgeguard secrets command (pid " + std::to_string(::getpid()) +
                       ") holds " + path + ".lock; waited 120 ms");
  first.reset();
  auto third = StoreLock::acquire(path, std::chrono::milliseconds(0), error);
  EXPECT_TRUE(third) << error;
}

TEST(SecretValues, RandomValuesAre32UrlSafeCharacters) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto v = random_secret_value();
    ASSERT_TRUE(v);
    ASSERT_EQ(v->size(), 32u);
    for (char c : *v)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << *v;
    seen.insert(*v);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(SecretValues, VersionIdsCarryTheirCreationTime) {
  auto t = std::chrono::system_clock::from_time_t(1718360100);  // 2024-06-14T10:15:00Z
  std::string id = make_version_id(t);
  EXPECT_EQ(id.substr(0, 17), "20240614T101500Z-");
  EXPECT_EQ(id.size(), 25u);
  EXPECT_EQ(version_created(id), t);
  EXPECT_NE(make_version_id(t), id);
  EXPECT_EQ(version_created("20240614T101500Z"), t);
  EXPECT_FALSE(version_created("v1"));
  EXPECT_FALSE(version_created("20241314T101500Z-x"));
  EXPECT_FALSE(version_created("20240614T101500Zx"));
}

TEST(SecretValues, Intervals) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_interval("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_interval("15m"), milliseconds(900'000));
  EXPECT_EQ(parse_interval("24h"), milliseconds(86'400'000));
  EXPECT_EQ(parse_interval("30d"), milliseconds(int64_t(30) * 86'400'000));
  EXPECT_EQ(parse_interval("500ms"), milliseconds(500));
  EXPECT_EQ(parse_interval("1h30m"), milliseconds(5'400'000));
  for (const char* bad : {"", "10", "0s", "s", "1w", "-1s", "1.5h", "10 s", "99999999999d"})
    EXPECT_FALSE(parse_interval(bad)) << bad;
}

}  // namespace
}  // namespace eg::origin
