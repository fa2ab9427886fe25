// CloudFront path patterns: `*` matches any run of characters (including '/'), `?` exactly
// one; case-sensitive; matched against the path without the query string. Behaviors are
// tried in order and the first match wins; `default` matches everything and is last.
#pragma once
#include <string_view>
#include <vector>

#include "config/snapshot.h"

namespace eg::proxy {

bool path_pattern_matches(std::string_view pattern, std::string_view path);

// Index of the behavior that serves `path` (the default behavior when nothing else matches).
size_t match_behavior(const std::vector<config::Behavior>& behaviors, std::string_view path);

}  // namespace eg::proxy
