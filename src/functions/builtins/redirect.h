// redirect (viewer-request): answers with a redirect instead of going to the origin.
//
//   viewer-request: {builtin: redirect, from_host: example.com, to: https://www.example.com}
//   viewer-request: {builtin: redirect, prefix: /old/, to: /new/, status: 308}
//   viewer-request: {builtin: redirect, https: true}
//
// Options (checked in this order; the first that applies answers):
//   from_host + to   a host (or list of hosts, matched without case or port) redirected to the
//                    base URL `to` (scheme://host[:port][/path]); the path and query are kept
//   prefix + to      a path prefix replaced by `to` (a path, or an absolute URL); the rest of
//                    the path and the query are kept
//   https            true: plain-HTTP requests go to https://host/path?query
//   https_port       the port in that URL (443: none written)
//   keep_query       true (default): the query string goes along
//   status           301 (default), 302, 303, 307 or 308
#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "functions/builtins/builtin.h"
#include "functions/builtins/options.h"

namespace eg::functions::builtins {

struct RedirectOptions {
  std::vector<std::string> from_hosts;  // lower case
  std::string prefix;
  std::string to;  // without a trailing '/' for from_host
  bool https = false;
  int64_t https_port = 443;
  bool keep_query = true;
  int64_t status = 301;
};

void parse_redirect_options(OptionReader& r, RedirectOptions& out);

struct RedirectMetrics {
  std::atomic<uint64_t> redirected{0};
  std::atomic<uint64_t> passed{0};
};

class Redirect final : public BuiltinFunction {
 public:
  explicit Redirect(RedirectOptions options);

  std::string_view name() const override { return "builtin redirect"; }
  RequestResult on_request_now(const Context& c, http::Request& req) override;
  std::vector<MetricValue> metrics() const override;

 private:
  RequestResult answer(std::string location, const http::Request& req);

  RedirectOptions options_;
  RedirectMetrics metrics_;
};

}  // namespace eg::functions::builtins
