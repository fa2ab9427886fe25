// Builds what reaches the origin from what the viewer sent: the origin request policy
// (which headers, cookies and query strings pass), the Host, the proxy headers (Via,
// X-Forwarded-For, the request id) and the custom origin headers.
#pragma once
#include <string>
#include <string_view>

#include "config/snapshot.h"
#include "http/message.h"

namespace eg::proxy {

inline constexpr std::string_view kRequestIdHeader = "X-Amz-Cf-Id";

// Filters `viewer` headers through the policy into `out` (hop-by-hop headers never pass;
// Content-Type always passes when the request has a body). Host becomes the viewer's Host
// only when the policy forwards it, the origin's authority otherwise.
void apply_header_policy(const config::OriginRequestPolicy& policy, const http::Request& viewer,
                         std::string_view origin_authority, http::Headers& out);

// The Cookie header value that passes the cookie list ("" when none).
std::string filter_cookies(const config::ForwardList& list, std::string_view cookie_header);
// The query string that passes the query list, parameters kept in their received order.
std::string filter_query(const config::ForwardList& list, std::string_view query);

// Adds Via, appends the client address to X-Forwarded-For, sets the request id.
void add_proxy_headers(http::Headers& out, std::string_view client_ip, std::string_view via,
                       std::string_view request_id);

// Sets each custom origin header, replacing a viewer header of the same name. Secret values
// come from `secrets` (the CURRENT version); a missing secret is a config error caught at load.
void add_custom_headers(const config::Origin& origin,
                        const std::map<std::string, config::Secret>& secrets, http::Headers& out);

// "host" or "host:port" when the port is not the scheme's default.
std::string origin_authority(const config::Origin& origin);

}  // namespace eg::proxy
