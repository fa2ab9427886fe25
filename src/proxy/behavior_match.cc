#include "proxy/behavior_match.h"

namespace eg::proxy {

// Iterative glob with single-star backtracking: linear in practice, never exponential.
bool path_pattern_matches(std::string_view pattern, std::string_view path) {
  size_t p = 0, s = 0;
  size_t star = std::string_view::npos, star_s = 0;
  while (s < path.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == path[s])) {
      ++p;
      ++s;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_s = s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

size_t match_behavior(const std::vector<config::Behavior>& behaviors, std::string_view path) {
  for (size_t i = 0; i < behaviors.size(); ++i) {
    const auto& b = behaviors[i];
    if (b.is_default || path_pattern_matches(b.path_pattern, path)) return i;
  }
  return behaviors.empty() ? 0 : behaviors.size() - 1;
}

}  // namespace eg::proxy
