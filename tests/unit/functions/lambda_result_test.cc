#include <gtest/gtest.h>

#include "core/base64.h"
#include "event_test_util.h"
#include "functions/lambda_event.h"

namespace eg::functions {
namespace {

using namespace testing;

// A handler's view: the event's request (or response) as JSON, to change and return.
struct Handler {
  EventType event;
  http::Request req;
  http::Response resp;
  OriginInfo origin;
  LambdaLimits limits;
  bool include_body = false;

  explicit Handler(EventType e,
                   http::Request r = make_request("GET", "/index.html?a=1",
                                                  {{"Host", "d111111abcdef8.cloudfront.net"},
                                                   {"User-Agent", "curl/8.5.0"},
                                                   {"Accept", "*/*"}}))
      : event(e),
        req(std::move(r)),
        resp(make_response(
            200,
            {{"Content-Type", "text/html"}, {"Via", "1.1 x (CloudFront)"}, {"Server", "nginx"}})) {
    origin.domain_name = "example.org";
  }
  LambdaCall call() const { return LambdaCall{event, "fns/f.js", include_body, &origin}; }
  Json cf() const {
    auto c = make_context(event, &origin);
    auto e = parse(build_lambda_event(limits, c, req, is_request_event(event) ? nullptr : &resp,
                                      include_body));
    return e["Records"][0]["cf"];
  }
  Json request() const { return cf()["request"]; }
  Json response() const { return cf()["response"]; }
  RequestResult apply(const std::string& text) {
    return apply_lambda_request_result(limits, call(), text, req);
  }
  RequestResult apply(const Json& j) { return apply(j.dump()); }
  ResponseResult apply_response(const Json& j) {
    return apply_lambda_response_result(limits, call(), j.dump(), req, resp);
  }
};

TEST(LambdaResult, TheUnchangedRequestChangesNothing) {
  Handler h(EventType::ViewerRequest);
  http::Request before = h.req;
  auto r = h.apply(h.request());
  EXPECT_FALSE(r.failure) << r.failure->message;
  EXPECT_FALSE(r.answer);
  EXPECT_FALSE(r.origin);
  EXPECT_TRUE(same_request(before, h.req));
}

TEST(LambdaResult, HeadersGoBackWithTheKeyCaseOrTitleCase) {
  Handler h(EventType::ViewerRequest);
  Json r = h.request();
  r["headers"]["x-api-key"] = Json::parse(R"([{"key": "X-API-KEY", "value": "k1"}])");
  r["headers"]["x-custom-thing"] = Json::parse(R"([{"value": "v"}])");
  r["headers"]["accept-language"] =
      Json::parse(R"([{"key": "Accept-Language", "value": "en"}, {"value": "fr"}])");
  r["headers"].erase("user-agent");
  r["uri"] = "/rewritten/index.html";
  r["querystring"] = "lang=en&x=%20y";
  auto result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(lines(h.req.headers),
            (std::vector<std::string>{"Host: d111111abcdef8.cloudfront.net", "Accept: */*",
                                      "X-API-KEY: k1", "X-Custom-Thing: v", "Accept-Language: en",
                                      "Accept-Language: fr"}));
  EXPECT_EQ(h.req.path, "/rewritten/index.html");
  EXPECT_EQ(h.req.query, "lang=en&x=%20y");
  EXPECT_EQ(h.req.target, "/rewritten/index.html?lang=en&x=%20y");
}

TEST(LambdaResult, HiddenHeadersSurviveTheFunction) {
  Handler h(EventType::OriginRequest,
            make_request("GET", "/", {{"Host", "example.org"}, {"X-Amz-Cf-Id", "abc"}}));
  auto result = h.apply(h.request());
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(lines(h.req.headers),
            (std::vector<std::string>{"Host: example.org", "X-Amz-Cf-Id: abc"}));
}

TEST(LambdaResult, AGeneratedResponseAnswersAndLeavesTheRequestAlone) {
  Handler h(EventType::ViewerRequest);
  http::Request before = h.req;
  auto r = h.apply(std::string(R"({"status": "302", "statusDescription": "Found",
      "headers": {"location": [{"key": "Location", "value": "https://example.com/login"}],
                  "cache-control": [{"value": "no-store"}]}})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, 302);
  EXPECT_EQ(r.answer->reason, "Found");
  EXPECT_EQ(
      lines(r.answer->headers),
      (std::vector<std::string>{"Location: https://example.com/login", "Cache-Control: no-store"}));
  EXPECT_TRUE(same_request(before, h.req));

  r = h.apply(std::string(R"({"status": 200, "body": "aGVsbG8=", "bodyEncoding": "base64"})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.answer->body, "hello");
  EXPECT_EQ(r.answer->content_length, 5u);
  r = h.apply(std::string(R"({"status": 403, "body": "<h1>denied</h1>"})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.answer->body, "<h1>denied</h1>");
}

TEST(LambdaResult, CommonMistakesAreNamed) {
  Handler h(EventType::ViewerRequest);
  struct Case {
    std::string result;
    std::vector<std::string_view> says;
  } cases[] = {
      {"undefined", {"returned undefined", "callback(null"}},
      {"", {"returned undefined"}},
      {"null", {"returned null"}},
      {"{\"uri\": ", {"not JSON", "The JSON output is not parsable"}},
      {"[1,2]", {"returned an array", "must be an object type"}},
      {"\"/index.html\"", {"returned a string"}},
      {R"({"Records": [{"cf": {}}]})", {"returned the whole event", "Records[0].cf.request"}},
      {R"({"config": {}, "request": {}})", {"returned event.Records[0].cf"}},
      {R"({"statusCode": 302, "headers": {}})",
       {"viewer-request function fns/f.js returned a response with `statusCode`; a Lambda@Edge "
        "response uses `status` (CloudFront Functions use `statusCode`)"}},
      {R"({"headers": {}, "body": "x"})", {"response without `status`"}},
      {R"({"headers": {}})", {"neither a request", "no `uri`"}},
      {std::string(100, '[') + std::string(100, ']'), {"nested more than 64"}},
  };
  for (const auto& c : cases) {
    auto r = h.apply(c.result);
    EXPECT_FAILURE_NAMES(r.failure, "viewer-request");
    for (auto s : c.says)
      EXPECT_NE(r.failure->message.find(s), std::string::npos)
          << c.result << " -> " << r.failure->message;
  }
}

// Each header rule, on an otherwise valid request: the failure names the event, the function
// and the field, and quotes CloudFront's text where one exists.
TEST(LambdaResult, HeaderRules) {
  struct Case {
    EventType event;
    const char* header;
    const char* entries;  // JSON, or nullptr to delete the header
    std::vector<std::string_view> says;
  } cases[] = {
      {EventType::ViewerRequest,
       "content-type",
       R"("text/html")",
       {"headers.content-type must be an array of {key, value} objects, got a string",
        "Each header entry in the headers object must be an array"}},
      {EventType::ViewerRequest,
       "content-type",
       R"({"key": "Content-Type", "value": "x"})",
       {"headers.content-type must be an array", "got an object"}},
      {EventType::ViewerRequest,
       "x-n",
       R"([{"key": "X-N", "value": 5}])",
       {"headers.x-n[0].value must be a string, got a number"}},
      {EventType::ViewerRequest, "x-n", R"([{"key": "X-N"}])", {"headers.x-n[0] has no `value`"}},
      {EventType::ViewerRequest,
       "x-n",
       R"([{"key": "X-Other", "value": "1"}])",
       {"headers.x-n[0].key 'X-Other' does not match"}},
      {EventType::ViewerRequest,
       "X-Upper",
       R"([{"key": "X-Upper", "value": "1"}])",
       {"'X-Upper'", "lowercase", "headers['x-upper']"}},
      {EventType::ViewerRequest, "bad name", R"([{"value": "1"}])", {"not a valid header name"}},
      {EventType::ViewerRequest,
       "x-forwarded-proto",
       R"([{"value": "https"}])",
       {"headers.x-forwarded-proto", "disallowed", "tried to add a blacklisted header"}},
      {EventType::OriginRequest, "x-edge-origin", R"([{"value": "1"}])", {"disallowed"}},
      {EventType::ViewerRequest,
       "location",
       R"([{"key": "Location", "value": "/a\r\nSet-Cookie: x"}])",
       {"headers.location[0].value", "'%0D' (CR)", "invalid character"}},
      {EventType::ViewerRequest,
       "host",
       R"([{"key": "Host", "value": "evil.example"}])",
       {"headers.host: Host is read-only in viewer-request events, and the function changed it "
        "from 'd111111abcdef8.cloudfront.net' to 'evil.example'",
        "tried to add, delete, or change a read-only header"}},
      {EventType::ViewerRequest,
       "host",
       nullptr,
       {"Host is read-only", "and the function removed it"}},
      {EventType::ViewerRequest,
       "via",
       R"([{"value": "1.1 me"}])",
       {"Via is read-only", "and the function added it"}},
      {EventType::OriginRequest,
       "accept-encoding",
       R"([{"value": "br"}])",
       {"Accept-Encoding is read-only in origin-request", "added"}},
      {EventType::OriginRequest,
       "if-none-match",
       R"([{"value": "\"x\""}])",
       {"If-None-Match is read-only"}},
      {EventType::ViewerRequest,
       "cloudfront-viewer-country",
       R"([{"value": "US"}])",
       {"may not add CloudFront-Viewer-Country"}},
  };
  for (const auto& c : cases) {
    Handler h(c.event);
    http::Request before = h.req;
    Json r = h.request();
    if (c.entries)
      r["headers"][c.header] = Json::parse(c.entries);
    else
      r["headers"].erase(c.header);
    auto result = h.apply(r);
    EXPECT_FAILURE_NAMES(result.failure, to_string(c.event));
    for (auto s : c.says)
      EXPECT_NE(result.failure->message.find(s), std::string::npos)
          << c.header << " -> " << result.failure->message;
    EXPECT_TRUE(same_request(before, h.req)) << c.header;
  }
}

TEST(LambdaResult, ReadOnlyHeadersMayBeReadAndReturnedUnchanged) {
  Handler h(EventType::OriginRequest, make_request("GET", "/",
                                                   {{"Host", "example.org"},
                                                    {"Accept-Encoding", "gzip"},
                                                    {"Via", "2.0 x.cloudfront.net (CloudFront)"}}));
  Json r = h.request();
  r["headers"]["x-added"] = Json::parse(R"([{"value": "1"}])");
  auto result = h.apply(r);
  EXPECT_FALSE(result.failure) << result.failure->message;
  // Host may change in origin-request (it is read-only only in viewer-request).
  r["headers"]["host"] = Json::parse(R"([{"key": "Host", "value": "other.example"}])");
  result = h.apply(r);
  EXPECT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(*h.req.headers.find("host"), "other.example");
}

TEST(LambdaResult, RequestFieldRules) {
  struct Case {
    const char* field;
    Json value;
    std::vector<std::string_view> says;
  } cases[] = {
      {"uri", "index.html", {"uri must start with '/'"}},
      {"uri", 5, {"uri must be a string, got a number"}},
      {"uri", "/a b", {"uri contains the invalid character", "(space)"}},
      {"uri", "/" + std::string(8200, 'a'), {"uri + querystring", "under 8192"}},
      {"querystring", "a=b c", {"querystring contains", "(space)"}},
      {"querystring", "a=b#frag", {"querystring contains", "'#'"}},
      {"querystring", "a=\x01", {"querystring contains", "control"}},
      {"querystring",
       Json::parse(R"({"a": {"value": "1"}})"),
       {"querystring must be a string", "CloudFront Functions shape"}},
      {"method", "POST", {"method is read-only", "GET", "POST"}},
      {"origin", Json::parse(R"({"custom": {}})"), {"origin-request"}},
  };
  for (const auto& c : cases) {
    Handler h(EventType::ViewerRequest);
    http::Request before = h.req;
    Json r = h.request();
    r[c.field] = c.value;
    auto result = h.apply(r);
    EXPECT_FAILURE_NAMES(result.failure, "viewer-request");
    for (auto s : c.says)
      EXPECT_NE(result.failure->message.find(s), std::string::npos)
          << c.field << " -> " << result.failure->message;
    EXPECT_TRUE(same_request(before, h.req));
  }
}

TEST(LambdaResult, GeneratedResponseRules) {
  struct Case {
    EventType event;
    const char* result;
    std::vector<std::string_view> says;
  } cases[] = {
      {EventType::ViewerRequest, R"({"status": 600})", {"between 200 and 599, got 600"}},
      {EventType::ViewerRequest, R"({"status": "199"})", {"between 200 and 599, got 199"}},
      {EventType::ViewerRequest, R"({"status": "OK"})", {"status must be a number or a numeric"}},
      {EventType::ViewerRequest, R"({"status": 204, "body": "x"})", {"204", "body"}},
      {EventType::ViewerRequest,
       R"({"status": 200, "body": {"a": 1}})",
       {"body must be a string, got an object", "JSON.stringify", "The body is not a string"}},
      {EventType::ViewerRequest,
       R"({"status": 200, "body": "%%%", "bodyEncoding": "base64"})",
       {"not valid base64"}},
      {EventType::ViewerRequest,
       R"({"status": 200, "bodyEncoding": "gzip"})",
       {"bodyEncoding must be \"text\" or \"base64\""}},
      {EventType::ViewerRequest,
       R"({"status": 200, "statusDescription": 7})",
       {"statusDescription must be a string"}},
  };
  for (const auto& c : cases) {
    Handler h(c.event);
    auto r = h.apply(std::string(c.result));
    EXPECT_FAILURE_NAMES(r.failure, to_string(c.event));
    EXPECT_FALSE(r.answer);
    for (auto s : c.says)
      EXPECT_NE(r.failure->message.find(s), std::string::npos)
          << c.result << " -> " << r.failure->message;
  }
  // 204 with a body is refused only in viewer-request.
  Handler origin(EventType::OriginRequest);
  auto r = origin.apply(std::string(R"({"status": 204, "body": "x"})"));
  EXPECT_FALSE(r.failure) << r.failure->message;
}

TEST(LambdaResult, GeneratedResponseSizeLimitsDifferByEvent) {
  std::string body(41 * 1024, 'x');
  Json resp = {{"status", 200}, {"body", body}};
  Handler viewer(EventType::ViewerRequest);
  auto r = viewer.apply(resp);
  EXPECT_FAILURE_NAMES(r.failure, "viewer-request", "40960 bytes", "exceeds the maximum size");
  Handler origin(EventType::OriginRequest);
  r = origin.apply(resp);
  EXPECT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.answer->body.size(), body.size());
  resp["body"] = std::string(1024 * 1024 + 1, 'x');
  r = origin.apply(resp);
  EXPECT_FAILURE_NAMES(r.failure, "origin-request", "1048576 bytes");
}

TEST(LambdaResult, IncludeBodyReplaceWithTextOrBase64) {
  Handler h(
      EventType::ViewerRequest,
      make_request("POST", "/form", {{"Host", "a.example"}, {"Content-Length", "5"}}, "a=1&b"));
  h.include_body = true;
  Json r = h.request();
  EXPECT_EQ(base64_decode(r["body"]["data"].get<std::string>()), "a=1&b");
  // read-only: changes to data are ignored.
  r["body"]["data"] = base64_encode("ignored");
  auto result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.req.body, "a=1&b");

  r["body"] = Json::parse(R"({"action": "replace", "encoding": "text", "data": "{\"x\":1}"})");
  result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.req.body, "{\"x\":1}");
  EXPECT_EQ(*h.req.headers.find("content-length"), "7");

  r = h.request();
  r["body"]["action"] = "replace";
  r["body"]["data"] = base64_encode(std::string("\x00\x01\xff", 3));
  result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.req.body, std::string("\x00\x01\xff", 3));
}

TEST(LambdaResult, IncludeBodyRules) {
  struct Case {
    const char* body;
    bool include;
    std::vector<std::string_view> says;
  } cases[] = {
      {R"({"action": "replace", "data": "not base64!"})", true, {"body.data is not valid base64"}},
      {R"({"action": "replace", "encoding": "hex", "data": "00"})", true, {"body.encoding"}},
      {R"({"action": "append", "data": ""})", true, {"body.action must be"}},
      {R"({"action": "replace", "encoding": "text"})", true, {"body.data must be a string"}},
      {R"({"inputTruncated": true, "action": "read-only"})",
       true,
       {"body.inputTruncated is read-only"}},
      {R"({"action": "replace", "encoding": "text", "data": "x"})",
       false,
       {"does not include the body", "include_body: true"}},
      {R"("raw text")", true, {"body must be an object"}},
  };
  for (const auto& c : cases) {
    Handler h(EventType::ViewerRequest,
              make_request("POST", "/", {{"Host", "a.example"}, {"Content-Length", "2"}}, "hi"));
    h.include_body = c.include;
    http::Request before = h.req;
    Json r = h.request();
    r["body"] = Json::parse(c.body);
    auto result = h.apply(r);
    EXPECT_FAILURE_NAMES(result.failure, "viewer-request");
    for (auto s : c.says)
      EXPECT_NE(result.failure->message.find(s), std::string::npos)
          << c.body << " -> " << result.failure->message;
    EXPECT_TRUE(same_request(before, h.req));
  }
  // A replacement body is limited like the body shown.
  Handler h(EventType::ViewerRequest, make_request("POST", "/", {{"Host", "a.example"}}, "x"));
  h.include_body = true;
  h.limits.viewer_body_bytes = 4;
  Json r = h.request();
  r["body"] = {{"action", "replace"}, {"encoding", "text"}, {"data", "12345"}};
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "viewer-request", "limited to 4 bytes");
}

TEST(LambdaResult, ApplicationIsAtomic) {
  Handler h(EventType::ViewerRequest,
            make_request("POST", "/a?x=1", {{"Host", "a.example"}, {"X-Keep", "1"}}, "body"));
  h.include_body = true;
  http::Request before = h.req;
  Json r = h.request();
  r["uri"] = "/changed";
  r["querystring"] = "y=2";
  r["headers"]["x-new"] = Json::parse(R"([{"value": "v"}])");
  r["body"] = {{"action", "replace"}, {"encoding", "text"}, {"data", "new"}};
  r["headers"]["x-bad"] = Json::parse(R"([{"value": "a\nb"}])");  // fails last
  auto result = h.apply(r);
  ASSERT_TRUE(result.failure);
  EXPECT_TRUE(same_request(before, h.req));

  Handler resp(EventType::OriginResponse);
  http::Response resp_before = resp.resp;
  Json out = resp.response();
  out["status"] = 500;
  out["body"] = "replaced";
  out["headers"]["via"] = Json::parse(R"([{"value": "changed"}])");
  ASSERT_TRUE(resp.apply_response(out).failure);
  EXPECT_EQ(resp.resp.status, resp_before.status);
  EXPECT_EQ(lines(resp.resp.headers), lines(resp_before.headers));
}

TEST(LambdaResult, OriginSwitchReturnsTheNewOrigin) {
  Handler h(EventType::OriginRequest);
  h.origin.custom_headers = {{"X-Origin-Verify", "s"}};
  Json r = h.request();
  // Unchanged origin: nothing to switch.
  auto result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_FALSE(result.origin);

  r["origin"] = Json::parse(R"({"s3": {"authMethod": "none", "customHeaders": {},
      "domainName": "assets.s3.eu-west-1.amazonaws.com", "path": "/v2", "region": "eu-west-1"}})");
  result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  ASSERT_TRUE(result.origin);
  EXPECT_EQ(result.origin->kind, OriginInfo::Kind::S3);
  EXPECT_EQ(result.origin->domain_name, "assets.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(result.origin->path, "/v2");
  EXPECT_EQ(result.origin->region, "eu-west-1");

  h.origin = *result.origin;
  r = h.request();
  r["origin"] = Json::parse(R"({"custom": {"customHeaders": {"x-k": [{"key": "X-K", "value": "1"}]},
      "domainName": "api.example.com", "keepaliveTimeout": 10, "path": "", "port": 8443,
      "protocol": "https", "readTimeout": 20, "sslProtocols": ["TLSv1.2"]}})");
  result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  ASSERT_TRUE(result.origin);
  EXPECT_EQ(result.origin->kind, OriginInfo::Kind::Custom);
  EXPECT_EQ(result.origin->domain_name, "api.example.com");
  EXPECT_EQ(result.origin->port, 8443);
  EXPECT_EQ(result.origin->read_timeout_s, 20);
  EXPECT_EQ(result.origin->keepalive_timeout_s, 10);
  ASSERT_EQ(result.origin->custom_headers.size(), 1u);
  EXPECT_EQ(result.origin->custom_headers[0].name, "X-K");
}

TEST(LambdaResult, OriginRules) {
  const char* custom = R"({"customHeaders": {}, "domainName": "api.example.com",
      "keepaliveTimeout": 5, "path": "", "port": 443, "protocol": "https", "readTimeout": 30,
      "sslProtocols": ["TLSv1.2"]})";
  struct Case {
    const char* field;
    Json value;
    std::vector<std::string_view> says;
  } cases[] = {
      {"domainName", "192.0.2.10", {"origin.custom.domainName", "not an IP address"}},
      {"domainName", "api.example.com:8443", {"must not contain ':'"}},
      {"domainName", std::string(254, 'a'), {"1 to 253 characters"}},
      {"domainName", "bad_host!", {"not a valid DNS name"}},
      {"port", 22, {"origin.custom.port must be 80, 443 or 1024-65535, got 22"}},
      {"port", "443", {"origin.custom.port must be a number"}},
      {"protocol", "ftp", {"origin.custom.protocol"}},
      {"path", "/a/", {"origin.custom.path", "no trailing '/'"}},
      {"path", "a", {"start with '/'"}},
      {"path", "/a b", {"URL-encoded"}},
      {"readTimeout", 2, {"origin.custom.readTimeout must be between 4 and 60, got 2"}},
      {"keepaliveTimeout", 61, {"keepaliveTimeout must be between 1 and 60"}},
      {"sslProtocols", Json::parse(R"(["TLSv1.3"])"), {"sslProtocols has \"TLSv1.3\""}},
      {"customHeaders",
       Json::parse(R"({"host": [{"value": "x"}]})"),
       {"origin.custom.customHeaders.host duplicates the request header host"}},
      {"customHeaders", Json::parse(R"({"x-real-ip": [{"value": "x"}]})"), {"disallowed"}},
  };
  for (const auto& c : cases) {
    Handler h(EventType::OriginRequest);
    Json r = h.request();
    r["origin"]["custom"] = Json::parse(custom);
    if (c.value.is_null())
      r["origin"]["custom"].erase(c.field);
    else
      r["origin"]["custom"][c.field] = c.value;
    auto result = h.apply(r);
    EXPECT_FAILURE_NAMES(result.failure, "origin-request");
    EXPECT_FALSE(result.origin);
    for (auto s : c.says)
      EXPECT_NE(result.failure->message.find(s), std::string::npos)
          << c.field << " -> " << result.failure->message;
  }
  Handler h(EventType::OriginRequest);
  Json r = h.request();
  r["origin"]["s3"] = Json::parse(R"({"authMethod": "none", "customHeaders": {},
      "domainName": "b.s3.amazonaws.com", "path": "", "region": ""})");
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request", "exactly one of", "got both");
  r["origin"] = Json::object();
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request", "got neither");
  r["origin"] = Json::parse(R"({"custom": {"domainName": "a.example"}})");
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request", "origin.custom.path is missing");
  r["origin"] = Json::parse(R"({"s3": {"authMethod": "origin-access-identity",
      "customHeaders": {}, "domainName": "b.s3.amazonaws.com", "path": "", "region": ""}})");
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request", "origin.s3.region is required");
  r["origin"]["s3"]["region"] = "us-east-1";
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request",
                       "cannot be used when switching from a custom origin");
  r["origin"]["s3"]["authMethod"] = "none";
  r["origin"]["s3"]["domainName"] = "Bucket.s3.amazonaws.com";
  EXPECT_FAILURE_NAMES(h.apply(r).failure, "origin-request", "must be lowercase");
}

TEST(LambdaResult, ResponseEventsApplyStatusHeadersAndBody) {
  Handler h(EventType::OriginResponse);
  h.resp.status = 503;
  h.resp.body = "upstream down";
  Json r = h.response();
  r["status"] = 200;
  r["statusDescription"] = "OK";
  r["headers"]["cache-control"] = Json::parse(R"([{"value": "max-age=60"}])");
  r["headers"].erase("server");
  r["body"] = "<p>maintenance</p>";
  auto result = h.apply_response(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.resp.status, 200);
  EXPECT_EQ(h.resp.reason, "OK");
  EXPECT_EQ(h.resp.body, "<p>maintenance</p>");
  EXPECT_EQ(lines(h.resp.headers),
            (std::vector<std::string>{"Content-Type: text/html", "Via: 1.1 x (CloudFront)",
                                      "Cache-Control: max-age=60"}));
  // No body in the result: the origin's body passes through.
  h.resp.body = "origin body";
  result = h.apply_response(h.response());
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.resp.body, "origin body");
  // "" removes it.
  r = h.response();
  r["body"] = "";
  ASSERT_FALSE(h.apply_response(r).failure);
  EXPECT_EQ(h.resp.body, "");
}

TEST(LambdaResult, ResponseEventRules) {
  Handler h(EventType::ViewerResponse);
  Json r = h.response();
  r["status"] = "302";
  auto result = h.apply_response(r);
  EXPECT_FAILURE_NAMES(result.failure, "viewer-response", "from 200 to 302",
                       "viewer-response functions cannot change the status");
  r = h.response();
  r["headers"]["via"] = Json::parse(R"([{"value": "mine"}])");
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response",
                       "Via is read-only in viewer-response");
  r = h.response();
  r["headers"]["warning"] = Json::parse(R"([{"value": "199 - x"}])");
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response", "Warning is read-only");
  r = h.response();
  r.erase("status");
  r["statusCode"] = 200;
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response", "`statusCode`");
  EXPECT_FAILURE_NAMES(h.apply_response(h.request()).failure, "viewer-response",
                       "returned the request", "Records[0].cf.response");
  r = h.response();
  r.erase("headers");
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response", "no `headers`");
  // origin-response may change the status, within range.
  Handler o(EventType::OriginResponse);
  r = o.response();
  r["status"] = 700;
  EXPECT_FAILURE_NAMES(o.apply_response(r).failure, "origin-response", "between 200 and 599");
  r = o.response();
  r["headers"]["transfer-encoding"] = Json::parse(R"([{"value": "chunked"}])");
  EXPECT_FAILURE_NAMES(o.apply_response(r).failure, "origin-response",
                       "Transfer-Encoding is read-only");
}

}  // namespace
}  // namespace eg::functions
