// The functions module's one interface: a Function runs at one event of a behavior and either
// lets the request go on (perhaps changed), answers it, or fails it with the status
// Lambda@Edge documents. Three kinds implement it, each in its own folder:
//   builtins/   native C++ functions (basic-auth, ip-allowlist, ...), registered in one table
//   cff/        CloudFront Functions in process (SpiderMonkey)
//   node/       Lambda@Edge handlers in a pool of Node.js worker processes
// The event model and result validation shared by the JS kinds live in lambda_event.* and
// cff_event.*. Nothing here depends on proxy: the proxy adapts its RequestView to Context.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace eg::waf {
struct IpAddress;
}

namespace eg::functions {

enum class EventType : uint8_t { ViewerRequest, OriginRequest, OriginResponse, ViewerResponse };
std::string_view to_string(EventType e);  // "viewer-request", ...
std::optional<EventType> parse_event_type(std::string_view s);
inline bool is_request_event(EventType e) {
  return e == EventType::ViewerRequest || e == EventType::OriginRequest;
}
inline bool is_viewer_event(EventType e) {
  return e == EventType::ViewerRequest || e == EventType::ViewerResponse;
}

// The origin as Lambda@Edge shows it in origin events (request.origin.custom / .s3).
struct OriginInfo {
  enum class Kind : uint8_t { Custom, S3 };
  Kind kind = Kind::Custom;
  std::string domain_name;  // custom: host name; s3: the bucket's domain name
  std::string path;         // origin path prefix ("" or "/x", no trailing '/')
  uint16_t port = 443;
  std::string protocol = "https";  // http | https (custom only)
  int keepalive_timeout_s = 5;
  int read_timeout_s = 30;
  std::vector<std::string> ssl_protocols = {"TLSv1.2"};
  std::vector<http::Header> custom_headers;  // name as written, value
  std::string auth_method = "none";          // s3: none | origin-access-identity
  std::string region;                        // s3
  // An origin of the config by name, whatever its kind: CloudFront Functions'
  // selectRequestOriginById. When set, the fields above are not used.
  std::string config_origin;
};

// What CloudFront tells a function besides the message: Records[0].cf.config, the viewer.
struct Context {
  EventType event = EventType::ViewerRequest;
  std::string_view request_id;           // config.requestId, context.awsRequestId
  std::string_view distribution_id;      // config.distributionId
  std::string_view distribution_domain;  // config.distributionDomainName
  std::string_view client_ip;
  uint16_t client_port = 0;
  bool https = false;
  const OriginInfo* origin = nullptr;  // origin events: the behavior's origin
  bool development = false;            // full validation messages go to the response body
  // client_ip as parsed once per connection by the proxy, so per-request code need not parse
  // it again; null when the caller has none (then client_ip is the only source).
  const waf::IpAddress* client_address = nullptr;
};

// A function that failed its request. status: 500 exception, 503 timeout/crash/memory,
// 502 invalid result (Lambda@Edge's documented codes). message names the function, the event,
// the field and what was expected; it always goes to the function log.
struct Failure {
  int status = 502;
  std::string message;
};

struct RequestResult {
  std::optional<http::Response> answer;  // the function answered the viewer itself
  std::optional<OriginInfo> origin;      // origin-request switched or changed the origin
  std::optional<Failure> failure;
  std::vector<std::string> logs;  // console output, already prefixed with the request id
};

struct ResponseResult {
  std::optional<Failure> failure;
  // The function set the body: resp.body replaces the origin's (which is not read), "" empties
  // it. Otherwise the origin's body passes through.
  bool body_replaced = false;
  std::vector<std::string> logs;
};

// Compiled once per config snapshot, shared by every worker thread: implementations keep
// per-thread state (a JS context) themselves. A synchronous function (native, CloudFront
// Functions) overrides the *_now pair; an asynchronous one (Node) the awaitable pair and
// returns true from asynchronous().
class Function {
 public:
  virtual ~Function() = default;
  virtual std::string_view name() const = 0;  // "fns/auth.js", "builtin basic-auth"
  virtual std::string_view runtime() const { return "builtin"; }  // nodejs | cloudfront-js
  virtual bool asynchronous() const { return false; }

  virtual RequestResult on_request_now(const Context& c, http::Request& req) {
    RequestResult r;
    r.failure = Failure{500, std::string(name()) + " has no request handler"};
    return r;
  }
  virtual ResponseResult on_response_now(const Context& c, const http::Request& req,
                                         http::Response& resp) {
    ResponseResult r;
    r.failure = Failure{500, std::string(name()) + " has no response handler"};
    return r;
  }
  virtual boost::asio::awaitable<RequestResult> on_request(const Context& c, http::Request& req) {
    co_return on_request_now(c, req);
  }
  virtual boost::asio::awaitable<ResponseResult> on_response(const Context& c,
                                                             const http::Request& req,
                                                             http::Response& resp) {
    co_return on_response_now(c, req, resp);
  }
};

}  // namespace eg::functions
