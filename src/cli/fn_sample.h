// What `fn event` and `fn test` share: the request (and response) a command line describes,
// with the defaults CloudFront's documented examples show, or the one an event file holds.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "functions/function.h"
#include "http/message.h"

namespace eg::cli {

struct FnSampleArgs {
  std::string method = "GET", uri = "/", query, body, client_ip = "203.0.113.178";
  std::string runtime = "nodejs", origin_domain = "example.org";
  std::vector<std::string> headers;
  int status = 200;
  bool query_given = false, method_given = false, runtime_given = false;
};

// Registers --method --uri --query -H --body --client-ip --status --origin-domain --runtime.
void add_sample_flags(CLI::App* cmd, FnSampleArgs& a);
// Reads which flags were given (after parsing).
void note_given_flags(CLI::App* cmd, FnSampleArgs& a);

struct FnSample {
  http::Request request;
  http::Response response;
  functions::OriginInfo origin;
  std::string request_id;
  std::string client_ip;
  functions::Context context;  // views into the members above: do not copy a FnSample
  bool include_body = false;
  std::string given_event_json;  // the event file's text, when the event came from a file

  FnSample() = default;
  FnSample(const FnSample&) = delete;
  FnSample& operator=(const FnSample&) = delete;
  const http::Response* response_ptr() const {
    return functions::is_request_event(context.event) ? nullptr : &response;
  }
};

// `event` is an event type, or the path of an event JSON file (a Lambda@Edge event, or with
// cff a CloudFront Functions event). false and `error` (naming the flag or the field) when the
// arguments do not describe a request.
bool make_sample(const FnSampleArgs& a, const std::string& event, bool cff, FnSample& out,
                 std::string& error);

struct FnTestArgs {
  std::string file, event, expect, handler = "handler", kvs;
  FnSampleArgs sample;
};
int run_fn_test(const FnTestArgs& a);

}  // namespace eg::cli
