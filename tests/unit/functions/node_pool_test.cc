// The Lambda@Edge runtime runs handlers written for Lambda unchanged: module kinds, call
// styles, require, warm state, the context object, console capture. Real node processes.
#include <array>
#include <nlohmann/json.hpp>
#include <regex>

#include "node_test_util.h"

namespace eg::functions::node_test {

using Kind = NodeOutcome::Kind;
using nlohmann::json;

class NodePool_ : public NodeFixture {};

TEST_F(NodePool_, CommonJsCallbackHandlerReturnsTheRequest) {
  write("fns/cb.js",
        "exports.handler = (event, context, callback) => {\n"
        "  const request = event.Records[0].cf.request;\n"
        "  request.headers['x-seen'] = [{key: 'X-Seen', value: 'yes'}];\n"
        "  callback(null, request);\n"
        "};\n");
  make("fns/cb.js");
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  auto result = json::parse(out.result_json);
  EXPECT_EQ(result["uri"], "/index.html");
  EXPECT_EQ(result["headers"]["x-seen"][0]["value"], "yes");
  EXPECT_GE(out.duration_ms, 0.0);
}

TEST_F(NodePool_, CommonJsAsyncHandlerOnModuleExports) {
  write(
      "fns/async.js",
      "module.exports.handler = async (event) => {\n"
      "  await new Promise((r) => setTimeout(r, 5));\n"
      "  return {status: '200', statusDescription: 'OK', body: event.Records[0].cf.request.uri};\n"
      "};\n");
  make("fns/async.js");
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["body"], "/index.html");
}

TEST_F(NodePool_, EsModuleMjs) {
  write("fns/esm.mjs",
        "import { createHash } from 'node:crypto';\n"
        "export const handler = async (event) => ({status: '200', body: "
        "createHash('sha256').update('x').digest('hex').slice(0, 8)});\n");
  make("fns/esm.mjs");
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["body"], "2d711642");
}

TEST_F(NodePool_, EsModuleJsUnderPackageTypeModule) {
  write("app/package.json", R"({"name": "app", "type": "module"})");
  write("app/fns/index.js",
        "import { helper } from './helper.js';\n"
        "export async function handler(event, context) { return helper(event); }\n");
  write("app/fns/helper.js",
        "export const helper = (e) => ({uri: e.Records[0].cf.request.uri + '?esm'});\n");
  make("app/fns/index.js");
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["uri"], "/index.html?esm");
}

TEST_F(NodePool_, RequiresItsOwnFolderAndNodeModules) {
  write("fns/lib/greet.js", "exports.greet = (n) => 'hello ' + n;\n");
  write("fns/node_modules/tiny-pad/package.json",
        R"({"name": "tiny-pad", "version": "1.0.0", "main": "main.js"})");
  write("fns/node_modules/tiny-pad/main.js",
        "module.exports = (s, n) => String(s).padStart(n, '0');\n");
  write("fns/req.js",
        "const { greet } = require('./lib/greet');\n"
        "const pad = require('tiny-pad');\n"
        "exports.handler = async () => ({body: greet('edge') + ' ' + pad(7, 3)});\n");
  make("fns/req.js");
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["body"], "hello edge 007");
}

TEST_F(NodePool_, ModuleStateIsKeptBetweenInvocations) {
  write("fns/count.js",
        "let count = 0;\n"
        "exports.handler = async () => ({count: ++count, pid: process.pid});\n");
  auto s = spec("fns/count.js");
  s.workers = 1;
  make(s);
  for (int i = 1; i <= 3; ++i) {
    auto out = invoke();
    ASSERT_EQ(out.kind, Kind::Ok) << out.message;
    EXPECT_EQ(json::parse(out.result_json)["count"], i);
  }
  EXPECT_EQ(pool_->spawn_count(), 1u);
}

TEST_F(NodePool_, ContextLooksLikeLambdas) {
  write("fns/ctx.js",
        "exports.handler = async (event, context) => {\n"
        "  const first = context.getRemainingTimeInMillis();\n"
        "  await new Promise((r) => setTimeout(r, 30));\n"
        "  const { getRemainingTimeInMillis, ...fields } = context;\n"
        "  return {first, second: context.getRemainingTimeInMillis(), fields,\n"
        "          region: process.env.AWS_REGION, secret: process.env.EG_TEST_SECRET || null};\n"
        "};\n");
  auto s = spec("fns/ctx.js");
  s.name = "enrich";
  ::setenv("EG_TEST_SECRET", "must-not-leak", 1);
  make(s);
  auto out = invoke(kEvent, "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==", 2000ms);
  ::unsetenv("EG_TEST_SECRET");
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  auto r = json::parse(out.result_json);
  auto f = r["fields"];
  EXPECT_EQ(f["functionName"], "enrich");
  EXPECT_EQ(f["functionVersion"], "$LATEST");
  EXPECT_EQ(f["invokedFunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:enrich");
  EXPECT_EQ(f["memoryLimitInMB"], "64");
  EXPECT_EQ(f["awsRequestId"], "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==");
  EXPECT_EQ(f["logGroupName"], "/aws/lambda/us-east-1.enrich");
  EXPECT_TRUE(std::regex_match(f["logStreamName"].get<std::string>(),
                               std::regex(R"(\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32})")))
      << f["logStreamName"];
  EXPECT_EQ(f["callbackWaitsForEmptyEventLoop"], true);
  int first = r["first"], second = r["second"];
  EXPECT_LE(first, 2000);
  EXPECT_GT(first, 1800);
  EXPECT_LE(second, first - 25);
  EXPECT_EQ(r["region"], "us-east-1");
  EXPECT_TRUE(r["secret"].is_null()) << "the gateway's environment leaked into the handler";
}

TEST_F(NodePool_, ConsoleOutputIsCapturedWithTheRequestId) {
  write("fns/log.js",
        "console.log('loading');\n"
        "exports.handler = async (event) => {\n"
        "  console.log('uri %s', event.Records[0].cf.request.uri);\n"
        "  console.info({a: 1});\n"
        "  console.warn('careful');\n"
        "  console.error(new Error('shown, not thrown').message);\n"
        "  process.stdout.write('raw\\n');\n"
        "  return 'ok';\n"
        "};\n");
  make("fns/log.js");
  auto out = invoke(kEvent, "req-7");
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(out.result_json, R"("ok")");
  ASSERT_EQ(out.logs.size(), 6u);
  std::regex line(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\t([^\t]+)\t([A-Z]+)\t(.*))");
  std::vector<std::array<std::string, 3>> parsed;
  for (const auto& l : out.logs) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    parsed.push_back({m[1], m[2], m[3]});
  }
  EXPECT_EQ(parsed[0], (std::array<std::string, 3>{"undefined", "INFO", "loading"}));
  EXPECT_EQ(parsed[1], (std::array<std::string, 3>{"req-7", "INFO", "uri /index.html"}));
  EXPECT_EQ(parsed[2], (std::array<std::string, 3>{"req-7", "INFO", "{ a: 1 }"}));
  EXPECT_EQ(parsed[3], (std::array<std::string, 3>{"req-7", "WARN", "careful"}));
  EXPECT_EQ(parsed[4], (std::array<std::string, 3>{"req-7", "ERROR", "shown, not thrown"}));
  EXPECT_EQ(parsed[5], (std::array<std::string, 3>{"req-7", "INFO", "raw"}));

  auto second = invoke(kEvent, "req-8");
  ASSERT_EQ(second.logs.size(), 5u) << "load-time lines go with the first invocation only";
}

TEST_F(NodePool_, UndefinedAndOversizedResults) {
  write("fns/result.js",
        "exports.handler = async (event) => event.Records[0].cf.request.uri === '/big'\n"
        "    ? {body: 'x'.repeat(5000)} : undefined;\n");
  auto s = spec("fns/result.js");
  s.max_result_bytes = 1000;
  make(s);
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_TRUE(out.returned_undefined());
  std::string big = kEvent;
  big.replace(big.find("/index.html"), 11, "/big");
  out = invoke(big);
  EXPECT_EQ(out.kind, Kind::ResultTooLarge);
  EXPECT_EQ(out.status(), 502);
  EXPECT_EQ(out.message,
            "function fns/result.js returned a result of 5011 bytes, over the limit of 1000 bytes");
}

TEST_F(NodePool_, CallbackWaitsForTheEventLoopUnlessToldNotTo) {
  write(
      "fns/wait.js",
      "let side = 0;\n"
      "exports.handler = (event, context, callback) => {\n"
      "  context.callbackWaitsForEmptyEventLoop = event.Records[0].cf.request.uri !== '/nowait';\n"
      "  setTimeout(() => { side++; }, 150);\n"
      "  callback(null, {side});\n"
      "};\n");
  auto s = spec("fns/wait.js");
  s.workers = 1;
  make(s);
  auto t0 = std::chrono::steady_clock::now();
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 140ms);
  std::string nowait = kEvent;
  nowait.replace(nowait.find("/index.html"), 11, "/nowait");
  t0 = std::chrono::steady_clock::now();
  out = invoke(nowait);
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(json::parse(out.result_json)["side"], 1);
}

TEST_F(NodePool_, RunOnceForTheCli) {
  write("fns/once.js", "exports.handler = async (e) => ({uri: e.Records[0].cf.request.uri});\n");
  auto t0 = std::chrono::steady_clock::now();
  auto out = run_once(spec("fns/once.js"), kEvent, "req-cli", 2000ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(out.result_json, R"({"uri":"/index.html"})");
  EXPECT_LT(took, 1000ms);

  write("fns/broken.js", "exports.handler = (;\n");
  out = run_once(spec("fns/broken.js"), kEvent, "req-cli", 2000ms);
  EXPECT_EQ(out.kind, Kind::LoadError);
  EXPECT_EQ(out.message, "fns/broken.js: SyntaxError: Unexpected token ';' (line 1)");
}

TEST_F(NodePool_, LargeEventsAndResultsCrossThePipes) {
  write(
      "fns/big.js",
      "exports.handler = async (event) => {\n"
      "  const body = event.Records[0].cf.request.body || {data: ''};\n"
      "  console.log('x'.repeat(300000));\n"
      "  return {status: '200', body: Buffer.from(body.data, 'base64').toString().toUpperCase()};\n"
      "};\n");
  make("fns/big.js");
  std::string body(1 << 20, 'a');
  json event = json::parse(kEvent);
  event["Records"][0]["cf"]["request"]["body"] = {
      {"inputTruncated", false}, {"action", "read-only"}, {"encoding", "base64"}, {"data", ""}};
  // base64 of 'a' * 2^20: "YWFh" repeated.
  std::string b64;
  for (size_t i = 0; i < body.size() / 3; ++i) b64 += "YWFh";
  b64 += "YQ==";
  event["Records"][0]["cf"]["request"]["body"]["data"] = b64;
  auto out = invoke(event.dump());
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  auto result = json::parse(out.result_json);
  EXPECT_EQ(result["body"].get<std::string>(), std::string(1 << 20, 'A'));
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_TRUE(out.logs[0].ends_with(" [line truncated]"));
  EXPECT_EQ(invoke().kind, Kind::Ok) << "the process is still in step with its pipes";
}

}  // namespace eg::functions::node_test
