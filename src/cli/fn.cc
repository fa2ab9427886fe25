// `edgeguard fn event TYPE`: prints the event a Lambda@Edge handler (or, with
// --runtime cloudfront-js-*, a CloudFront Function) would receive for a request given on
// the command line, with the defaults CloudFront's documented examples show, so a handler
// can be written and tested against the real shape. `edgeguard fn test`: fn_test.cc.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/fn_sample.h"
#include "functions/cff_event.h"
#include "functions/lambda_event.h"

namespace eg::cli {
namespace {

int run_fn_event(const FnSampleArgs& a, const std::string& type) {
  const bool cff = a.runtime != "nodejs";
  if (!functions::parse_event_type(type)) {
    std::cerr << "edgeguard fn event: '" << type
              << "' is not an event type; expected viewer-request, origin-request, "
                 "origin-response or viewer-response\n";
    return 2;
  }
  FnSample sample;
  std::string error;
  if (!make_sample(a, type, cff, sample, error)) {
    std::cerr << "edgeguard fn event: "
              << (cff && error.starts_with("CloudFront") ? "--runtime " + a.runtime + ": " : "")
              << error << "\n";
    return 2;
  }
  std::string text =
      cff ? functions::build_cff_event(sample.context, sample.request, sample.response_ptr())
          : functions::build_lambda_event(functions::LambdaLimits{}, sample.context, sample.request,
                                          sample.response_ptr(), sample.include_body);
  auto pretty = nlohmann::ordered_json::parse(text, nullptr, false);
  if (pretty.is_discarded()) {
    std::cerr << "edgeguard fn event: internal error: the event is not valid JSON\n";
    return 1;
  }
  std::cout << pretty.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace

Command add_fn_command(CLI::App& app) {
  auto* fn = app.add_subcommand("fn", "Edge function tools (Lambda@Edge, CloudFront Functions)");
  fn->require_subcommand(1);
  auto* event = fn->add_subcommand(
      "event", "Print the event a handler receives for a request (Lambda@Edge by default)");
  auto event_args = std::make_shared<FnSampleArgs>();
  auto type = std::make_shared<std::string>();
  event
      ->add_option("type", *type,
                   "viewer-request, origin-request, origin-response or viewer-response")
      ->required();
  add_sample_flags(event, *event_args);

  auto* test = fn->add_subcommand(
      "test", "Run a handler once in the gateway's runtime, validate and show its result");
  auto test_args = std::make_shared<FnTestArgs>();
  test->add_option("file", test_args->file, "the handler file")->required();
  test->add_option("--event", test_args->event,
                   "an event type, or an event JSON file (Lambda@Edge, or with --runtime "
                   "cloudfront-js-* a CloudFront Functions event)")
      ->required();
  test->add_option("--expect", test_args->expect,
                   "JSON the result must match (the fields it names, recursively)");
  test->add_option("--handler", test_args->handler, "the exported function (Node)")
      ->capture_default_str();
  test->add_option("--kvs", test_args->kvs, "a KeyValueStore file (CloudFront Functions 2.0)");
  add_sample_flags(test, test_args->sample);

  return {fn, [event, event_args, type, test, test_args] {
            if (event->parsed()) {
              note_given_flags(event, *event_args);
              return run_fn_event(*event_args, *type);
            }
            if (test->parsed()) {
              note_given_flags(test, test_args->sample);
              return run_fn_test(*test_args);
            }
            return 2;
          }};
}

}  // namespace eg::cli
