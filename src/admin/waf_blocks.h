// The operators' WAF calls on the admin listener (bearer token, plain JSON), for what the
// WAFv2 API has no words for: temporary blocks that leave their IP set on their own.
//   GET    /waf/ip-sets                                  sets, addresses and expiries
//   POST   /waf/ip-sets/<name>/addresses                 {"address": "203.0.113.7/32", "ttl":
//   "10m"} DELETE /waf/ip-sets/<name>/addresses/<url-encoded CIDR> GET    /waf/rate-limited per
//   rate-based rule, the limited keys
// <name> may also be the set's Id or its (url-encoded) ARN.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "admin/wafv2_api.h"

namespace eg::admin {

struct AdminReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// nullopt when `path` is not under /waf/ (the caller answers 404). Never throws.
std::optional<AdminReply> handle_waf_admin(std::string_view method, std::string_view path,
                                           std::string_view body, const WafApiContext& ctx);

}  // namespace eg::admin
