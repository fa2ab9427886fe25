#include "config/reader.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/strings.h"

namespace eg::config::detail {
namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxSteps = 500'000;
constexpr size_t kMaxErrors = 500;

bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

bool looks_int(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_number(std::string_view s) {
  if (looks_int(s)) return true;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool digit = false, dot = false;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c == '.' && !dot)
      dot = true;
    else
      return false;
  }
  return digit;
}

bool looks_bool(std::string_view s) {
  return s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

Pos pos_of(const YAML::Node& n) {
  if (!n.IsDefined()) return {};
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

Reader::Reader(std::string file, std::vector<ConfigError>& errors, bool redact)
    : file_(std::move(file)), errors_(errors), redact_(redact) {}

void Reader::error(Pos at, std::string path, std::string message) {
  if (too_many_) return;
  if (errors_.size() >= kMaxErrors) {
    too_many_ = true;
    message = "too many errors; stopping here";
    path.clear();
  }
  errors_.push_back(ConfigError{file_, at.line, at.column, std::move(path), std::move(message)});
}

bool Reader::step(const Val& at) {
  if (exhausted_) return false;
  if (++steps_ <= kMaxSteps) return true;
  exhausted_ = true;
  error(at, "document too large (too many nodes, or aliases that expand too much)");
  return false;
}

Val Reader::root(const YAML::Node& n) const {
  Val v{n, "", pos_of(n), n.IsDefined()};
  if (v.pos.line == 0) v.pos = {1, 1};
  return v;
}

std::string describe(const YAML::Node& n, bool redact) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (!n.IsScalar()) return "an unknown node";
  const std::string& s = n.Scalar();
  if (redact) return "a scalar";
  if (is_plain(n) && looks_number(s)) return "the number " + s;
  if (is_plain(n) && looks_bool(s)) return "the boolean " + s;
  std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
  for (auto& c : shown)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return "the string '" + shown + "'";
}

std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
  size_t limit = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d && d < word.size()) {  // never suggest a complete replacement
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string s = suggest(word, candidates);
  return s.empty() ? std::string() : "; did you mean '" + s + "'?";
}

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " or " : ", ";
    out += "'" + items[i] + "'";
  }
  return out;
}

// ---- MapReader

MapReader::MapReader(Reader& r, const Val& v, std::vector<std::string> known)
    : r_(r), self_(v), known_(std::move(known)) {
  load(true, 0);
}

MapReader::MapReader(Reader& r, const Val& v) : r_(r), self_(v) { load(false, 0); }

MapReader::MapReader(Reader& r, const Val& v, int merge_depth) : r_(r), self_(v) {
  load(false, merge_depth);
}

void MapReader::load(bool check_known, int merge_depth) {
  if (!self_.present) return;
  if (!self_.node.IsMap()) {
    r_.error(self_, "expected a map, found " + describe(self_.node, r_.redact()));
    return;
  }
  if (!r_.step(self_)) return;
  ok_ = true;
  std::vector<Val> merges;
  for (auto it = self_.node.begin(); it != self_.node.end(); ++it) {
    if (!r_.step(self_)) {
      ok_ = false;
      return;
    }
    Entry e;
    e.key = Val{it->first, self_.path, pos_of(it->first), true};
    if (e.key.pos.line == 0) e.key.pos = self_.pos;
    if (!it->first.IsScalar()) {
      r_.error(e.key, "keys must be strings, found " + describe(it->first, false));
      continue;
    }
    e.name = it->first.Scalar();
    if (e.name == "<<" && it->first.Tag() == "?") {
      merges.push_back(Val{it->second, self_.path, e.key.pos, true});
      continue;
    }
    e.key.path = join_path(self_.path, e.name);
    e.value = Val{it->second, e.key.path, pos_of(it->second), true};
    // An empty value (`key:`) carries the position of whatever follows; point at the key.
    if (e.value.pos.line == 0 || (it->second.IsNull() && e.value.pos.line != e.key.pos.line))
      e.value.pos = e.key.pos;
    bool dup = false;
    for (const auto& prev : entries_) {
      if (prev.name == e.name) {
        r_.error(e.key, "duplicate key '" + e.name + "' (first at line " +
                            std::to_string(prev.key.pos.line) + ")");
        dup = true;
        break;
      }
    }
    if (dup) continue;
    entries_.push_back(std::move(e));
  }
  for (const auto& m : merges) merge(m, merge_depth + 1);
  if (!check_known) return;
  std::vector<Entry> kept;
  for (auto& e : entries_) {
    if (std::find(known_.begin(), known_.end(), e.name) != known_.end()) {
      kept.push_back(std::move(e));
      continue;
    }
    std::string s = suggest(e.name, known_);
    r_.error(e.key,
             "unknown key '" + e.name + "'" + (s.empty() ? "" : "; did you mean '" + s + "'?"));
    if (!s.empty()) suggested_.push_back(s);
  }
  entries_ = std::move(kept);
}

// `<<: *a` or `<<: [*a, *b]`: the first source to name a key wins; explicit keys win over all.
void MapReader::merge(const Val& source, int merge_depth) {
  if (merge_depth > 8) {
    r_.error(source, "merge keys nested too deeply");
    return;
  }
  std::vector<Val> sources;
  if (source.node.IsSequence())
    sources = items(r_, source);
  else
    sources.push_back(source);
  for (const auto& src : sources) {
    if (!src.node.IsMap()) {
      r_.error(src, "a merge key (<<) takes a map or a list of maps, found " +
                        describe(src.node, r_.redact()));
      continue;
    }
    MapReader inner(r_, Val{src.node, self_.path, src.pos, true}, merge_depth);
    for (const auto& e : inner.entries()) {
      bool present = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const Entry& x) { return x.name == e.name; });
      if (!present) entries_.push_back(e);
    }
  }
}

Val MapReader::get(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.name == key) return e.value;
  return Val{YAML::Node(), join_path(self_.path, key), self_.pos, false};
}

Val MapReader::require(std::string_view key) {
  Val v = get(key);
  // A misspelt key already reported with this suggestion says enough.
  bool suggested = std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
  if (!v.present && ok_ && !suggested) r_.error(v, "required key is missing");
  return v;
}

std::vector<Val> items(Reader& r, const Val& v) {
  std::vector<Val> out;
  if (!v.present) return out;
  if (!v.node.IsSequence()) {
    r.error(v, "expected a list, found " + describe(v.node, r.redact()));
    return out;
  }
  size_t i = 0;
  for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
    Val item{*it, v.path + "[" + std::to_string(i) + "]", pos_of(*it), true};
    if (!r.step(item)) return {};
    if (item.pos.line == 0) item.pos = v.pos;
    out.push_back(std::move(item));
  }
  return out;
}

// ---- scalars

bool read_string(Reader& r, const Val& v, std::string& out, bool allow_empty) {
  if (!v.present) return false;
  if (!v.node.IsScalar() || v.node.IsNull()) {
    r.error(v, "expected a string, found " + describe(v.node, r.redact()));
    return false;
  }
  if (!allow_empty && v.node.Scalar().empty()) {
    r.error(v, "must not be empty");
    return false;
  }
  out = v.node.Scalar();
  return true;
}

bool read_bool(Reader& r, const Val& v, bool& out) {
  if (!v.present) return false;
  if (v.node.IsScalar() && is_plain(v.node) && looks_bool(v.node.Scalar())) {
    out = ascii_lower(v.node.Scalar()[0]) == 't';
    return true;
  }
  r.error(v, "expected true or false, found " + describe(v.node, r.redact()));
  return false;
}

bool read_int(Reader& r, const Val& v, int64_t& out, int64_t min, int64_t max) {
  if (!v.present) return false;
  if (!v.node.IsScalar() || !is_plain(v.node) || !looks_int(v.node.Scalar())) {
    r.error(v, "expected an integer, found " + describe(v.node, r.redact()));
    return false;
  }
  std::string_view s = v.node.Scalar();
  bool neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') s.remove_prefix(1);
  auto u = parse_uint(s);
  std::string range = "must be between " + std::to_string(min) + " and " + std::to_string(max);
  if (!u || *u > uint64_t(INT64_MAX)) {
    r.error(v, range);
    return false;
  }
  int64_t n = neg ? -int64_t(*u) : int64_t(*u);
  if (n < min || n > max) {
    r.error(v, range);
    return false;
  }
  out = n;
  return true;
}

bool read_size(Reader& r, const Val& v, uint64_t& out, uint64_t min, uint64_t max) {
  if (!v.present) return false;
  std::optional<uint64_t> n;
  if (v.node.IsScalar() && !v.node.IsNull()) n = parse_size(v.node.Scalar());
  if (!n) {
    r.error(v, "expected a size like 512, 16k or 8m, found " + describe(v.node, r.redact()));
    return false;
  }
  if (*n < min || *n > max) {
    r.error(v, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes");
    return false;
  }
  out = *n;
  return true;
}

bool read_duration(Reader& r, const Val& v, std::chrono::milliseconds& out, int64_t min_ms) {
  if (!v.present) return false;
  std::optional<int64_t> n;
  if (v.node.IsScalar() && !v.node.IsNull()) n = parse_duration_ms(v.node.Scalar());
  if (!n) {
    r.error(v,
            "expected a duration like 250ms, 10s, 5m or 1h, found " + describe(v.node, r.redact()));
    return false;
  }
  if (*n < min_ms) {
    r.error(v, min_ms == 1 ? std::string("must be greater than 0")
                           : "must be at least " + std::to_string(min_ms) + "ms");
    return false;
  }
  out = std::chrono::milliseconds(*n);
  return true;
}

bool read_choice(Reader& r, const Val& v, std::string& out,
                 const std::vector<std::string>& choices) {
  if (!v.present) return false;
  if (!v.node.IsScalar() || v.node.IsNull()) {
    r.error(v,
            "expected one of " + quoted_list(choices) + ", found " + describe(v.node, r.redact()));
    return false;
  }
  const std::string& s = v.node.Scalar();
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) {
    out = s;
    return true;
  }
  r.error(v, "expected one of " + quoted_list(choices) + ", found " + describe(v.node, r.redact()) +
                 did_you_mean(s, choices));
  return false;
}

bool read_string_list(Reader& r, const Val& v, std::vector<std::string>& out) {
  if (!v.present) return false;
  bool ok = v.node.IsSequence();
  for (const auto& item : items(r, v)) {
    std::string s;
    if (read_string(r, item, s))
      out.push_back(std::move(s));
    else
      ok = false;
  }
  return ok;
}

// ---- files

bool read_path(Reader& r, const Val& v, const std::string& base_dir, PathKind kind,
               std::string& out) {
  std::string raw;
  if (!read_string(r, v, raw)) return false;
  if (raw.find('\0') != std::string::npos) {
    r.error(v, "path must not contain a NUL byte");
    return false;
  }
  fs::path p(raw);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  abs = abs.lexically_normal();
  std::string shown = "'" + raw + "'" + (raw == abs.string() ? "" : " (" + abs.string() + ")");
  if (kind == PathKind::ParentDirectory) {
    fs::path parent = abs.parent_path();
    if (!fs::is_directory(parent, ec)) {
      r.error(v, "directory of " + shown + " does not exist");
      return false;
    }
    if (fs::is_directory(abs, ec)) {
      r.error(v, shown + " is a directory");
      return false;
    }
    out = abs.string();
    return true;
  }
  fs::file_status st = fs::status(abs, ec);
  if (ec || !fs::exists(st)) {
    r.error(v, (kind == PathKind::Directory ? "directory " : "file ") + shown + " does not exist");
    return false;
  }
  if (kind == PathKind::Directory) {
    if (!fs::is_directory(st)) {
      r.error(v, shown + " is not a directory");
      return false;
    }
    fs::path canon = fs::canonical(abs, ec);
    if (ec) {
      r.error(v, "cannot resolve " + shown + ": " + ec.message());
      return false;
    }
    out = canon.string();
    return true;
  }
  if (!fs::is_regular_file(st)) {
    r.error(v, shown + " is not a regular file");
    return false;
  }
  if (::access(abs.c_str(), R_OK) != 0) {
    r.error(v, "file " + shown + " is not readable");
    return false;
  }
  out = abs.string();
  return true;
}

std::optional<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                           std::string& why) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    why = "not a regular file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open";
    return std::nullopt;
  }
  std::string data;
  char chunk[16384];
  while (data.size() <= max_bytes && in.read(chunk, sizeof chunk).gcount() > 0)
    data.append(chunk, size_t(in.gcount()));
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  if (data.size() > max_bytes) {
    why = "larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  return data;
}

bool parse_host_port(std::string_view s, std::string& host, uint16_t& port, std::string& why) {
  std::string_view h, p;
  int family = AF_INET;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      why = "expected [ipv6]:port, e.g. [::1]:8443";
      return false;
    }
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
    family = AF_INET6;
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      why = "expected host:port, e.g. 127.0.0.1:8080";
      return false;
    }
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) {
      why = "an IPv6 address must be in brackets, e.g. [::1]:8443";
      return false;
    }
  }
  unsigned char buf[16];
  std::string hs(h);
  if (hs.empty() || inet_pton(family, hs.c_str(), buf) != 1) {
    why = "host '" + hs + "' is not a numeric " + (family == AF_INET ? "IPv4" : "IPv6") +
          " address (names are not resolved here)";
    return false;
  }
  auto pn = parse_uint(p);
  if (!pn || *pn < 1 || *pn > 65535) {
    why = "port '" + std::string(p) + "' must be a number between 1 and 65535";
    return false;
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family, buf, text, sizeof text);
  host = text;
  port = uint16_t(*pn);
  return true;
}

}  // namespace eg::config::detail
