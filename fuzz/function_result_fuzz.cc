// A handler's result on fuzz bytes, judged as Lambda@Edge for each of the four events, as a
// CloudFront Function for both viewer events, and as the request record a CloudFront Function
// on viewer-request returns through the runtime (cff_record.h). Nothing may crash or leak, and what comes
// out must be coherent: a failure is a 502 naming the function and leaves the message as it
// was; an accepted result never puts CR, LF or NUL into a header line, never gives a status
// outside 200-599, and a request's uri starts with '/'.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "functions/cff_event.h"
#include "functions/cff_record.h"
#include "functions/lambda_event.h"

namespace {

using namespace eg;
using namespace eg::functions;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  fprintf(stderr, "function_result_fuzz: %s\ninput: %.*s\n", what, int(input.size()), input.data());
  abort();
}

http::Request sample_request() {
  http::Request r;
  r.method = "POST";
  r.target = "/api/items?a=1&a=2";
  r.path = "/api/items";
  r.query = "a=1&a=2";
  r.has_query = true;
  r.headers.add("Host", "d111111abcdef8.cloudfront.net");
  r.headers.add("Accept", "*/*");
  r.headers.add("Accept-Encoding", "gzip");
  r.headers.add("Cookie", "session=abc; theme=dark");
  r.headers.add("Content-Length", "4");
  r.headers.add("X-Amz-Cf-Id", "hidden");
  r.body = "body";
  return r;
}

http::Response sample_response() {
  http::Response r;
  r.status = 200;
  r.headers.add("Content-Type", "text/html");
  r.headers.add("Via", "1.1 x.cloudfront.net (CloudFront)");
  r.headers.add("Set-Cookie", "a=1; Path=/");
  r.body = "origin body";
  return r;
}

std::string flatten(const http::Headers& h) {
  std::string s;
  for (const auto& x : h) s += x.name + ": " + x.value + "\n";
  return s;
}

bool clean_headers(const http::Headers& h) {
  for (const auto& x : h)
    for (char c : x.name + x.value)
      if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

void check_failure(const std::optional<Failure>& f, std::string_view input) {
  check(f->status == 502, "a validation failure that is not a 502", input);
  check(f->message.find("fns/fuzz.js") != std::string::npos, "a message without the function",
        input);
}

enum class Form { Lambda, CffJson, CffRecord };

void judge_request(EventType event, Form form, bool include_body, std::string_view input) {
  OriginInfo origin;
  origin.domain_name = "example.org";
  http::Request req = sample_request();
  const http::Request before = req;
  RequestResult r;
  if (form == Form::CffRecord) {
    Context c;
    c.event = event;
    CffRequestRecord shown;
    check(build_cff_request_record(c, before, shown), "the sample has no record", input);
    r = apply_cff_request_record({}, CffCall{event, "fns/fuzz.js"}, shown, input, req);
  } else if (form == Form::CffJson) {
    r = apply_cff_request_result({}, CffCall{event, "fns/fuzz.js"}, input, req);
  } else {
    r = apply_lambda_request_result({}, LambdaCall{event, "fns/fuzz.js", include_body, &origin},
                                    input, req);
  }
  if (r.failure) {
    check_failure(r.failure, input);
    check(!r.answer && !r.origin, "a failure with an answer or an origin", input);
    check(req.target == before.target && req.body == before.body &&
              flatten(req.headers) == flatten(before.headers),
          "a failed result changed the request", input);
    return;
  }
  if (r.answer) {
    check(r.answer->status >= 200 && r.answer->status <= 599, "an answer outside 200-599", input);
    check(clean_headers(r.answer->headers), "an answer header with CR/LF/NUL", input);
    check(req.target == before.target, "an answer changed the request", input);
    return;
  }
  check(!req.path.empty() && req.path[0] == '/', "an accepted uri without a leading '/'", input);
  check(clean_headers(req.headers), "an accepted header with CR/LF/NUL", input);
  check(req.target == (req.query.empty() ? req.path : req.path + "?" + req.query),
        "target does not match path and query", input);
  if (r.origin) check(event == EventType::OriginRequest, "an origin outside origin-request", input);
}

void judge_response(EventType event, bool cff, std::string_view input) {
  http::Request req = sample_request();
  http::Response resp = sample_response();
  const http::Response before = resp;
  ResponseResult r =
      cff ? apply_cff_response_result({}, CffCall{event, "fns/fuzz.js"}, input, req, resp)
          : apply_lambda_response_result({}, LambdaCall{event, "fns/fuzz.js", false, nullptr},
                                         input, req, resp);
  if (r.failure) {
    check_failure(r.failure, input);
    check(resp.status == before.status && resp.body == before.body &&
              flatten(resp.headers) == flatten(before.headers),
          "a failed result changed the response", input);
    return;
  }
  check(resp.status >= 200 && resp.status <= 599, "a status outside 200-599", input);
  check(clean_headers(resp.headers), "an accepted header with CR/LF/NUL", input);
  if (event == EventType::ViewerResponse && !cff)
    check(resp.status == before.status, "viewer-response changed the status", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  judge_request(EventType::ViewerRequest, Form::Lambda, false, input);
  judge_request(EventType::ViewerRequest, Form::Lambda, true, input);
  judge_request(EventType::OriginRequest, Form::Lambda, true, input);
  judge_response(EventType::OriginResponse, false, input);
  judge_response(EventType::ViewerResponse, false, input);
  judge_request(EventType::ViewerRequest, Form::CffJson, false, input);
  judge_request(EventType::ViewerRequest, Form::CffRecord, false, input);
  judge_response(EventType::ViewerResponse, true, input);
  return 0;
}
