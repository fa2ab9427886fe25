#include "config/check.h"

#include "config/loader.h"

namespace eg::config {

int run_check(const std::string& file, std::ostream& out, std::ostream& err) {
  LoadResult r = load_file(file);
  if (!r.snapshot) {
    for (const auto& e : r.errors) err << e.to_string() << "\n";
    if (r.errors.empty()) err << file << ": invalid configuration\n";
    err.flush();
    return 1;
  }
  const Snapshot& s = *r.snapshot;
  out << "config OK: " << s.listeners.size() << " listeners, " << s.origins.size() << " origins, "
      << s.behaviors.size() << " behaviors\n";
  out.flush();
  return 0;
}

}  // namespace eg::config
