// The viewer-request fast path of CloudFront Functions: instead of writing the event as JSON
// for JSON.parse and reading JSON.stringify's text of the result back through a JSON parser,
// the gateway hands the runtime a *request record* — the event's strings separated by NUL —
// which JavaScript in the runtime (cff/prelude.cc) turns into the very event the JSON would
// have made, and reads a returned request back into a record of the same form. Why, and what
// falls back to JSON: docs/RATIONALE.md "CloudFront Functions: request records".
//
// A record is a sequence of fields, each followed by one NUL:
//   event:  distributionDomainName distributionId eventType requestId viewerIp
//           method uri querystring headers cookies
//   result: method uri querystring headers cookies
// where each map is: its number of names, then per name (in the event's order) the name, the
// number of its values (1, or more when the name repeats: shown as multiValue) and the values.
// Header names are lowercase; Cookie, Set-Cookie and disallowed headers are not headers here,
// exactly as in the JSON event. In a result, a map the function changed has one value per name
// (a result with a multiValue goes the JSON way); a map it left as it was shown is the one field
// "=", and is read from the event record (so its bytes stay exactly as they came).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "functions/cff/cff.h"
#include "functions/cff_event.h"
#include "functions/function.h"

namespace eg::functions {

struct CffRequestRecord {
  std::string text;
  size_t request_at = 0;  // method onwards: a result record equal to it is the request unchanged
  size_t query_at = 0;    // the three maps
  size_t headers_at = 0;
  size_t cookies_at = 0;
  CffRecordParts parts() const;
};

// Fills `out` with the viewer-request event record of req. false when a value holds a NUL (the
// HTTP parser never lets one through): use the JSON event.
bool build_cff_request_record(const Context& c, const http::Request& req, CffRequestRecord& out);

// Applies a result record (from the runtime) to req like apply_cff_request_result applies the
// JSON form: same checks, same messages. `shown` is the event's record, read for the maps the
// result gives as "=".
RequestResult apply_cff_request_record(const CffLimits& limits, const CffCall& call,
                                       const CffRequestRecord& shown, std::string_view result,
                                       http::Request& req);

}  // namespace eg::functions
