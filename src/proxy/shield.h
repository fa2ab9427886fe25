// Shield mode, the origin side of the lock-down (config::Shield): a behavior admits only
// requests that carry a valid origin-verify header, a valid SigV4 signature, or come from an
// allowed address — any or all of the configured checks. Runs first in the pipeline, before
// anything else looks at the request.
#pragma once
#include <optional>
#include <string_view>

#include "config/snapshot.h"
#include "http/message.h"
#include "proxy/pipeline.h"

namespace eg::proxy {

struct ShieldVerdict {
  bool admitted = true;
  // Why not (a metrics label): origin_verify_missing, origin_verify_mismatch,
  // address_not_allowed, sigv4_<failure> (aws/sigv4_verify.h failure_name()).
  std::string_view reason;
  std::optional<Reply> refusal;  // the 403 (AWS's error shape for a SigV4 failure)
};

ShieldVerdict check_shield(const config::Shield& shield, const http::Request& req,
                           const ViewerInfo& viewer, std::string_view request_id);

}  // namespace eg::proxy
