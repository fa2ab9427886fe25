#include "aws/shared_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace eg::aws {

const std::string* SharedConfigSection::get(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->key == key) return &it->value;
  return nullptr;
}

int SharedConfigSection::line_of(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->key == key) return it->line;
  return 0;
}

const SharedConfigSection* SharedConfigFile::profile(std::string_view name) const {
  for (const auto& p : profiles)
    if (p.profile == name) return &p;
  return nullptr;
}

bool parse_shared_config(std::string_view text, std::string_view path, SharedConfigKind kind,
                         SharedConfigFile& out, std::string& error) {
  out.path = std::string(path);
  out.exists = true;
  out.profiles.clear();
  auto fail = [&](int line, const std::string& msg) {
    error = std::string(path) + ":" + std::to_string(line) + ": " + msg;
    return false;
  };
  SharedConfigSection* current = nullptr;
  bool in_skipped_section = false;
  bool in_any_section = false;
  bool after_key = false;  // an indented line may continue the previous key
  int line_no = 0;
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 BOM (Windows editors)
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view raw = text.substr(i, j - i);
    i = j + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (raw[0] == ' ' || raw[0] == '\t') {
      if (!after_key) return fail(line_no, "indented line outside a nested setting");
      continue;  // nested setting (e.g. under "s3 =")
    }
    if (line[0] == '[') {
      if (line.back() != ']') return fail(line_no, "section header without a closing ']'");
      std::string_view name = trim(line.substr(1, line.size() - 2));
      if (name.empty()) return fail(line_no, "empty section name '[]'");
      in_any_section = true;
      after_key = false;
      std::string profile;
      if (kind == SharedConfigKind::kCredentials) {
        profile = std::string(name);
      } else if (name == "default") {
        profile = "default";
      } else if (name.size() > 8 && name.substr(0, 7) == "profile" &&
                 (name[7] == ' ' || name[7] == '\t')) {
        profile = std::string(trim(name.substr(8)));
      }
      if (profile.empty()) {
        in_skipped_section = true;  // [sso-session x], [services x], [plugins]...
        current = nullptr;
        continue;
      }
      in_skipped_section = false;
      current = nullptr;
      for (auto& p : out.profiles)
        if (p.profile == profile) current = &p;
      if (!current) {
        out.profiles.push_back({profile, line_no, {}});
        current = &out.profiles.back();
      }
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return fail(line_no, "expected 'key = value' or '[section]', not '" +
                               std::string(line.substr(0, 80)) + "'");
    std::string key = to_lower(trim(line.substr(0, eq)));
    if (key.empty()) return fail(line_no, "a setting with an empty name");
    if (!in_any_section) return fail(line_no, "'" + key + "' is outside any [section]");
    after_key = true;
    if (in_skipped_section || !current) continue;
    current->entries.push_back({key, std::string(trim(line.substr(eq + 1))), line_no});
  }
  return true;
}

bool load_shared_config_file(const std::string& path, SharedConfigKind kind, SharedConfigFile& out,
                             std::string& error) {
  out = SharedConfigFile{};
  out.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || errno == ENOTDIR) return true;  // no file: nothing configured
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_shared_config(ss.str(), path, kind, out, error);
}

}  // namespace eg::aws
