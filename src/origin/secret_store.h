// The origin-verify secrets store, read and rewritten by `edgeguard secrets` (the gateway
// itself only reads it, through the config loader: src/config/load_origins.cc).
//
// Format: {"secrets": {NAME: {"versions": [{"id": "...", "value": "...", "stages": [...]}]}}}.
// Stages are PENDING, CURRENT and PREVIOUS (Secrets Manager's AWSPENDING, AWSCURRENT and
// AWSPREVIOUS are read as the same); each stage sits on at most one version of a secret; other
// labels are allowed and left alone. The parser applies the loader's rules so that a store this
// module accepts and writes is one the gateways accept on their next reload.
//
// Values are never part of an error or a message: errors name the file and the path
// (secrets.NAME.versions[1].stages[0]).
//
// The file is rewritten atomically (a temporary file in the same folder, fsync, rename, fsync
// of the folder) with mode 0600, and rotations serialise on an advisory lock (flock) on a
// sibling file NAME.lock, so two `secrets rotate` runs cannot interleave their steps.
#pragma once
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::origin {

inline constexpr std::string_view kStagePending = "PENDING";
inline constexpr std::string_view kStageCurrent = "CURRENT";
inline constexpr std::string_view kStagePrevious = "PREVIOUS";

struct StoredVersion {
  std::string id;
  std::string value;                // never printed
  std::vector<std::string> stages;  // AWS spellings read as PENDING / CURRENT / PREVIOUS
  bool has(std::string_view stage) const;
};

// Ids made by `secrets rotate` carry their creation time: "20250614T101500Z-9f3a1c2b".
std::string make_version_id(std::chrono::system_clock::time_point now);
// The creation time of such an id; nullopt for ids written by hand ("v1").
std::optional<std::chrono::system_clock::time_point> version_created(std::string_view id);
// 32 characters of the URL-safe base64 alphabet (192 random bits from OpenSSL's RAND_bytes);
// nullopt when the generator fails.
std::optional<std::string> random_secret_value();
// "10s", "15m", "24h", "30d", "500ms", or sums of them ("1h30m"); nullopt when malformed or 0.
std::optional<std::chrono::milliseconds> parse_interval(std::string_view text);
// Secret names the gateway accepts: letters, digits and /_+=.@-, up to 128 characters.
bool valid_secret_name(std::string_view name);

class SecretStore {
 public:
  SecretStore();  // {"secrets": {}}

  // Parses a store with the config loader's rules; each problem is appended to `errors` as
  // "FILE: PATH: message" and the result is nullopt.
  static std::optional<SecretStore> parse(std::string_view text, const std::string& file,
                                          std::vector<std::string>& errors);
  // Indented JSON ending in a newline. Key order, the stage spellings a store uses and labels
  // other than the three are kept as they were read.
  std::string serialize() const;

  std::vector<std::string> names() const;  // sorted
  bool has(std::string_view name) const;
  std::vector<StoredVersion> versions(std::string_view name) const;  // file order
  std::optional<StoredVersion> find_stage(std::string_view name, std::string_view stage) const;

  // A new secret whose one version is CURRENT. False (and why) when the name is taken or
  // invalid.
  bool add_secret(const std::string& name, const std::string& id, const std::string& value,
                  std::string& error);

  struct Pending {
    std::string id;
    bool reused = false;  // a PENDING version left by an interrupted rotation
  };
  // Step "create": the version already PENDING, or a new version {id, value} staged PENDING.
  // The secret must exist. A PENDING label that sits on the CURRENT version is stale (the
  // rotation that set it finished) and is removed first.
  std::optional<Pending> stage_pending(const std::string& name, const std::string& id,
                                       const std::string& value, std::string& error);

  struct Finished {
    std::string current;                  // the version that was PENDING
    std::optional<std::string> previous;  // the version that was CURRENT
    std::optional<std::string> dropped;   // the version that was PREVIOUS, now removed
  };
  // Step "finish": PENDING -> CURRENT, the old CURRENT -> PREVIOUS, the old PREVIOUS loses its
  // label (and is removed when that was its last label).
  std::optional<Finished> finish(const std::string& name, std::string& error);

 private:
  nlohmann::ordered_json* secret_json(std::string_view name);
  nlohmann::ordered_json doc_;
};

// ---- the file

struct StoreFileRead {
  std::optional<SecretStore> store;
  std::vector<std::string> errors;    // complete messages naming the file
  std::vector<std::string> warnings;  // e.g. a mode wider than 0600
};
// missing_ok: a file that does not exist reads as an empty store.
StoreFileRead read_store_file(const std::string& path, bool missing_ok = false);

// Replaces the file atomically with mode 0600 (and, when running as root, the old file's
// owner, so a gateway running as another user can still read it). On failure the old file is
// untouched, no temporary file is left and `error` says what failed.
bool write_store_file(const std::string& path, const SecretStore& store, std::string& error);

// An exclusive flock on PATH.lock (created with mode 0600, never removed), held for the
// object's lifetime.
class StoreLock {
 public:
  // Waits up to `wait` for another holder; the error names the holder's pid when it is known.
  static std::optional<StoreLock> acquire(const std::string& store_path,
                                          std::chrono::milliseconds wait, std::string& error);
  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&&) = delete;
  StoreLock(const StoreLock&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace eg::origin
