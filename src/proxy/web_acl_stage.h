// The web ACL phase of the pipeline (phases.h): the snapshot's compiled ACL judges the
// request; a block/challenge answer ends it, Allow/Count go on with any x-amzn-waf-*
// headers for the origin. Count-only mode and the failure policy are applied here.
#pragma once
#include <optional>
#include <string>

#include "http/message.h"
#include "waf/acl.h"

namespace eg::logs {
class LogFile;
}

namespace eg::proxy {

struct WebAclOutcome {
  std::optional<http::Response> answer;  // the request ends with this
  bool failed = false;                   // the engine failed; answer follows on_error
};

struct WebAclInput {
  const waf::Acl& acl;
  const waf::Request& request;
  logs::LogFile* log = nullptr;  // the WAF log, when configured
  bool development = false;      // failure details in the response body
};

WebAclOutcome run_web_acl(const WebAclInput& in, http::Headers& extra_origin_headers);

// Prometheus text for /stats: per-rule counters of the current ACL.
std::string render_web_acl_metrics(const waf::Acl& acl);

}  // namespace eg::proxy
