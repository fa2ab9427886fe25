// rewrite (viewer-request or origin-request): changes the path sent on, for static sites
// and single-page apps.
//
//   viewer-request: {builtin: rewrite, directory_index: true, no_extension: redirect}
//   origin-request: {builtin: rewrite, spa_fallback: /index.html}
//
// Options (a prefix rewrite runs first, then at most one of the three path modes):
//   prefix + to       a path prefix replaced by another ("/old/" → "/new/")
//   directory_index   true: "/a/" → "/a/index.html" (AWS's "add index.html" function)
//   no_extension      what "/a" (no '.' in its last segment) becomes with directory_index:
//                     none (default) | index ("/a/index.html") | redirect (to "/a/", `status`)
//   index_document    the file name appended: "index.html"
//   spa_fallback      a path (or true: "/index.html") every extensionless path is served from
//   trailing_slash    add ("/a" → "/a/", extensionless paths only) | remove ("/a/" → "/a")
//   status            the no_extension redirect's status: 301 (default), 302, 307, 308
// The query string is kept in every case.
#pragma once
#include <atomic>
#include <string>

#include "functions/builtins/builtin.h"
#include "functions/builtins/options.h"

namespace eg::functions::builtins {

struct RewriteOptions {
  enum class NoExtension : uint8_t { None, Index, Redirect };
  enum class TrailingSlash : uint8_t { None, Add, Remove };
  std::string prefix;
  std::string to;
  bool directory_index = false;
  NoExtension no_extension = NoExtension::None;
  std::string index_document = "index.html";
  std::string spa_fallback;  // empty: off
  TrailingSlash trailing_slash = TrailingSlash::None;
  int64_t status = 301;
};

void parse_rewrite_options(OptionReader& r, RewriteOptions& out);

struct RewriteMetrics {
  RequestCounter rewritten;
  RequestCounter redirected;
  RequestCounter unchanged;
};

class Rewrite final : public BuiltinFunction {
 public:
  explicit Rewrite(RewriteOptions options);

  std::string_view name() const override { return "builtin rewrite"; }
  RequestResult on_request_now(const Context& c, http::Request& req) override;
  std::vector<MetricValue> metrics() const override;

 private:
  RewriteOptions options_;
  RewriteMetrics metrics_;
};

}  // namespace eg::functions::builtins
