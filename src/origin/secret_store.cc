#include "origin/secret_store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

namespace eg::origin {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

constexpr size_t kMaxStoreBytes = 16 << 20;  // the config loader's limit for the same file

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

// What a value is, never what it holds: the store is full of secrets.
std::string describe(const OJson& v) {
  switch (v.type()) {
    case OJson::value_t::null:
      return "null";
    case OJson::value_t::boolean:
      return "a boolean";
    case OJson::value_t::string:
      return "a string";
    case OJson::value_t::number_integer:
    case OJson::value_t::number_unsigned:
    case OJson::value_t::number_float:
      return "a number";
    case OJson::value_t::object:
      return "an object";
    case OJson::value_t::array:
      return "an array";
    default:
      return "a value of another kind";
  }
}

std::string errno_text(int e) { return std::strerror(e); }

// Secrets Manager's names for the three stages read as edgeguard's.
std::string_view normalize_stage(std::string_view s) {
  if (s == "AWSPENDING" || s == "AWSCURRENT" || s == "AWSPREVIOUS") return s.substr(3);
  return s;
}

// Finds syntax errors and duplicate keys (nlohmann keeps the last of two equal keys silently;
// the config loader refuses them), with the path of each.
class StructureCheck : public nlohmann::json_sax<OJson> {
 public:
  std::vector<std::pair<std::string, std::string>> problems;  // path, message
  std::string syntax_error;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t) override { return scalar(); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override {
    stack_.push_back(Frame{true, child_path(), 0, {}, {}});
    return true;
  }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) problems.emplace_back(f.path, "duplicate key '" + k + "'");
    f.key = k;
    return problems.size() < 20;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    stack_.push_back(Frame{false, child_path(), 0, {}, {}});
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    syntax_error = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    if (auto p = syntax_error.find("] "); p != std::string::npos)
      syntax_error = syntax_error.substr(p + 2);
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::string path;
    size_t index;
    std::set<std::string> keys;
    std::string key;
  };
  bool scalar() {
    child_path();
    return true;
  }
  std::string child_path() {
    if (stack_.empty()) return "";
    Frame& f = stack_.back();
    if (f.object) return join_path(f.path, f.key);
    return f.path + "[" + std::to_string(f.index++) + "]";
  }
  std::vector<Frame> stack_;
};

// Walks a parsed store with the loader's rules (src/config/load_origins.cc).
class StoreValidator {
 public:
  StoreValidator(const std::string& file, std::vector<std::string>& errors)
      : file_(file), errors_(errors) {}

  void error(const std::string& path, const std::string& message) {
    errors_.push_back(file_ + ": " + (path.empty() ? "" : path + ": ") + message);
  }

  bool object_with(const OJson& v, const std::string& path,
                   std::initializer_list<std::string_view> known) {
    if (!v.is_object()) {
      error(path, "expected an object, found " + describe(v));
      return false;
    }
    for (const auto& [k, _] : v.items()) {
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string msg = "unknown key '" + k + "'";
      if (known.size() == 1)
        msg += "; the only key here is '" + std::string(*known.begin()) + "'";
      else {
        msg += "; expected ";
        size_t i = 0;
        for (auto name : known) {
          if (i > 0) msg += i + 1 == known.size() ? " or " : ", ";
          msg += "'" + std::string(name) + "'";
          ++i;
        }
      }
      error(join_path(path, k), msg);
    }
    return true;
  }

  const OJson* require(const OJson& obj, const std::string& path, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      error(join_path(path, key), "required key is missing");
      return nullptr;
    }
    return &*it;
  }

  bool string_at(const OJson& v, const std::string& path, bool allow_empty) {
    if (!v.is_string()) {
      error(path, "expected a string, found " + describe(v));
      return false;
    }
    if (!allow_empty && v.get_ref<const std::string&>().empty()) {
      error(path, "must not be empty");
      return false;
    }
    return true;
  }

  void store(const OJson& root) {
    if (root.is_null() || (root.is_object() && root.empty())) {
      error("", "the secrets store is empty; expected {\"secrets\": {...}}");
      return;
    }
    if (!object_with(root, "", {"secrets"})) return;
    const OJson* secrets = require(root, "", "secrets");
    if (!secrets) return;
    if (!secrets->is_object()) {
      error("secrets", "expected an object, found " + describe(*secrets));
      return;
    }
    for (const auto& [name, s] : secrets->items()) {
      std::string path = join_path("secrets", name);
      if (!valid_secret_name(name)) {
        error(path, "invalid secret name '" + name +
                        "' (letters, digits and /_+=.@- only, up to 128 characters)");
        continue;
      }
      secret(s, path);
    }
  }

  void secret(const OJson& s, const std::string& path) {
    if (!object_with(s, path, {"versions"})) return;
    const OJson* versions = require(s, path, "versions");
    if (!versions) return;
    std::string vpath = join_path(path, "versions");
    if (!versions->is_array()) {
      error(vpath, "expected an array, found " + describe(*versions));
      return;
    }
    if (versions->empty()) error(vpath, "a secret needs at least one version");
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::string>> stage_owner;  // stage -> version id
    for (size_t i = 0; i < versions->size(); ++i) {
      const OJson& v = (*versions)[i];
      std::string ipath = vpath + "[" + std::to_string(i) + "]";
      if (!object_with(v, ipath, {"id", "value", "stages"})) continue;
      std::string id;
      if (const OJson* idv = require(v, ipath, "id");
          idv && string_at(*idv, join_path(ipath, "id"), false)) {
        id = idv->get<std::string>();
        if (std::find(ids.begin(), ids.end(), id) != ids.end())
          error(join_path(ipath, "id"), "duplicate version id '" + id + "'");
        ids.push_back(id);
      }
      if (const OJson* value = require(v, ipath, "value"))
        string_at(*value, join_path(ipath, "value"), true);
      const OJson* stages = require(v, ipath, "stages");
      if (!stages) continue;
      std::string spath = join_path(ipath, "stages");
      if (!stages->is_array()) {
        error(spath, "expected an array, found " + describe(*stages));
        continue;
      }
      for (size_t j = 0; j < stages->size(); ++j) {
        std::string stpath = spath + "[" + std::to_string(j) + "]";
        if (!string_at((*stages)[j], stpath, false)) continue;
        std::string stage(normalize_stage((*stages)[j].get_ref<const std::string&>()));
        auto owner = std::find_if(stage_owner.begin(), stage_owner.end(),
                                  [&](const auto& p) { return p.first == stage; });
        if (owner != stage_owner.end()) {
          error(stpath, "stage " + stage + " is already on version '" + owner->second + "'");
          continue;
        }
        stage_owner.emplace_back(stage, id);
      }
    }
  }

 private:
  const std::string& file_;
  std::vector<std::string>& errors_;
};

bool json_has_stage(const OJson& version, std::string_view stage) {
  for (const auto& s : version["stages"])
    if (normalize_stage(s.get_ref<const std::string&>()) == stage) return true;
  return false;
}

void json_remove_stage(OJson& version, std::string_view stage) {
  OJson kept = OJson::array();
  for (auto& s : version["stages"])
    if (normalize_stage(s.get_ref<const std::string&>()) != stage) kept.push_back(std::move(s));
  version["stages"] = std::move(kept);
}

// A store written with Secrets Manager's spellings keeps them.
bool uses_aws_spelling(const OJson& secret) {
  for (const auto& v : secret["versions"])
    for (const auto& s : v["stages"]) {
      const auto& str = s.get_ref<const std::string&>();
      if (str == "AWSPENDING" || str == "AWSCURRENT" || str == "AWSPREVIOUS") return true;
    }
  return false;
}

void json_add_stage(OJson& version, std::string_view stage, bool aws) {
  if (json_has_stage(version, stage)) return;
  version["stages"].push_back((aws ? "AWS" : "") + std::string(stage));
}

std::optional<size_t> index_of_stage(const OJson& secret, std::string_view stage) {
  const OJson& versions = secret["versions"];
  for (size_t i = 0; i < versions.size(); ++i)
    if (json_has_stage(versions[i], stage)) return i;
  return std::nullopt;
}

bool id_taken(const OJson& secret, const std::string& id) {
  for (const auto& v : secret["versions"])
    if (v["id"].get_ref<const std::string&>() == id) return true;
  return false;
}

OJson new_version(const std::string& id, const std::string& value, std::string_view stage,
                  bool aws) {
  OJson v = OJson::object();
  v["id"] = id;
  v["value"] = value;
  v["stages"] = OJson::array({(aws ? "AWS" : "") + std::string(stage)});
  return v;
}

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// Symlinks resolved, so the lock and the temporary file sit beside the real file.
std::string resolve(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

}  // namespace

// ---- helpers

bool StoredVersion::has(std::string_view stage) const {
  return std::find(stages.begin(), stages.end(), stage) != stages.end();
}

bool valid_secret_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              std::string_view("/_+=.@-").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> random_secret_value() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  std::string out;
  out.reserve(32);
  for (size_t i = 0; i < sizeof bytes; i += 3) {
    uint32_t n = (uint32_t(bytes[i]) << 16) | (uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return out;
}

std::string make_version_id(std::chrono::system_clock::time_point now) {
  time_t t = std::chrono::system_clock::to_time_t(now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  unsigned char r[4] = {};
  if (RAND_bytes(r, sizeof r) != 1) {
    // Only the id's uniqueness depends on these bytes (the caller checks it), not a secret.
    auto ns = now.time_since_epoch().count();
    std::memcpy(r, &ns, sizeof r);
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  return std::string(stamp) + "-" + hex;
}

std::optional<std::chrono::system_clock::time_point> version_created(std::string_view id) {
  // YYYYMMDDTHHMMSSZ, then the end or '-'
  if (id.size() < 16 || id[8] != 'T' || id[15] != 'Z' || (id.size() > 16 && id[16] != '-'))
    return std::nullopt;
  auto num = [&](size_t at, size_t len) -> int {
    int n = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (id[i] < '0' || id[i] > '9') return -1;
      n = n * 10 + (id[i] - '0');
    }
    return n;
  };
  struct tm tm {};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::optional<std::chrono::milliseconds> parse_interval(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  constexpr int64_t kMax = int64_t(10) * 366 * 24 * 3600 * 1000;  // ten years
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return std::nullopt;
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else
      return std::nullopt;
    if (n > kMax / scale) return std::nullopt;
    total += n * scale;
    if (total > kMax) return std::nullopt;
  }
  if (total <= 0) return std::nullopt;
  return std::chrono::milliseconds(total);
}

// ---- the store

SecretStore::SecretStore() : doc_(OJson::object({{"secrets", OJson::object()}})) {}

std::optional<SecretStore> SecretStore::parse(std::string_view text, const std::string& file,
                                              std::vector<std::string>& errors) {
  size_t before = errors.size();
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    errors.push_back(file + ": the secrets store is empty; expected {\"secrets\": {...}}");
    return std::nullopt;
  }
  StructureCheck check;
  OJson::sax_parse(text.begin(), text.end(), &check);
  if (!check.syntax_error.empty()) {
    errors.push_back(file + ": invalid JSON: " + check.syntax_error);
    return std::nullopt;
  }
  for (const auto& [path, msg] : check.problems)
    errors.push_back(file + ": " + (path.empty() ? "" : path + ": ") + msg);
  if (errors.size() != before) return std::nullopt;

  SecretStore store;
  store.doc_ = OJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (store.doc_.is_discarded()) {  // the structure check passed, so this is not expected
    errors.push_back(file + ": invalid JSON");
    return std::nullopt;
  }
  StoreValidator(file, errors).store(store.doc_);
  if (errors.size() != before) return std::nullopt;
  return store;
}

std::string SecretStore::serialize() const { return doc_.dump(2) + "\n"; }

std::vector<std::string> SecretStore::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : doc_["secrets"].items()) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

bool SecretStore::has(std::string_view name) const {
  return doc_["secrets"].contains(std::string(name));
}

nlohmann::ordered_json* SecretStore::secret_json(std::string_view name) {
  auto& secrets = doc_["secrets"];
  auto it = secrets.find(std::string(name));
  return it == secrets.end() ? nullptr : &*it;
}

std::vector<StoredVersion> SecretStore::versions(std::string_view name) const {
  std::vector<StoredVersion> out;
  const auto& secrets = doc_["secrets"];
  auto it = secrets.find(std::string(name));
  if (it == secrets.end()) return out;
  for (const auto& v : (*it)["versions"]) {
    StoredVersion sv;
    sv.id = v["id"].get<std::string>();
    sv.value = v["value"].get<std::string>();
    for (const auto& s : v["stages"])
      sv.stages.emplace_back(normalize_stage(s.get_ref<const std::string&>()));
    out.push_back(std::move(sv));
  }
  return out;
}

std::optional<StoredVersion> SecretStore::find_stage(std::string_view name,
                                                     std::string_view stage) const {
  for (auto& v : versions(name))
    if (v.has(stage)) return std::move(v);
  return std::nullopt;
}

bool SecretStore::add_secret(const std::string& name, const std::string& id,
                             const std::string& value, std::string& error) {
  if (!valid_secret_name(name)) {
    error = "invalid secret name '" + name +
            "' (letters, digits and /_+=.@- only, up to 128 characters)";
    return false;
  }
  if (has(name)) {
    error = "secret '" + name + "' already exists";
    return false;
  }
  if (id.empty()) {
    error = "a version id must not be empty";
    return false;
  }
  OJson secret = OJson::object();
  secret["versions"] = OJson::array({new_version(id, value, kStageCurrent, false)});
  doc_["secrets"][name] = std::move(secret);
  return true;
}

std::optional<SecretStore::Pending> SecretStore::stage_pending(const std::string& name,
                                                               const std::string& id,
                                                               const std::string& value,
                                                               std::string& error) {
  OJson* secret = secret_json(name);
  if (!secret) {
    error = "no secret '" + name + "' in the store";
    return std::nullopt;
  }
  OJson& versions = (*secret)["versions"];
  auto pending = index_of_stage(*secret, kStagePending);
  if (pending) {
    OJson& v = versions[*pending];
    if (!json_has_stage(v, kStageCurrent)) return Pending{v["id"].get<std::string>(), true};
    json_remove_stage(v, kStagePending);  // stale: its rotation finished
  }
  if (id.empty() || id_taken(*secret, id)) {
    error = "version id '" + id + "' is " + (id.empty() ? "empty" : "already used");
    return std::nullopt;
  }
  versions.push_back(new_version(id, value, kStagePending, uses_aws_spelling(*secret)));
  return Pending{id, false};
}

std::optional<SecretStore::Finished> SecretStore::finish(const std::string& name,
                                                         std::string& error) {
  OJson* secret = secret_json(name);
  if (!secret) {
    error = "no secret '" + name + "' in the store";
    return std::nullopt;
  }
  OJson& versions = (*secret)["versions"];
  bool aws = uses_aws_spelling(*secret);
  auto pending = index_of_stage(*secret, kStagePending);
  if (!pending) {
    error = "secret '" + name + "' has no PENDING version to finish";
    return std::nullopt;
  }
  auto current = index_of_stage(*secret, kStageCurrent);
  auto previous = index_of_stage(*secret, kStagePrevious);
  Finished out;
  out.current = versions[*pending]["id"].get<std::string>();
  std::optional<size_t> drop;
  if (previous && previous != current) {
    OJson& v = versions[*previous];
    json_remove_stage(v, kStagePrevious);
    if (*previous != *pending && v["stages"].empty()) {
      out.dropped = v["id"].get<std::string>();
      drop = previous;
    }
  }
  if (current && current != pending) {
    OJson& v = versions[*current];
    json_remove_stage(v, kStageCurrent);
    json_add_stage(v, kStagePrevious, aws);
    out.previous = v["id"].get<std::string>();
  }
  OJson& p = versions[*pending];
  json_remove_stage(p, kStagePending);
  json_add_stage(p, kStageCurrent, aws);
  if (drop) versions.erase(*drop);
  return out;
}

// ---- the file

StoreFileRead read_store_file(const std::string& path, bool missing_ok) {
  StoreFileRead out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT && missing_ok) {
      out.store = SecretStore();
      return out;
    }
    out.errors.push_back(path + ": cannot read the secrets store: " + errno_text(e));
    return out;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    out.errors.push_back(path + ": cannot read the secrets store: not a regular file");
    return out;
  }
  if (st.st_size > static_cast<off_t>(kMaxStoreBytes)) {
    ::close(fd);
    out.errors.push_back(path + ": the secrets store is larger than 16 MiB");
    return out;
  }
  if (st.st_mode & 077)
    out.warnings.push_back(path + " has mode " + octal_mode(st.st_mode) +
                           ": group or others may read the secret values (edgeguard writes it "
                           "with mode 0600)");
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      out.errors.push_back(path + ": cannot read the secrets store: " + errno_text(e));
      return out;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxStoreBytes) {
      ::close(fd);
      out.errors.push_back(path + ": the secrets store is larger than 16 MiB");
      return out;
    }
  }
  ::close(fd);
  out.store = SecretStore::parse(text, path, out.errors);
  OPENSSL_cleanse(text.data(), text.size());
  return out;
}

bool write_store_file(const std::string& path, const SecretStore& store, std::string& error) {
  std::string target = resolve(path);
  fs::path tp(target);
  std::string dir = tp.parent_path().empty() ? "." : tp.parent_path().string();
  std::string tmpl = (fs::path(dir) / ("." + tp.filename().string() + ".tmp.XXXXXX")).string();
  std::vector<char> tmp_name(tmpl.begin(), tmpl.end());
  tmp_name.push_back('\0');
  int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) {
    error = "cannot create a temporary file in " + dir + ": " + errno_text(errno) + "; " + path +
            " is unchanged";
    return false;
  }
  std::string tmp(tmp_name.data());
  auto fail = [&](const std::string& what, int e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    error = what + " " + tmp + ": " + errno_text(e) + "; " + path + " is unchanged";
    return false;
  };
  if (::fchmod(fd, 0600) != 0) return fail("cannot set mode 0600 on", errno);
  struct stat old {};
  if (::geteuid() == 0 && ::stat(target.c_str(), &old) == 0 &&
      ::fchown(fd, old.st_uid, old.st_gid) != 0)
    return fail("cannot give the old owner to", errno);

  std::string text = store.serialize();
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      OPENSSL_cleanse(text.data(), text.size());
      return fail("writing", e);
    }
    done += static_cast<size_t>(n);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (::fsync(fd) != 0) return fail("fsync of", errno);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    error = "closing " + tmp + ": " + errno_text(e) + "; " + path + " is unchanged";
    return false;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    error = "cannot rename " + tmp + " to " + target + ": " + errno_text(e) + "; " + path +
            " is unchanged";
    return false;
  }
  // The rename itself is durable once the folder is synced.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

// ---- the lock

std::optional<StoreLock> StoreLock::acquire(const std::string& store_path,
                                            std::chrono::milliseconds wait, std::string& error) {
  std::string lock_path = resolve(store_path) + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open the lock file " + lock_path + ": " + errno_text(errno);
    return std::nullopt;
  }
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    int e = errno;
    if (e == EINTR) continue;
    if (e != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      if (e == EWOULDBLOCK) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) holder = std::string(buf, static_cast<size_t>(n));
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
          holder.pop_back();
      }
      ::close(fd);
      error = e == EWOULDBLOCK
                  ? "another edgeguard secrets command" +
                        (holder.empty() ? std::string() : " (pid " + holder + ")") + " holds " +
                        lock_path + "; waited " + std::to_string(wait.count()) + " ms"
                  : "cannot lock " + lock_path + ": " + errno_text(e);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The holder's pid, for the message another run prints while it waits.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return StoreLock(fd);
}

StoreLock::StoreLock(StoreLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

StoreLock::~StoreLock() {
  if (fd_ < 0) return;
  // No pid left behind for a later holder that does not write one (flock(1), say).
  [[maybe_unused]] int rc = ::ftruncate(fd_, 0);
  ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace eg::origin
