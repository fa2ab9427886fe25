#include "config/loader.h"

#include <algorithm>
#include <filesystem>

#include "config/reader.h"
#include "config/sections.h"

namespace eg::config {
namespace fs = std::filesystem;
using namespace detail;

namespace {

constexpr size_t kMaxConfigBytes = 16 << 20;

const std::vector<std::string> kTopKeys = {
    "listeners",   "origins",     "behaviors", "custom_error_responses",
    "secrets",     "access_log",  "admin",     "limits",
    "development", "server_name", "web_acl"};

void load_document(LoadContext& c, const YAML::Node& doc) {
  Reader& r = c.r;
  Val root = r.root(doc);
  if (doc.IsNull()) {
    r.error(root,
            "the configuration is empty; expected a map with listeners, origins and "
            "behaviors");
    return;
  }
  MapReader m(r, root, kTopKeys);
  if (!m.ok()) return;
  load_listeners(c, m.require("listeners"));
  if (m.has("secrets")) load_secrets(c, m.get("secrets"));
  load_origins(c, m.require("origins"));
  load_behaviors(c, m.require("behaviors"));
  load_custom_errors(c, m.get("custom_error_responses"));
  if (m.has("access_log")) load_access_log(c, m.get("access_log"));
  load_admin(c, m.get("admin"));
  if (m.has("limits")) load_limits(c, m.get("limits"));
  read_bool(r, m.get("development"), c.snap.development);
  Val sv = m.get("server_name");
  if (read_string(r, sv, c.snap.server_name)) {
    const std::string& s = c.snap.server_name;
    bool ok = s.size() <= 64;
    for (char ch : s) ok = ok && (ch == '/' || is_token(std::string_view(&ch, 1)));
    if (!ok)
      r.error(sv,
              "must be at most 64 characters of letters, digits and !#$%&'*+-.^_`|~/ "
              "(no spaces)");
  }
  read_path(r, m.get("web_acl"), c.base_dir, PathKind::File, c.snap.web_acl);
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

LoadResult load_file(const std::string& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return LoadResult{nullptr, {ConfigError{file, 0, 0, "", "cannot read config: no such file"}}};
  }
  std::string why;
  auto text = read_small_file(file, kMaxConfigBytes, why);
  if (!text)
    return LoadResult{nullptr, {ConfigError{file, 0, 0, "", "cannot read config: " + why}}};
  return load_text(*text, file);
}

LoadResult load_text(const std::string& text, const std::string& file) {
  LoadResult result;
  auto snap = std::make_shared<Snapshot>();
  snap->source_file = file;
  snap->source_text = text;
  Reader r(file, result.errors);
  std::string base_dir = fs::path(file).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    r.error(Pos{e.mark.line + 1, e.mark.column + 1}, "", "YAML syntax error: " + e.msg);
    return result;
  } catch (const std::exception& e) {
    r.error(Pos{1, 1}, "", std::string("YAML syntax error: ") + e.what());
    return result;
  }
  if (docs.size() > 1) {
    Pos p = pos_of(docs[1]);
    r.error(p.line ? p : Pos{1, 1}, "",
            "a config file holds one YAML document, found " + std::to_string(docs.size()));
  }
  try {
    LoadContext c{r, result.errors, base_dir, *snap};
    load_document(c, docs.empty() ? YAML::Node() : docs[0]);
  } catch (const std::exception& e) {
    // A yaml-cpp accessor misused on an odd tree: report it rather than crash a reload.
    r.error(Pos{1, 1}, "", std::string("internal error while reading the config: ") + e.what());
  }
  if (!result.errors.empty()) {
    // Config file first in reading order, then other files (the secrets store).
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [&](const ConfigError& a, const ConfigError& b) {
                       bool ao = a.file != file, bo = b.file != file;
                       if (ao != bo) return bo;
                       if (a.file != b.file) return a.file < b.file;
                       if (a.line != b.line) return a.line < b.line;
                       return a.column < b.column;
                     });
    return result;
  }
  result.snapshot = std::move(snap);
  return result;
}

}  // namespace eg::config
