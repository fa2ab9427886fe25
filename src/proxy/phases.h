// The request pipeline, phase by phase (DESIGN.md "The request pipeline"). Every phase
// either continues or ends the request with a response; each is a named function of
// Pipeline (pipeline.cc) in this order:
//
//   viewer_protocol_policy   redirect-to-https (301) / https-only (403)
//   web_acl                  the snapshot's compiled web ACL (web_acl_stage.h); may block,
//                            challenge, or add x-amzn-waf-* headers for the origin
//   allowed_methods          the behavior's method set; others get 403 like CloudFront
//   viewer_request_function  the behavior's viewer-request function (function_stage.h); its
//                            answer is not cached
//   cache_lookup             CacheHook; a hit skips every origin-side phase
//   origin_request_function  origin-request (miss only): may change the request or the
//                            origin, or answer (cached)
//   origin_request           policy (headers/cookies/query), rewrite, proxy headers, then
//                            origin auth, applied last (custom origin headers; SigV4 later)
//   origin_fetch             directory, echo or HTTP(S) origin
//   origin_response_function origin-response (before caching): status, headers, body
//   custom_error_response    a page / response code for the origin's error status
//   cache_store              CacheHook
//   viewer_response_function viewer-response (not for origin >= 400): headers, body
//   response_headers         Via, request id, X-Cache
//
// Functions are compiled into the snapshot's behaviors (config::Behavior::function_at) and
// run by function_stage.h. The cache hook below is the seam the cache module plugs into; a
// null hook means "continue".
#pragma once
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "config/snapshot.h"
#include "http/message.h"

namespace eg::proxy {

// What a hook sees of the request. Narrow on purpose: the cache does not depend on the
// proxy's connection types.
struct RequestView {
  const http::Request& request;
  std::string_view client_ip;
  uint16_t client_port;
  bool https;
  std::string_view request_id;
  const config::Behavior& behavior;
};

// A hook ends the request by returning a response, or continues with nullopt.
using HookAnswer = std::optional<http::Response>;

class CacheHook {
 public:
  virtual ~CacheHook() = default;
  virtual HookAnswer lookup(const RequestView& v) = 0;
  virtual void store(const RequestView& v, const http::Response& r) = 0;
};

struct Hooks {
  std::shared_ptr<CacheHook> cache;
};

}  // namespace eg::proxy
