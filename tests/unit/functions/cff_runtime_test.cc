// CloudFront Functions in SpiderMonkey: handlers of both runtimes, results, errors, limits.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "functions/cff/cff.h"

namespace eg::functions {
namespace {

using json = nlohmann::json;

const char* kViewerRequest = R"({"version":"1.0",
  "context":{"distributionDomainName":"d111111abcdef8.cloudfront.net","distributionId":"EDFDVBD6EXAMPLE",
             "eventType":"viewer-request","requestId":"4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
  "viewer":{"ip":"198.51.100.11"},
  "request":{"method":"GET","uri":"/media/index.html",
             "querystring":{"ID":{"value":"42"}},
             "headers":{"host":{"value":"video.example.com"},"accept":{"value":"text/html"}},
             "cookies":{"session":{"value":"abc"}}}})";

std::shared_ptr<CffScript> load_ok(const std::string& source, CffOptions options = {}) {
  std::string error;
  auto script = CffScript::load("fns/test.js", source, options, error);
  EXPECT_TRUE(script) << error;
  return script;
}

CffOptions v1() {
  CffOptions o;
  o.version = CffRuntimeVersion::V1;
  return o;
}

json run_json(const CffScript& s, std::string_view event = kViewerRequest) {
  CffOutcome out = run_cff(s, event);
  EXPECT_TRUE(out.ok) << out.error;
  return out.ok ? json::parse(out.result_json) : json();
}

TEST(CffRuntime, V1HandlerRewritesUriAndAddsAHeader) {
  auto s = load_ok(R"(
function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/\.html$/, '') + '/index.html';
  request.headers['x-viewer-ip'] = {value: event.viewer.ip};
  return request;
})",
                   v1());
  ASSERT_TRUE(s);
  json r = run_json(*s);
  EXPECT_EQ(r["uri"], "/media/index/index.html");
  EXPECT_EQ(r["headers"]["x-viewer-ip"]["value"], "198.51.100.11");
  EXPECT_EQ(r["method"], "GET");
}

TEST(CffRuntime, V2HandlerGeneratesAResponseWithConstAndArrows) {
  auto s = load_ok(R"(
const location = (host) => `https://${host}/login`;
function handler(event) {
  const host = event.request.headers.host.value;
  return {statusCode: 302, statusDescription: 'Found',
          headers: {location: {value: location(host)}}};
})");
  ASSERT_TRUE(s);
  json r = run_json(*s);
  EXPECT_EQ(r["statusCode"], 302);
  EXPECT_EQ(r["headers"]["location"]["value"], "https://video.example.com/login");
}

TEST(CffRuntime, V2AsyncHandlerIsAwaited) {
  auto s = load_ok(R"(
async function step(x) { return x + 1; }
async function handler(event) {
  let n = await step(1);
  n = await step(n);
  event.request.headers['x-n'] = {value: String(n)};
  return event.request;
})");
  ASSERT_TRUE(s);
  EXPECT_EQ(run_json(*s)["headers"]["x-n"]["value"], "3");
}

TEST(CffRuntime, RejectedPromiseFailsWithTheErrorAndItsLine) {
  auto s = load_ok("async function handler(event) {\n  throw new TypeError('nope');\n}");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, CffFailure::Exception);
  EXPECT_EQ(out.error, "fns/test.js:2:9: TypeError: nope");
}

TEST(CffRuntime, V1RefusesAnAsyncHandler) {
  auto s = load_ok("async function handler(event) { return event.request; }", v1());
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  EXPECT_EQ(out.failure, CffFailure::InvalidResult);
  EXPECT_NE(out.error.find("cloudfront-js-2.0"), std::string::npos) << out.error;
}

TEST(CffRuntime, HandlerMayBeAConstArrowFunction) {
  auto s = load_ok("const handler = async (event) => event.request;");
  ASSERT_TRUE(s);
  EXPECT_EQ(run_json(*s)["uri"], "/media/index.html");
}

TEST(CffRuntime, ReturningUndefinedIsAnInvalidResult) {
  auto s = load_ok("function handler(event) { }");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  EXPECT_EQ(out.failure, CffFailure::InvalidResult);
  EXPECT_NE(out.error.find("returned undefined"), std::string::npos) << out.error;
}

TEST(CffRuntime, ThrownErrorNamesFileLineAndColumn) {
  auto s = load_ok("function handler(event) {\n  return event.nothing.here;\n}");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  EXPECT_EQ(out.failure, CffFailure::Exception);
  EXPECT_EQ(out.error.rfind("fns/test.js:2:", 0), 0u) << out.error;
  EXPECT_NE(out.error.find("TypeError"), std::string::npos) << out.error;
}

TEST(CffRuntime, ConsoleLogIsCapturedPerCall) {
  auto s = load_ok(R"(
function handler(event) {
  console.log('uri', event.request.uri, 42);
  console.log({a: 1});
  return event.request;
})");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.logs.size(), 2u);
  EXPECT_EQ(out.logs[0], "uri /media/index.html 42");
  EXPECT_EQ(out.logs[1], R"({"a":1})");
  EXPECT_EQ(run_cff(*s, kViewerRequest).logs.size(), 2u);  // not accumulated across calls
}

TEST(CffRuntime, LogOutputIsTruncatedAt10KB) {
  auto s = load_ok(R"(
function handler(event) {
  for (var i = 0; i < 100; i++) console.log('x'.repeat(500));
  return event.request;
})");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  ASSERT_TRUE(out.ok) << out.error;
  size_t total = 0;
  for (const auto& l : out.logs) total += l.size();
  EXPECT_LT(total, 10 * 1024 + 100);
  EXPECT_NE(out.logs.back().find("truncated"), std::string::npos);
}

TEST(CffRuntime, SyntaxErrorIsReportedAtLoadWithFileLineAndColumn) {
  std::string error;
  auto s = CffScript::load("fns/rewrite.js", "function handler(event) {\n  var x = 1\n  x y;\n}",
                           {}, error);
  EXPECT_FALSE(s);
  EXPECT_EQ(error.rfind("fns/rewrite.js:3:", 0), 0u) << error;
  EXPECT_NE(error.find("SyntaxError"), std::string::npos) << error;
}

TEST(CffRuntime, MissingHandlerIsRefusedAtLoad) {
  std::string error;
  EXPECT_FALSE(CffScript::load("fns/none.js", "function handle(event) { return 1; }", {}, error));
  EXPECT_NE(error.find("no function named handler"), std::string::npos) << error;
}

TEST(CffRuntime, CodeOver10KBIsRefusedWithItsSize) {
  std::string source = "function handler(event) { return event.request; }\n";
  source += "// " + std::string(10300, 'x') + "\n";
  std::string error;
  EXPECT_FALSE(CffScript::load("fns/big.js", source, {}, error));
  EXPECT_NE(error.find(std::to_string(source.size()) + " bytes"), std::string::npos) << error;
  EXPECT_NE(error.find("10240"), std::string::npos) << error;
}

TEST(CffRuntime, StrictModeIsAlwaysOn) {
  auto s = load_ok("function handler(event) { undeclared = 1; return event.request; }");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, kViewerRequest);
  EXPECT_EQ(out.failure, CffFailure::Exception);
  EXPECT_NE(out.error.find("ReferenceError"), std::string::npos) << out.error;
}

TEST(CffRuntime, ImportOfCloudfrontIsAcceptedIn2) {
  auto s = load_ok(R"(import cf from 'cloudfront';
import { createHash } from 'crypto';
function handler(event) {
  event.request.headers['x-h'] = {value: createHash('md5').update('').digest('hex')};
  event.request.headers['x-cf'] = {value: typeof cf.kvs};
  return event.request;
})");
  ASSERT_TRUE(s);
  json r = run_json(*s);
  EXPECT_EQ(r["headers"]["x-h"]["value"], "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(r["headers"]["x-cf"]["value"], "function");
}

TEST(CffRuntime, AnEventThatIsNotJsonIsTheCallersFault) {
  auto s = load_ok("function handler(event) { return event.request; }");
  ASSERT_TRUE(s);
  CffOutcome out = run_cff(*s, "{not json");
  EXPECT_EQ(out.failure, CffFailure::Internal);
  EXPECT_NE(out.error.find("not valid JSON"), std::string::npos) << out.error;
  EXPECT_TRUE(run_cff(*s, kViewerRequest).ok);
}

TEST(CffRuntime, ConstAndLetAreRefusedIn1WithTheirPosition) {
  std::string error;
  EXPECT_FALSE(CffScript::load("fns/c.js",
                               "function handler(event) {\n  var s = '{ const x }';\n"
                               "  for (let i = 0; i < 1; i++) {}\n  return event.request;\n}",
                               v1(), error));
  EXPECT_EQ(error,
            "fns/c.js:3:8: SyntaxError: let is not supported by cloudfront-js-1.0 (use var, or "
            "the cloudfront-js-2.0 runtime)");
  EXPECT_TRUE(
      CffScript::load("fns/c.js", "function handler(e) { const x = 1; return x; }", {}, error))
      << error;
  // Strings, comments and regular expressions that mention const are not declarations.
  EXPECT_TRUE(CffScript::load("fns/c.js",
                              "// const\nfunction handler(e) { var r = /let x/; return 'const'; }",
                              v1(), error))
      << error;
}

std::string compat_file(const std::string& name) {
  std::ifstream in(std::string(EG_SOURCE_DIR) + "/tests/data/functions/compat/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CffRuntime, CompatSuiteBadHandlersGiveTheMessagesItExpects) {
  std::string error;
  EXPECT_FALSE(CffScript::load("F", compat_file("bad/cff-syntax-error.js"), {}, error));
  EXPECT_EQ(error, "F:4:25: SyntaxError: expected expression, got ';'");

  auto eval = CffScript::load("F", compat_file("bad/cff-eval.js"), {}, error);
  ASSERT_TRUE(eval) << error;
  CffOutcome out = run_cff(*eval, kViewerRequest);
  EXPECT_EQ(out.error, "F:5:5: EvalError: CloudFront Functions do not allow eval");

  CffOptions o = v1();
  EXPECT_FALSE(CffScript::load("F", compat_file("bad/cff1-uses-const.js"), o, error));
  EXPECT_NE(error.find("const"), std::string::npos) << error;
  EXPECT_NE(error.find("cloudfront-js-2.0"), std::string::npos) << error;
}

TEST(CffRuntime, ParseRuntimeNames) {
  EXPECT_EQ(parse_cff_runtime("cloudfront-js-1.0"), CffRuntimeVersion::V1);
  EXPECT_EQ(parse_cff_runtime("cloudfront-js-2.0"), CffRuntimeVersion::V2);
  EXPECT_FALSE(parse_cff_runtime("cloudfront-js-3.0"));
  EXPECT_EQ(to_string(CffRuntimeVersion::V1), "cloudfront-js-1.0");
}

}  // namespace
}  // namespace eg::functions
