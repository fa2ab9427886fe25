#include "functions/cff_event.h"

#include <gtest/gtest.h>

#include "event_test_util.h"

namespace eg::functions {
namespace {

using namespace testing;

// The example event of "CloudFront Functions event structure", field by field.
TEST(CffEvent, ViewerRequestMatchesTheDocumentedExample) {
  auto req = make_request("GET", "/media/index.mpd?ID=42&NoValue=&querymv=val1&querymv=val2,val3",
                          {{"Host", "video.example.com"},
                           {"Accept", "application/json"},
                           {"Accept", "text/html"},
                           {"Cookie", "Cookie1=value1"}});
  auto c = make_context(EventType::ViewerRequest);
  c.client_ip = "198.51.100.11";
  auto event = parse(build_cff_event(c, req, nullptr));
  Json expected = Json::parse(R"({
    "version": "1.0",
    "context": {"distributionDomainName": "d111111abcdef8.cloudfront.net",
                "distributionId": "EDFDVBD6EXAMPLE", "eventType": "viewer-request",
                "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
    "viewer": {"ip": "198.51.100.11"},
    "request": {"method": "GET", "uri": "/media/index.mpd",
      "querystring": {"ID": {"value": "42"}, "NoValue": {"value": ""},
                      "querymv": {"value": "val1",
                                  "multiValue": [{"value": "val1"}, {"value": "val2,val3"}]}},
      "headers": {"host": {"value": "video.example.com"},
                  "accept": {"value": "application/json",
                             "multiValue": [{"value": "application/json"}, {"value": "text/html"}]}},
      "cookies": {"Cookie1": {"value": "value1"}}}})");
  EXPECT_EQ(event, expected) << event.dump(2);
}

TEST(CffEvent, ViewerResponseShowsStatusCodeAndSetCookies) {
  auto req = make_request("GET", "/", {{"Host", "a.example"}});
  auto resp =
      make_response(200, {{"Content-Type", "application/json"},
                          {"Set-Cookie", "ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
                          {"Set-Cookie", "Cookie1=value1"},
                          {"Set-Cookie", "Cookie1=value2; Secure"}});
  auto event = parse(build_cff_event(make_context(EventType::ViewerResponse), req, &resp));
  EXPECT_EQ(event["response"], Json::parse(R"({"statusCode": 200, "statusDescription": "OK",
      "headers": {"content-type": {"value": "application/json"}},
      "cookies": {"ID": {"value": "id1234", "attributes": "Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
                  "Cookie1": {"value": "value1", "multiValue": [{"value": "value1"},
                              {"value": "value2", "attributes": "Secure"}]}}})"))
      << event["response"].dump(2);
  EXPECT_EQ(event["context"]["eventType"], "viewer-response");
}

struct CffHandler {
  EventType event;
  http::Request req;
  http::Response resp;
  CffLimits limits;
  explicit CffHandler(EventType e)
      : event(e),
        req(make_request("GET", "/p?a=1&a=2&b=x",
                         {{"Host", "www.example.com"},
                          {"accept", "text/html"},
                          {"Accept", "application/json"},
                          {"Cookie", "session=abc; theme=dark"}})),
        resp(make_response(200, {{"Content-Type", "text/html"}, {"Set-Cookie", "a=1; Path=/"}})) {}
  Json ev() const {
    return parse(build_cff_event(make_context(event), req,
                                 event == EventType::ViewerResponse ? &resp : nullptr));
  }
  RequestResult apply(const Json& j) {
    return apply_cff_request_result(limits, CffCall{event, "fns/f.js"}, j.dump(), req);
  }
  ResponseResult apply_response(const Json& j) {
    return apply_cff_response_result(limits, CffCall{event, "fns/f.js"}, j.dump(), req, resp);
  }
};

TEST(CffResult, TheUnchangedRequestChangesNothing) {
  CffHandler h(EventType::ViewerRequest);
  http::Request before = h.req;
  auto r = h.apply(h.ev()["request"]);
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_TRUE(same_request(before, h.req))
      << ::testing::PrintToString(lines(h.req.headers)) << h.req.target;
}

TEST(CffResult, MultiValueEditRuleHeadersQueryAndCookies) {
  CffHandler h(EventType::ViewerRequest);
  Json r = h.ev()["request"];
  // value changed, multiValue untouched: only the first occurrence changes.
  r["headers"]["accept"]["value"] = "image/webp";
  r["headers"]["x-new-header"] = {{"value", "1"}};
  // multiValue changed: it wins.
  r["querystring"]["a"]["multiValue"] = Json::parse(R"([{"value": "9"}, {"value": "8 7"}])");
  r["querystring"]["c"] = {{"value", "x&y"}};
  r["cookies"].erase("theme");
  r["cookies"]["lang"] = {{"value", "en"}};
  auto result = h.apply(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(lines(h.req.headers),
            (std::vector<std::string>{"Host: www.example.com", "accept: image/webp",
                                      "Accept: application/json", "X-New-Header: 1",
                                      "Cookie: session=abc; lang=en"}));
  EXPECT_EQ(h.req.query, "a=9&a=8%207&b=x&c=x%26y");
  EXPECT_EQ(h.req.target, "/p?a=9&a=8%207&b=x&c=x%26y");
}

TEST(CffResult, AGeneratedResponseUsesStatusCode) {
  CffHandler h(EventType::ViewerRequest);
  http::Request before = h.req;
  auto r = h.apply(Json::parse(R"({"statusCode": 302, "statusDescription": "Found",
      "headers": {"location": {"value": "https://example.com/"}},
      "cookies": {"seen": {"value": "1", "attributes": "Max-Age=60; Secure"}}})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, 302);
  EXPECT_EQ(lines(r.answer->headers),
            (std::vector<std::string>{"Location: https://example.com/",
                                      "Set-Cookie: seen=1; Max-Age=60; Secure"}));
  EXPECT_TRUE(same_request(before, h.req));
  r = h.apply(
      Json::parse(R"({"statusCode": 200, "body": {"encoding": "base64", "data": "aGk="}})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.answer->body, "hi");
  r = h.apply(Json::parse(R"({"statusCode": 200, "body": "plain"})"));
  ASSERT_FALSE(r.failure) << r.failure->message;
  EXPECT_EQ(r.answer->body, "plain");
}

TEST(CffResult, MistakesAndRulesAreNamed) {
  struct Case {
    std::string result;
    std::vector<std::string_view> says;
  } cases[] = {
      {"undefined", {"returned undefined", "return event.request"}},
      {R"({"status": 302})",
       {"viewer-request CloudFront Function fns/f.js returned a response with `status`; "
        "CloudFront Functions use `statusCode` (Lambda@Edge uses `status`)"}},
      {R"({"statusCode": "302"})", {"statusCode must be an integer number, got a string"}},
      {R"({"statusCode": 99})", {"between 200 and 599"}},
      {R"({"statusCode": 200, "body": {"encoding": "base64", "data": "!!"}})",
       {"body.data is not valid base64"}},
      {R"({"statusCode": 200, "body": 5})", {"body must be a string or {data, encoding}"}},
      {R"({"statusCode": 200, "headers": {"location": "/x"}})",
       {"headers.location must be an object {value: '...'}, got a string"}},
      {R"({"version": "1.0", "context": {}, "request": {}})", {"returned the whole event"}},
      {R"({"uri": "/", "headers": {"content-type": [{"key": "Content-Type", "value": "x"}]}})",
       {"headers.content-type", "got an array", "Lambda@Edge shape"}},
      {R"({"uri": "/", "headers": {"X-Up": {"value": "1"}}})", {"'X-Up'", "lowercase"}},
      {R"({"uri": "/", "headers": {"host": {"value": "evil"}}})",
       {"Host is read-only in viewer-request"}},
      {R"({"uri": "/", "headers": {}, "querystring": "a=1"})",
       {"querystring must be an object", "Lambda@Edge shape"}},
      {R"({"uri": "p", "headers": {}})", {"uri must start with '/'"}},
      {R"({"uri": "/", "method": "POST", "headers": {}})", {"method is read-only"}},
      {R"({"uri": "/", "headers": {"x-a": {"value": "a\r\nb"}}})", {"headers.x-a.value", "(CR)"}},
      {R"({"uri": "/", "headers": {"upgrade": {"value": "h2c"}}})", {"disallowed"}},
      {R"({"uri": "/", "headers": {}, "cookies": {"a": {"value": "1;b=2"}}})",
       {"cookies.a.value", "'%3B'"}},
      {R"({"uri": "/", "headers": {"cookie": {"value": "a=1"}}})", {"through `cookies`"}},
  };
  for (const auto& c : cases) {
    CffHandler h(EventType::ViewerRequest);
    http::Request before = h.req;
    Json r = Json::parse(c.result, nullptr, false);
    if (!r.is_discarded() && r.contains("uri") && r["headers"].is_object() &&
        !r["headers"].contains("host") && !r["headers"].contains("X-Up"))
      r["headers"]["host"] = {{"value", "www.example.com"}};
    auto result = r.is_discarded() ? apply_cff_request_result(
                                         h.limits, CffCall{h.event, "fns/f.js"}, c.result, h.req)
                                   : h.apply(r);
    EXPECT_FAILURE_NAMES(result.failure, "viewer-request", "CloudFront Function");
    for (auto s : c.says)
      EXPECT_NE(result.failure->message.find(s), std::string::npos)
          << c.result << " -> " << result.failure->message;
    EXPECT_TRUE(same_request(before, h.req)) << c.result;
  }
}

TEST(CffResult, ViewerResponseAppliesHeadersCookiesStatusAndBody) {
  CffHandler h(EventType::ViewerResponse);
  Json r = h.ev()["response"];
  r["statusCode"] = 404;
  r["headers"]["strict-transport-security"] = {{"value", "max-age=63072000"}};
  r["cookies"]["b"] = {{"value", "2"}, {"attributes", "HttpOnly"}};
  r["body"] = {{"encoding", "text"}, {"data", "not here"}};
  auto result = h.apply_response(r);
  ASSERT_FALSE(result.failure) << result.failure->message;
  EXPECT_EQ(h.resp.status, 404);
  EXPECT_EQ(h.resp.body, "not here");
  EXPECT_EQ(lines(h.resp.headers),
            (std::vector<std::string>{"Content-Type: text/html",
                                      "Strict-Transport-Security: max-age=63072000",
                                      "Set-Cookie: a=1; Path=/", "Set-Cookie: b=2; HttpOnly"}));
}

TEST(CffResult, ViewerResponseRulesAndAtomicity) {
  CffHandler h(EventType::ViewerResponse);
  http::Response before = h.resp;
  Json r = h.ev()["response"];
  r["statusCode"] = 500;
  r["body"] = std::string(41 * 1024, 'x');
  auto result = h.apply_response(r);
  EXPECT_FAILURE_NAMES(result.failure, "viewer-response", "the limit is 40960 bytes",
                       "FunctionValidationError");
  EXPECT_EQ(h.resp.status, before.status);
  EXPECT_EQ(h.resp.body, before.body);
  EXPECT_EQ(lines(h.resp.headers), lines(before.headers));
  r = h.ev()["response"];
  r.erase("statusCode");
  r["status"] = 200;
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response", "use `statusCode`");
  EXPECT_FAILURE_NAMES(h.apply_response(h.ev()["request"]).failure, "viewer-response",
                       "returned the request");
  r = h.ev()["response"];
  r["headers"]["via"] = {{"value", "x"}};
  EXPECT_FAILURE_NAMES(h.apply_response(r).failure, "viewer-response", "Via is read-only");
}

}  // namespace
}  // namespace eg::functions
