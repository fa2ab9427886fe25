// The four function phases of the pipeline (phases.h) share this: the origin an
// origin-request function chose, the viewer's answer to a failed
// function, and the function log.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/snapshot.h"
#include "functions/function.h"
#include "http/message.h"

namespace eg::logs {
class LogFile;
}

namespace eg::proxy {

// The origin an origin-request function chose. A custom origin becomes an HTTP(S) origin of
// its own (verified TLS, the behavior origin's timeouts); an s3 origin must name a directory
// origin of the config, by its name or by the first label of its domain name
// ("assets.s3.amazonaws.com" is origin "assets"). nullopt and `error` otherwise.
std::optional<config::Origin> origin_from_info(const functions::OriginInfo& info,
                                               const config::Snapshot& snap, std::string& error);

// The viewer's answer to a failed function: Lambda@Edge's status (500 exception, 503
// timeout or crash, 502 invalid result), CloudFront's page wording, the request id, and in
// development mode the whole message.
http::Response function_failure_response(const functions::Failure& f, bool development,
                                         std::string_view request_id);

// One JSON line per console line of the function and one for its failure, like the lines of
// the CloudWatch log group CloudFront writes to. To the diagnostic log when `log` is null.
void log_function_output(logs::LogFile* log, std::string_view function, functions::EventType e,
                         std::string_view request_id, const std::vector<std::string>& lines,
                         const functions::Failure* failure);

}  // namespace eg::proxy
