// What a CloudFront Function costs one request on viewer-request, the whole way the proxy calls
// it (CloudFrontFunction::on_request_now: event, handler, result applied to the request), for
// bench/functions/noop.js and bench/functions/rewrite.js on the request bench/functions.sh
// sends. Compare with BM_CopyRequest, the request copy every iteration also pays.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "functions/js_functions.h"

namespace {

using namespace eg::functions;

eg::http::Request bench_request() {
  eg::http::Request r;
  r.method = "GET";
  r.path = "/products/shoes/";
  r.query = "id=42&lang=EN-GB&sort=price";
  r.has_query = true;
  r.target = r.path + "?" + r.query;
  r.headers.add("Host", "127.0.0.1:9032");
  r.headers.add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) bench");
  r.headers.add("Accept", "text/html");
  r.headers.add("X-Amz-Cf-Id", "d1tt3cHZvTV9MI8yj5qn4RGLgP5qt8YvGWxcBsTRTx4d8OQv3PbGvw==");
  return r;
}

std::shared_ptr<CloudFrontFunction> load(const char* file) {
  std::ifstream in(std::string(EG_SOURCE_DIR) + "/bench/functions/" + file);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto script = CffScript::load(file, text.str(), CffOptions{}, error);
  if (!script) {
    std::fprintf(stderr, "cff_bench: %s\n", error.c_str());
    std::exit(1);
  }
  CloudFrontFunctionSettings settings;
  settings.display_name = file;
  return std::make_shared<CloudFrontFunction>(std::move(settings), script);
}

Context bench_context() {
  Context c;
  c.event = EventType::ViewerRequest;
  c.request_id = "d1tt3cHZvTV9MI8yj5qn4RGLgP5qt8YvGWxcBsTRTx4d8OQv3PbGvw==";
  c.distribution_id = "EDFDVBD6EXAMPLE";
  c.distribution_domain = "d111111abcdef8.cloudfront.net";
  c.client_ip = "127.0.0.1";
  return c;
}

void run(benchmark::State& state, const char* file) {
  auto fn = load(file);
  const eg::http::Request original = bench_request();
  const Context c = bench_context();
  for (auto _ : state) {
    eg::http::Request req = original;
    RequestResult r = fn->on_request_now(c, req);
    if (r.failure) state.SkipWithError(r.failure->message.c_str());
    benchmark::DoNotOptimize(req);
  }
}

// The JSON way the request record replaced (still used for viewer-response and fallbacks).
void run_json(benchmark::State& state, const char* file) {
  auto fn = load(file);
  std::string error;
  std::ifstream in(std::string(EG_SOURCE_DIR) + "/bench/functions/" + file);
  std::stringstream text;
  text << in.rdbuf();
  auto script = CffScript::load(file, text.str(), CffOptions{}, error);
  const eg::http::Request original = bench_request();
  const Context c = bench_context();
  for (auto _ : state) {
    eg::http::Request req = original;
    CffOutcome o = run_cff(*script, build_cff_event(c, req, nullptr));
    RequestResult r =
        apply_cff_request_result(CffLimits{}, CffCall{c.event, file}, o.result_json, req);
    if (r.failure) state.SkipWithError(r.failure->message.c_str());
    benchmark::DoNotOptimize(req);
  }
}

void BM_NoOp(benchmark::State& state) { run(state, "noop.js"); }
void BM_NoOpJson(benchmark::State& state) { run_json(state, "noop.js"); }
void BM_RewriteJson(benchmark::State& state) { run_json(state, "rewrite.js"); }
void BM_Rewrite(benchmark::State& state) { run(state, "rewrite.js"); }
void BM_CopyRequest(benchmark::State& state) {
  const eg::http::Request original = bench_request();
  for (auto _ : state) {
    eg::http::Request req = original;
    benchmark::DoNotOptimize(req);
  }
}

BENCHMARK(BM_CopyRequest);
BENCHMARK(BM_NoOp);
BENCHMARK(BM_Rewrite);
BENCHMARK(BM_NoOpJson);
BENCHMARK(BM_RewriteJson);

}  // namespace

BENCHMARK_MAIN();
