// Lambda@Edge: the event a handler receives (Records[0].cf, aws-formats §1.1–1.3) and the
// validation and application of what it returns (§1.4–1.7). The event is built as JSON text
// by a direct writer (it goes to a Node worker on every call); results are parsed with
// nlohmann, without exceptions.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "functions/function.h"

namespace eg::functions {

// CloudFront's limits (§1.8), configurable because AWS has moved some of them.
struct LambdaLimits {
  size_t viewer_body_bytes = 40 * 1024;  // include-body: request body shown to viewer-request
  size_t origin_body_bytes = 1024 * 1024;
  size_t viewer_response_bytes = 40 * 1024;  // generated or replaced response, headers + body
  size_t origin_response_bytes = 1024 * 1024;
  size_t max_uri_and_query = 8192;            // uri + querystring must stay below this
  size_t max_result_bytes = 4 * 1024 * 1024;  // JSON text accepted from a handler
  int max_origin_timeout_s = 60;              // readTimeout / keepaliveTimeout upper bound
};

// The event for c.event. resp is required in response events and ignored otherwise.
// include_body: the trigger's Include Body option (request events only); the body is shown
// base64, cut at the viewer/origin limit with inputTruncated set.
std::string build_lambda_event(const LambdaLimits& limits, const Context& c,
                               const http::Request& req, const http::Response* resp,
                               bool include_body);

// What the result is judged against: the call the event described.
struct LambdaCall {
  EventType event = EventType::ViewerRequest;
  std::string_view function_name;      // "fns/auth.js", named in every message
  bool include_body = false;           // as given to build_lambda_event
  const OriginInfo* origin = nullptr;  // Context::origin: the origin the event showed
};

// Request events. result_json is the handler's value, JSON.stringify'd ("undefined" and
// garbage are judged too). On success req holds the returned request, or answer holds the
// generated response (req untouched), and origin is set when an origin-request function
// changed the origin. On failure (502) req is left exactly as it was.
RequestResult apply_lambda_request_result(const LambdaLimits& limits, const LambdaCall& call,
                                          std::string_view result_json, http::Request& req);

// Response events: applies the returned response to resp (status, reason, headers, body
// when one is returned); on failure resp is left exactly as it was.
ResponseResult apply_lambda_response_result(const LambdaLimits& limits, const LambdaCall& call,
                                            std::string_view result_json, const http::Request& req,
                                            http::Response& resp);

bool same_origin(const OriginInfo& a, const OriginInfo& b);

}  // namespace eg::functions
