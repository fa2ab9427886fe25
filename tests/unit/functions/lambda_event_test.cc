#include "functions/lambda_event.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "event_test_util.h"

namespace eg::functions {
namespace {

using namespace testing;

// The viewer-request example of the CloudFront Developer Guide ("Lambda@Edge event
// structure"), field by field.
TEST(LambdaEvent, ViewerRequestMatchesTheDocumentedExample) {
  auto req = make_request("GET", "/",
                          {{"Host", "d111111abcdef8.cloudfront.net"},
                           {"User-Agent", "curl/7.66.0"},
                           {"accept", "*/*"}});
  auto event =
      parse(build_lambda_event({}, make_context(EventType::ViewerRequest), req, nullptr, false));
  Json expected = Json::parse(R"({
    "Records": [{"cf": {
      "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net",
                 "distributionId": "EDFDVBD6EXAMPLE", "eventType": "viewer-request",
                 "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
      "request": {"clientIp": "203.0.113.178",
                  "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                              "user-agent": [{"key": "User-Agent", "value": "curl/7.66.0"}],
                              "accept": [{"key": "accept", "value": "*/*"}]},
                  "method": "GET", "querystring": "", "uri": "/"}}}]})");
  EXPECT_EQ(event, expected) << event.dump(2);
  // Header order is the wire order.
  auto& headers = event["Records"][0]["cf"]["request"]["headers"];
  EXPECT_EQ(headers.begin().key(), "host");
}

TEST(LambdaEvent, OriginRequestShowsTheCustomOrigin) {
  OriginInfo origin;
  origin.domain_name = "example.org";
  origin.ssl_protocols = {"TLSv1", "TLSv1.1"};
  origin.read_timeout_s = 5;
  origin.custom_headers = {{"X-Origin-Verify", "s3cr3t"}};
  auto req = make_request("GET", "/a/b?x=1&y=2", {{"Host", "example.org"}});
  auto event = parse(
      build_lambda_event({}, make_context(EventType::OriginRequest, &origin), req, nullptr, false));
  auto& r = event["Records"][0]["cf"]["request"];
  EXPECT_EQ(event["Records"][0]["cf"]["config"]["eventType"], "origin-request");
  EXPECT_EQ(r["querystring"], "x=1&y=2");
  EXPECT_EQ(r["uri"], "/a/b");
  EXPECT_EQ(r["origin"], Json::parse(R"({"custom": {
      "customHeaders": {"x-origin-verify": [{"key": "X-Origin-Verify", "value": "s3cr3t"}]},
      "domainName": "example.org", "keepaliveTimeout": 5, "path": "", "port": 443,
      "protocol": "https", "readTimeout": 5, "sslProtocols": ["TLSv1", "TLSv1.1"]}})"));

  OriginInfo s3;
  s3.kind = OriginInfo::Kind::S3;
  s3.domain_name = "my-bucket.s3.amazonaws.com";
  s3.auth_method = "origin-access-identity";
  s3.region = "us-east-1";
  s3.path = "/static";
  event = parse(
      build_lambda_event({}, make_context(EventType::OriginRequest, &s3), req, nullptr, false));
  EXPECT_EQ(event["Records"][0]["cf"]["request"]["origin"],
            Json::parse(R"({"s3": {"authMethod": "origin-access-identity", "customHeaders": {},
              "domainName": "my-bucket.s3.amazonaws.com", "path": "/static",
              "region": "us-east-1"}})"));
  // Viewer events never show an origin.
  event = parse(
      build_lambda_event({}, make_context(EventType::ViewerRequest, &origin), req, nullptr, false));
  EXPECT_FALSE(event["Records"][0]["cf"]["request"].contains("origin"));
}

TEST(LambdaEvent, ResponseEventsShowTheStatusAsAString) {
  auto req = make_request("GET", "/", {{"Host", "example.org"}});
  auto resp = make_response(404, {{"Content-Type", "text/html"}, {"Server", "nginx"}});
  auto event =
      parse(build_lambda_event({}, make_context(EventType::OriginResponse), req, &resp, false));
  EXPECT_EQ(event["Records"][0]["cf"]["response"], Json::parse(R"({
      "headers": {"content-type": [{"key": "Content-Type", "value": "text/html"}],
                  "server": [{"key": "Server", "value": "nginx"}]},
      "status": "404", "statusDescription": "Not Found"})"));
  resp.reason = "Gone Fishing";
  event = parse(build_lambda_event({}, make_context(EventType::ViewerResponse), req, &resp, false));
  EXPECT_EQ(event["Records"][0]["cf"]["response"]["statusDescription"], "Gone Fishing");
}

TEST(LambdaEvent, RepeatedHeadersAreOneArrayAndDisallowedHeadersAreHidden) {
  auto req = make_request("GET", "/",
                          {{"Host", "a.example"},
                           {"X-Amz-Cf-Id", "abc"},
                           {"Connection", "keep-alive"},
                           {"Accept", "text/html"},
                           {"ACCEPT", "application/json"},
                           {"X-Forwarded-Proto", "https"}});
  auto event =
      parse(build_lambda_event({}, make_context(EventType::ViewerRequest), req, nullptr, false));
  auto& h = event["Records"][0]["cf"]["request"]["headers"];
  EXPECT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h["accept"], Json::parse(R"([{"key": "Accept", "value": "text/html"},
                                         {"key": "ACCEPT", "value": "application/json"}])"));
}

TEST(LambdaEvent, IncludedBodyIsBase64AndCutAtTheEventLimit) {
  LambdaLimits limits;
  limits.viewer_body_bytes = 8;
  limits.origin_body_bytes = 16;
  auto req = make_request("POST", "/upload", {{"Host", "a.example"}}, "0123456789ABCDEFGHIJ");
  auto body = [&](EventType e, bool include) {
    auto ev = parse(build_lambda_event(limits, make_context(e), req, nullptr, include));
    return ev["Records"][0]["cf"]["request"].value("body", Json());
  };
  Json viewer = body(EventType::ViewerRequest, true);
  EXPECT_EQ(viewer["inputTruncated"], true);
  EXPECT_EQ(viewer["action"], "read-only");
  EXPECT_EQ(viewer["encoding"], "base64");
  EXPECT_EQ(base64_decode(viewer["data"].get<std::string>()), "01234567");
  Json origin = body(EventType::OriginRequest, true);
  EXPECT_EQ(base64_decode(origin["data"].get<std::string>()), "0123456789ABCDEF");
  EXPECT_TRUE(body(EventType::ViewerRequest, false).is_null());

  limits.viewer_body_bytes = 64;
  Json whole = body(EventType::ViewerRequest, true);
  EXPECT_EQ(whole["inputTruncated"], false);
  EXPECT_EQ(base64_decode(whole["data"].get<std::string>()), req.body);
}

TEST(LambdaEvent, StringsAreEscapedAndStrayBytesAreReadAsLatin1) {
  auto req = make_request("GET", "/caf\xc3\xa9", {{"X-Q", "a\"b\\c\td\x01"}, {"X-L", "na\xefve"}});
  auto event =
      parse(build_lambda_event({}, make_context(EventType::ViewerRequest), req, nullptr, false));
  auto& r = event["Records"][0]["cf"]["request"];
  EXPECT_EQ(r["uri"], "/caf\xc3\xa9");
  EXPECT_EQ(r["headers"]["x-q"][0]["value"], "a\"b\\c\td\x01");
  EXPECT_EQ(r["headers"]["x-l"][0]["value"], "na\xc3\xafve");
}

}  // namespace
}  // namespace eg::functions
