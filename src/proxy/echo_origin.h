// The built-in `echo` origin: answers with the request it received, as JSON. It sees
// exactly what an HTTP origin would (after policies, rewrites and custom headers), which
// makes it the quickest way to check a behavior.
#pragma once
#include <string_view>

#include "http/message.h"

namespace eg::proxy {

// {"method": "GET", "path": "/x", "query": "a=1", "headers": {"host": "...", ...},
//  "body": "..."}; header names lowercased, repeated headers joined with ", ".
// A body that is not valid UTF-8 is given base64 in "body_base64" instead.
http::Response echo_response(std::string_view method, std::string_view path, std::string_view query,
                             const http::Headers& headers, std::string_view body);

}  // namespace eg::proxy
