#include "config/loader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

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
    "development", "server_name", "web_acl",   "functions"};

// Records where a document starts; builds nothing.
class DocumentStart : public YAML::EventHandler {
 public:
  YAML::Mark mark = YAML::Mark::null_mark();
  void OnDocumentStart(const YAML::Mark& m) override { note(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (mark.is_null()) mark = m;
  }
};

// Parses the one document of the config. yaml-cpp 0.7's LoadAll never returns on a stray
// token after a flow collection (`[a], b`: upstream issue #1040, fixed in 0.8), so documents
// are counted here with a cap, and a parser that stops advancing is a syntax error.
bool parse_document(Reader& r, const std::string& text, YAML::Node& doc) {
  try {
    doc = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStart starts[3];
    int n = 0;
    while (n < 3 && parser.HandleNextDocument(starts[n])) ++n;
    if (n < 2) return true;
    const YAML::Mark& m = starts[1].mark;
    Pos at = m.is_null() ? Pos{1, 1} : Pos{m.line + 1, m.column + 1};
    if (n == 3 && !starts[2].mark.is_null() && starts[2].mark.pos == m.pos) {
      r.error(at, "", "YAML syntax error: unexpected content after the end of the document");
      return false;
    }
    r.error(at, "", "a config file holds one YAML document; another one starts here");
    return true;
  } catch (const YAML::ParserException& e) {
    r.error(Pos{e.mark.line + 1, e.mark.column + 1}, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    r.error(Pos{1, 1}, "", std::string("YAML syntax error: ") + e.what());
  }
  return false;
}

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
  for (auto& o : c.snap.origins) o.function_view = function_view_of(o);
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
  if (m.has("web_acl")) load_web_acl(c, m.get("web_acl"), c.waf_state);
  if (m.has("functions")) load_function_settings(c, m.get("functions"));
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

LoadResult load_file(const std::string& file, std::shared_ptr<waf::WafState> waf_state) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return LoadResult{nullptr, {ConfigError{file, 0, 0, "", "cannot read config: no such file"}}};
  }
  std::string why;
  auto text = read_small_file(file, kMaxConfigBytes, why);
  if (!text)
    return LoadResult{nullptr, {ConfigError{file, 0, 0, "", "cannot read config: " + why}}};
  return load_text(*text, file, std::move(waf_state));
}

LoadResult load_text(const std::string& text, const std::string& file,
                     std::shared_ptr<waf::WafState> waf_state) {
  LoadResult result;
  auto snap = std::make_shared<Snapshot>();
  snap->source_file = file;
  snap->source_text = text;
  Reader r(file, result.errors);
  std::string base_dir = fs::path(file).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  YAML::Node doc;
  if (!parse_document(r, text, doc)) return result;
  try {
    LoadContext c{r, result.errors, base_dir, *snap, false, false, nullptr};
    c.waf_state = std::move(waf_state);
    load_document(c, doc);
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
