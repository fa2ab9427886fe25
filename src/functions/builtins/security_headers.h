// security-headers (viewer-response or origin-response): adds the usual security headers,
// with the values of CloudFront's managed SecurityHeadersPolicy by default.
//
//   viewer-response: {builtin: security-headers, content_security_policy: "default-src 'self'"}
//
// Options: each header is true (the default value), false (not added) or a string (that value):
//   strict_transport_security  "max-age=31536000"
//   x_content_type_options     "nosniff"
//   x_frame_options            "SAMEORIGIN"
//   x_xss_protection           "1; mode=block"
//   referrer_policy            "strict-origin-when-cross-origin"
//   content_security_policy    off by default: no single policy suits every site (the managed
//                              policy sets none either); true gives "default-src 'self'"
//   custom                     {Header-Name: value} added the same way (Permissions-Policy...)
//   override                   true: replace the origin's values (as the managed policy does);
//                              false: only add headers the origin did not send
#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "functions/builtins/builtin.h"
#include "functions/builtins/options.h"

namespace eg::functions::builtins {

struct SecurityHeadersOptions {
  std::vector<http::Header> headers;  // in the order they are added
  bool override_origin = true;
};

void parse_security_headers_options(OptionReader& r, SecurityHeadersOptions& out);

struct SecurityHeadersMetrics {
  RequestCounter responses;
};

class SecurityHeaders final : public BuiltinFunction {
 public:
  explicit SecurityHeaders(SecurityHeadersOptions options);

  std::string_view name() const override { return "builtin security-headers"; }
  ResponseResult on_response_now(const Context& c, const http::Request& req,
                                 http::Response& resp) override;
  std::vector<MetricValue> metrics() const override;

 private:
  SecurityHeadersOptions options_;
  uint64_t name_lengths_ = 0;  // bit (size % 64) set for the size of each of our names
  SecurityHeadersMetrics metrics_;
};

}  // namespace eg::functions::builtins
