// CloudFront Functions: the event a handler receives (version "1.0", aws-formats §2.1) and
// the validation and application of the request or response it returns (§2.2–2.3).
// querystring, headers and cookies are objects keyed by name, each {value} or
// {value, multiValue: [{value}, ...]} when the name repeats; Cookie and Set-Cookie appear
// only as cookies. Query names and values are shown as they arrived (not percent-decoded).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "functions/function.h"

namespace eg::functions {

struct CffLimits {
  size_t response_bytes = 40 * 1024;  // a generated or changed response, headers + body
  size_t max_uri_and_query = 8192;
  size_t max_result_bytes = 1024 * 1024;  // JSON text accepted from a handler
};

// The event for c.event (viewer-request or viewer-response; resp is required for the latter).
std::string build_cff_event(const Context& c, const http::Request& req, const http::Response* resp);

struct CffCall {
  EventType event = EventType::ViewerRequest;
  std::string_view function_name;  // named in every message
};

// viewer-request: the returned request is applied to req, or a returned response object
// (with statusCode) becomes answer. On failure (502) req is left exactly as it was.
RequestResult apply_cff_request_result(const CffLimits& limits, const CffCall& call,
                                       std::string_view result_json, http::Request& req);

// viewer-response: the returned response is applied to resp; on failure resp is unchanged.
ResponseResult apply_cff_response_result(const CffLimits& limits, const CffCall& call,
                                         std::string_view result_json, const http::Request& req,
                                         http::Response& resp);

}  // namespace eg::functions
