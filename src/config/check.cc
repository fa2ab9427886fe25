#include "config/check.h"

#include "config/loader.h"
#include "waf/acl.h"

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
      << s.behaviors.size() << " behaviors";
  if (s.waf.acl)
    out << ", web ACL " << s.waf.acl->name() << " (" << s.waf.acl->rule_count() << " rules"
        << (s.waf.acl->count_only() ? ", count only" : "") << ")";
  out << "\n";
  out.flush();
  return 0;
}

}  // namespace eg::config
