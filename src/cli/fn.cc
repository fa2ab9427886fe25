// `edgeguard fn event TYPE`: prints the event a Lambda@Edge handler (or, with
// --runtime cloudfront-js-*, a CloudFront Function) would receive for a request given on
// the command line, with the defaults CloudFront's documented examples show, so a handler
// can be written and tested against the real shape.
#include <arpa/inet.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/http_date.h"
#include "core/request_id.h"
#include "functions/cff_event.h"
#include "functions/lambda_event.h"

namespace eg::cli {
namespace {

struct FnEventArgs {
  std::string type, method = "GET", uri = "/", query, body, client_ip = "203.0.113.178";
  std::string runtime = "nodejs", origin_domain = "example.org";
  std::vector<std::string> headers;
  int status = 200;
  bool query_given = false;
  bool method_given = false;
};

bool has_header(const http::Headers& h, std::string_view name) { return h.contains(name); }

int usage_error(const std::string& message) {
  std::cerr << "edgeguard fn event: " << message << "\n";
  return 2;
}

int run_fn_event(FnEventArgs a) {
  using functions::EventType;
  auto event = functions::parse_event_type(a.type);
  if (!event)
    return usage_error("'" + a.type +
                       "' is not an event type; expected viewer-request, origin-request, "
                       "origin-response or viewer-response");
  bool cff = a.runtime != "nodejs";
  if (cff && !functions::is_viewer_event(*event))
    return usage_error("--runtime " + a.runtime +
                       ": CloudFront Functions run only at viewer-request and viewer-response");
  unsigned char ip[16];
  if (inet_pton(AF_INET, a.client_ip.c_str(), ip) != 1 &&
      inet_pton(AF_INET6, a.client_ip.c_str(), ip) != 1)
    return usage_error("--client-ip '" + a.client_ip + "' is not an IPv4 or IPv6 address");
  if (a.uri.empty() || a.uri.front() != '/')
    return usage_error("--uri '" + a.uri + "' must start with '/'");
  if (size_t q = a.uri.find('?'); q != std::string::npos) {
    if (a.query_given)
      return usage_error("--uri '" + a.uri + "' has a query and --query is given too; use one");
    a.query = a.uri.substr(q + 1);
    a.uri.resize(q);
  }
  if (!a.query.empty() && a.query.front() == '?') a.query.erase(0, 1);
  if (!a.body.empty() && !a.method_given) a.method = "POST";
  if (a.method.empty() ||
      a.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return usage_error("--method '" + a.method + "' is not an HTTP method (e.g. GET, POST)");
  if (a.status < 100 || a.status > 599)
    return usage_error("--status " + std::to_string(a.status) + " is not an HTTP status");

  http::Request req;
  req.method = a.method;
  req.path = a.uri;
  req.query = a.query;
  req.has_query = !a.query.empty();
  req.target = req.has_query ? req.path + "?" + req.query : req.path;
  req.body = a.body;
  http::Headers given;
  for (const auto& h : a.headers) {
    std::pair<std::string, std::string> kv;
    std::string error;
    if (!parse_header_arg(h, kv, error)) return usage_error(error);
    given.add(kv.first, kv.second);
  }
  bool origin_side = !functions::is_viewer_event(*event);
  // What CloudFront's examples show: the viewer's host, curl's user agent; origin-side events
  // see the origin's host, X-Forwarded-For and CloudFront's Via.
  if (!has_header(given, "host"))
    req.headers.add("Host", origin_side ? a.origin_domain : "d111111abcdef8.cloudfront.net");
  if (!has_header(given, "user-agent"))
    req.headers.add("User-Agent", origin_side ? "Amazon CloudFront" : "curl/8.5.0");
  if (!has_header(given, "accept") && !origin_side) req.headers.add("Accept", "*/*");
  for (const auto& h : given) req.headers.add(h.name, h.value);
  if (!a.body.empty() && !has_header(given, "content-length"))
    req.headers.add("Content-Length", std::to_string(a.body.size()));
  if (origin_side) {
    if (!has_header(given, "x-forwarded-for")) req.headers.add("X-Forwarded-For", a.client_ip);
    if (!has_header(given, "via"))
      req.headers.add("Via", "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)");
  }

  http::Response resp;
  resp.status = a.status;
  resp.headers.add("Content-Type", "text/html; charset=UTF-8");
  resp.headers.add("Content-Length", "1270");
  resp.headers.add("Date", format_http_date(std::time(nullptr)));
  resp.headers.add("Server", "ECS (ord/5730)");
  resp.headers.add("Last-Modified", "Thu, 17 Oct 2019 07:18:26 GMT");
  if (*event == EventType::ViewerResponse)
    resp.headers.add("Via", "1.1 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)");

  functions::OriginInfo origin;
  origin.domain_name = a.origin_domain;
  std::string request_id = new_request_id();
  functions::Context c;
  c.event = *event;
  c.request_id = request_id;
  c.distribution_id = "EDFDVBD6EXAMPLE";
  c.distribution_domain = "d111111abcdef8.cloudfront.net";
  c.client_ip = a.client_ip;
  c.https = true;
  c.origin = &origin;

  const http::Response* response = functions::is_request_event(*event) ? nullptr : &resp;
  std::string text =
      cff ? functions::build_cff_event(c, req, response)
          : functions::build_lambda_event(functions::LambdaLimits{}, c, req, response,
                                          !a.body.empty() && functions::is_request_event(*event));
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
  auto args = std::make_shared<FnEventArgs>();
  event
      ->add_option("type", args->type,
                   "viewer-request, origin-request, origin-response or viewer-response")
      ->required();
  event->add_option("--method", args->method, "HTTP method (POST when --body is given)")
      ->capture_default_str();
  event->add_option("--uri", args->uri, "path (a '?query' part is taken as --query)")
      ->capture_default_str();
  event->add_option("--query", args->query, "query string, without '?'");
  event->add_option("-H,--header", args->headers, "'Name: value' (repeatable)");
  event->add_option("--body", args->body,
                    "request body; a Lambda@Edge request event then includes it (include-body)");
  event->add_option("--client-ip", args->client_ip, "the viewer's address")->capture_default_str();
  event->add_option("--status", args->status, "response status (response events)")
      ->capture_default_str();
  event->add_option("--origin-domain", args->origin_domain, "the origin's domain name")
      ->capture_default_str();
  event->add_option("--runtime", args->runtime, "nodejs (Lambda@Edge) or cloudfront-js-1.0/2.0")
      ->check(CLI::IsMember({"nodejs", "cloudfront-js-1.0", "cloudfront-js-2.0"}))
      ->capture_default_str();
  return {fn, [args, event] {
            if (!event->parsed()) return 2;
            args->query_given = event->count("--query") > 0;
            args->method_given = event->count("--method") > 0;
            return run_fn_event(*args);
          }};
}

}  // namespace eg::cli
