// `edgeguard fn test FILE --event TYPE|EVENT.json`: runs a handler once in the runtime the
// gateway uses (a Node worker for Lambda@Edge, SpiderMonkey for CloudFront Functions),
// validates what it returned with the gateway's own rules, and prints the result with what
// it changed. Exit 0: valid (and as --expect says); 1: the handler failed, its result is
// invalid, or it differs from --expect (the message says where); 2: bad usage.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/fn_sample.h"
#include "functions/cff/cff.h"
#include "functions/cff_event.h"
#include "functions/compile.h"
#include "functions/lambda_event.h"
#include "functions/node/node_pool.h"

namespace eg::cli {
namespace {

using nlohmann::ordered_json;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string show(const ordered_json& v) {
  return v.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// What the handler changed: one line per added (+), removed (-) or changed (~) field.
void diff(const ordered_json& before, const ordered_json& after, const std::string& path,
          std::vector<std::string>& out) {
  if (before.is_object() && after.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      std::string p = path.empty() ? it.key() : path + "." + it.key();
      if (!after.contains(it.key()))
        out.push_back("- " + p + ": " + show(it.value()));
      else
        diff(it.value(), after.at(it.key()), p, out);
    }
    for (auto it = after.begin(); it != after.end(); ++it)
      if (!before.contains(it.key()))
        out.push_back("+ " + (path.empty() ? it.key() : path + "." + it.key()) + ": " +
                      show(it.value()));
    return;
  }
  if (before != after) out.push_back("~ " + path + ": " + show(before) + " -> " + show(after));
}

// --expect: every field it names must be in the result with that value (objects compared
// field by field, the rest exactly). Returns the first difference, or "".
std::string expectation_gap(const ordered_json& expected, const ordered_json& actual,
                            const std::string& path) {
  if (expected.is_object()) {
    if (!actual.is_object()) return path + ": expected an object, got " + show(actual);
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      std::string p = path.empty() ? it.key() : path + "." + it.key();
      if (!actual.contains(it.key())) return p + ": missing (expected " + show(it.value()) + ")";
      if (auto m = expectation_gap(it.value(), actual.at(it.key()), p); !m.empty()) return m;
    }
    return "";
  }
  if (expected != actual)
    return (path.empty() ? "result" : path) + ": expected " + show(expected) + ", got " +
           show(actual);
  return "";
}

int fail(const std::string& message) {
  std::cerr << message << "\n";
  return 1;
}

}  // namespace

int run_fn_test(const FnTestArgs& a) {
  auto source = read_text(a.file);
  if (!source) {
    std::cerr << "edgeguard fn test: cannot read " << a.file << "\n";
    return 2;
  }
  functions::Runtime runtime = functions::infer_runtime(*source);
  if (a.sample.runtime_given)
    if (auto r = functions::parse_runtime(a.sample.runtime)) runtime = *r;
  const bool cff = runtime != functions::Runtime::NodeJs;
  FnSample sample;
  std::string usage;
  if (!make_sample(a.sample, a.event, cff, sample, usage)) {
    std::cerr << "edgeguard fn test: " << usage << "\n";
    return 2;
  }
  const functions::EventType event = sample.context.event;
  const std::string event_json =
      !sample.given_event_json.empty() ? sample.given_event_json
      : cff
          ? functions::build_cff_event(sample.context, sample.request, sample.response_ptr())
          : functions::build_lambda_event(functions::LambdaLimits{}, sample.context, sample.request,
                                          sample.response_ptr(), sample.include_body);
  const std::string where = std::string(functions::to_string(event)) +
                            (cff ? " CloudFront Function " : " function ") + a.file;
  auto started = std::chrono::steady_clock::now();
  std::string result_json;
  std::vector<std::string> logs;
  if (cff) {
    if (!functions::is_viewer_event(event))
      return fail(where + ": CloudFront Functions run at viewer-request and viewer-response only");
    functions::CffOptions options;
    options.version = runtime == functions::Runtime::CloudFrontJs1
                          ? functions::CffRuntimeVersion::V1
                          : functions::CffRuntimeVersion::V2;
    options.kvs_file = a.kvs;
    std::string error;
    auto script = functions::CffScript::load(a.file, *source, options, error);
    if (!script) return fail(error);
    functions::CffOutcome o = functions::run_cff(*script, event_json);
    logs = std::move(o.logs);
    for (const auto& l : logs) std::cerr << l << "\n";
    if (!o.ok) return fail(where + ": " + o.error);
    result_json = std::move(o.result_json);
    std::cerr << "compute utilization: " << o.compute_utilization << "\n";
  } else {
    functions::NodeFunctionSpec spec;
    spec.file = a.file;  // relative to the current directory, as given
    spec.handler = a.handler;
    functions::NodeOutcome o =
        functions::run_once(spec, event_json, sample.request_id,
                            std::chrono::seconds(functions::is_viewer_event(event) ? 5 : 30));
    for (const auto& l : o.logs) std::cerr << l << "\n";
    if (!o.ok()) return fail(std::string(functions::to_string(event)) + " " + o.message);
    result_json = std::move(o.result_json);
  }
  // The gateway's own validation, against the request the event described.
  std::optional<functions::Failure> invalid;
  bool answered = false;
  if (functions::is_request_event(event)) {
    http::Request req = sample.request;
    functions::RequestResult r =
        cff ? functions::apply_cff_request_result(
                  functions::CffLimits{}, functions::CffCall{event, a.file}, result_json, req)
            : functions::apply_lambda_request_result(
                  functions::LambdaLimits{},
                  functions::LambdaCall{event, a.file, sample.include_body, &sample.origin},
                  result_json, req);
    invalid = r.failure;
    answered = r.answer.has_value();
  } else {
    http::Response resp = sample.response;
    functions::ResponseResult r =
        cff ? functions::apply_cff_response_result(functions::CffLimits{},
                                                   functions::CffCall{event, a.file}, result_json,
                                                   sample.request, resp)
            : functions::apply_lambda_response_result(
                  functions::LambdaLimits{},
                  functions::LambdaCall{event, a.file, false, &sample.origin}, result_json,
                  sample.request, resp);
    invalid = r.failure;
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  auto result = ordered_json::parse(result_json, nullptr, false);
  if (!result.is_discarded())
    std::cout << result.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
  else
    std::cout << result_json << "\n";
  if (invalid) return fail(invalid->message);
  // What changed, against the object the handler was given.
  auto input = ordered_json::parse(event_json, nullptr, false);
  const ordered_json* given = nullptr;
  if (!input.is_discarded()) {
    if (cff)
      given =
          functions::is_request_event(event) && !answered ? &input["request"] : &input["response"];
    else
      given = &input["Records"][0]["cf"]
                    [functions::is_request_event(event) && !answered ? "request" : "response"];
  }
  std::vector<std::string> changes;
  if (given && !result.is_discarded()) diff(*given, result, "", changes);
  std::cerr << (answered ? "the function answered the viewer (generated response)\n"
                         : "valid result\n");
  for (const auto& c : changes) std::cerr << c << "\n";
  std::cerr << "ran in " << int(ms) << " ms\n";
  if (!a.expect.empty()) {
    auto expected = ordered_json::parse(a.expect, nullptr, false);
    if (expected.is_discarded()) {
      std::cerr << "edgeguard fn test: --expect is not valid JSON\n";
      return 2;
    }
    if (auto m = expectation_gap(expected, result, ""); !m.empty()) return fail("--expect: " + m);
  }
  return 0;
}

}  // namespace eg::cli
