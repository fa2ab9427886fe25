// Path rewrites applied before the origin request: strip a mount prefix, or map a
// wildcard (`/hotels/<*>` -> `/<*>`). The rest of the path, trailing slash included, is
// forwarded exactly as received.
#pragma once
#include <string>
#include <string_view>

#include "config/snapshot.h"

namespace eg::proxy {

// Returns the rewritten path (always starting with '/'). A path the rewrite does not apply
// to is returned unchanged.
std::string rewrite_path(const config::PathRewrite& rw, std::string_view path);

// The path sent to the origin: origin path prefix + rewritten path.
std::string origin_path(std::string_view origin_prefix, std::string_view rewritten);

}  // namespace eg::proxy
