// The AWS WAFv2 JSON 1.1 protocol (aws-formats.md §3.9), the part that makes sense for a
// gateway: list, read and replace IP sets with optimistic locking, read the web ACL, its
// sampled requests and the addresses a rate-based rule currently limits. The aws CLI and
// boto3 talk to it unchanged (--endpoint-url). handle_wafv2() turns one request (the
// operation from X-Amz-Target and the JSON body) into a response without touching a socket;
// the admin listener authenticates the caller with SigV4 first and writes the answer.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace eg::waf {
class Acl;
class WafState;
}  // namespace eg::waf

namespace eg::admin {

inline constexpr std::string_view kWafv2TargetPrefix = "AWSWAF_20190729.";
inline constexpr std::string_view kAmzJson11 = "application/x-amz-json-1.1";

// What the WAF admin calls see: the running web ACL and the state its IP sets live in.
struct WafApiContext {
  const waf::Acl* acl = nullptr;   // null when no web ACL is configured
  waf::WafState* state = nullptr;  // never null
  int64_t now_ms = 0;              // wall clock, ms since the epoch
};

struct Wafv2Response {
  int status = 200;
  std::string error_type;  // AWS's error shape ("WAFNonexistentItemException"); "" on success
  std::string body;        // JSON
};

// `target` is the X-Amz-Target header ("AWSWAF_20190729.GetIPSet"), `body` the request's
// JSON. Never throws; untrusted input gets AWS's error shapes.
Wafv2Response handle_wafv2(std::string_view target, std::string_view body,
                           const WafApiContext& ctx);

// {"__type": type, "Message": message} with `status` (also used for authentication errors).
Wafv2Response wafv2_error(int status, std::string_view type, std::string_view message);

}  // namespace eg::admin
