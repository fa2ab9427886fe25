// Private to the config module: walks a yaml-cpp tree with the current path, checks types
// and keys, and collects every error as `file:line:col: path: message`.
#pragma once
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace eg::config::detail {

struct Pos {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

Pos pos_of(const YAML::Node& n);

// A node and where it sits: its dotted path and the position to report it at. A missing
// key is a Val that is not present(), positioned at the map that lacks it.
struct Val {
  YAML::Node node;
  std::string path;
  Pos pos;
  bool present = false;
  bool is_null() const { return present && node.IsNull(); }
};

class Reader {
 public:
  // redact: never print scalar contents in messages (the secrets store).
  Reader(std::string file, std::vector<ConfigError>& errors, bool redact = false);

  const std::string& file() const { return file_; }
  bool redact() const { return redact_; }
  void error(Pos at, std::string path, std::string message);
  void error(const Val& at, std::string message) { error(at.pos, at.path, std::move(message)); }
  size_t error_count() const { return errors_.size(); }

  // Work budget against alias bombs: every visited node costs one step. Once spent, one
  // error is reported and further walking stops.
  bool step(const Val& at);
  bool exhausted() const { return exhausted_; }

  // The document root as a Val (path "").
  Val root(const YAML::Node& n) const;

 private:
  std::string file_;
  std::vector<ConfigError>& errors_;
  bool redact_;
  size_t steps_ = 0;
  bool exhausted_ = false;
  bool too_many_ = false;
};

// "a map", "a list", "null", "the string 'abc'", "the number 5", "the boolean true".
std::string describe(const YAML::Node& n, bool redact);
// Closest candidate within a small edit distance, or empty.
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);
// "; did you mean 'x'?" or empty.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
std::string join_path(const std::string& parent, std::string_view key);
std::string quoted_list(const std::vector<std::string>& items);  // 'a', 'b' or 'c'

// A map whose keys are checked against a fixed list; unknown and duplicate keys are
// reported when it is constructed. YAML merge keys (`<<: *anchor`, or a list of anchors)
// are applied: keys written in the map win over merged ones.
class MapReader {
 public:
  struct Entry {
    Val key;
    Val value;
    std::string name;
  };
  MapReader(Reader& r, const Val& v, std::vector<std::string> known);
  // Any scalar keys accepted (maps keyed by user names); duplicates still reported.
  MapReader(Reader& r, const Val& v);

  bool ok() const { return ok_; }  // v was a map (and budget left)
  const Val& self() const { return self_; }
  Val get(std::string_view key) const;  // present()==false when absent
  Val require(std::string_view key);    // reports "required key is missing"
  bool has(std::string_view key) const { return get(key).present; }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  MapReader(Reader& r, const Val& v, int merge_depth);
  void load(bool check_known, int merge_depth);
  void merge(const Val& source, int merge_depth);
  Reader& r_;
  Val self_;
  std::vector<std::string> known_;
  std::vector<Entry> entries_;
  std::vector<std::string> suggested_;  // known keys a misspelt key was matched to
  bool ok_ = false;
};

// Items of a list; reports a type error (and returns empty) when v is not a list.
std::vector<Val> items(Reader& r, const Val& v);

// Typed reads: on a missing Val they return false quietly; on a bad one they report.
bool read_string(Reader& r, const Val& v, std::string& out, bool allow_empty = false);
bool read_bool(Reader& r, const Val& v, bool& out);
bool read_int(Reader& r, const Val& v, int64_t& out, int64_t min, int64_t max);
bool read_size(Reader& r, const Val& v, uint64_t& out, uint64_t min, uint64_t max);
bool read_duration(Reader& r, const Val& v, std::chrono::milliseconds& out, int64_t min_ms = 1);
bool read_choice(Reader& r, const Val& v, std::string& out,
                 const std::vector<std::string>& choices);
bool read_string_list(Reader& r, const Val& v, std::vector<std::string>& out);

// Relative paths resolve against `base_dir`; the result is absolute and normalized.
enum class PathKind : uint8_t { File, Directory, ParentDirectory };
bool read_path(Reader& r, const Val& v, const std::string& base_dir, PathKind kind,
               std::string& out);
// Reads a regular file of at most max_bytes; on failure returns nullopt and sets why.
std::optional<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                           std::string& why);

// "host:port" / "[v6]:port" with a numeric host and port 1-65535.
bool parse_host_port(std::string_view s, std::string& host, uint16_t& port, std::string& why);

}  // namespace eg::config::detail
