// Loads YAML (or JSON) into a Snapshot, validating everything and collecting every error.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/snapshot.h"

namespace eg::waf {
class WafState;
}

namespace eg::config {

// One validation problem, printed as `file:line:col: path.to.field: message`.
struct ConfigError {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based
  std::string path;  // e.g. "behaviors[2].origin"
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Snapshot> snapshot;  // null when errors is not empty
  std::vector<ConfigError> errors;
};

// Reads and validates `file`. Relative paths inside the config (directories, certificates,
// token and secret files) resolve against the config file's folder.
// `waf_state` keeps web ACL state (IP set changes, rate counters) across reloads; null = fresh.
LoadResult load_file(const std::string& file, std::shared_ptr<waf::WafState> waf_state = nullptr);
// Same from text; `file` is used for messages and relative paths.
LoadResult load_text(const std::string& text, const std::string& file,
                     std::shared_ptr<waf::WafState> waf_state = nullptr);

}  // namespace eg::config
