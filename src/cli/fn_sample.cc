#include "cli/fn_sample.h"

#include <arpa/inet.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.h"
#include "core/base64.h"
#include "core/http_date.h"
#include "core/request_id.h"

namespace eg::cli {

namespace {

using nlohmann::json;

void set_target(http::Request& req) {
  req.has_query = !req.query.empty();
  req.target = req.has_query ? req.path + "?" + req.query : req.path;
}

// Lambda@Edge headers: lowercase name -> [{key, value}].
bool lambda_headers(const json& h, http::Headers& out, const std::string& where,
                    std::string& error) {
  if (!h.is_object()) {
    error = where + " must be an object";
    return false;
  }
  for (auto& [name, list] : h.items()) {
    if (!list.is_array()) {
      error = where + "." + name + " must be an array of {key, value}";
      return false;
    }
    for (const auto& e : list) {
      if (!e.is_object() || !e.contains("value") || !e["value"].is_string()) {
        error = where + "." + name + " entries need a string value";
        return false;
      }
      out.add(e.contains("key") && e["key"].is_string() ? e["key"].get<std::string>() : name,
              e["value"].get<std::string>());
    }
  }
  return true;
}

// CloudFront Functions headers: name -> {value} or {value, multiValue: [{value}...]}.
void cff_values(const json& h,
                const std::function<void(const std::string&, const std::string&)>& add) {
  if (!h.is_object()) return;
  for (auto& [name, v] : h.items()) {
    if (!v.is_object()) continue;
    if (v.contains("multiValue") && v["multiValue"].is_array()) {
      for (const auto& m : v["multiValue"])
        if (m.is_object() && m.contains("value") && m["value"].is_string())
          add(name, m["value"].get<std::string>());
    } else if (v.contains("value") && v["value"].is_string()) {
      add(name, v["value"].get<std::string>());
    }
  }
}

bool sample_from_file(const std::string& path, bool cff, FnSample& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  out.given_event_json = text.str();
  json doc = json::parse(out.given_event_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = path + ": not a JSON object";
    return false;
  }
  const json* request = nullptr;
  const json* response = nullptr;
  std::string type;
  if (!cff) {
    const json* cf = nullptr;
    if (doc.contains("Records") && doc["Records"].is_array() && !doc["Records"].empty() &&
        doc["Records"][0].is_object() && doc["Records"][0].contains("cf"))
      cf = &doc["Records"][0]["cf"];
    if (!cf || !cf->is_object()) {
      error = path +
              ": a Lambda@Edge event has Records[0].cf (for a CloudFront Functions "
              "event, give --runtime cloudfront-js-2.0)";
      return false;
    }
    if (cf->contains("config") && (*cf)["config"].value("eventType", "").size())
      type = (*cf)["config"]["eventType"];
    if (cf->contains("request")) request = &(*cf)["request"];
    if (cf->contains("response")) response = &(*cf)["response"];
  } else {
    if (doc.contains("context") && doc["context"].is_object())
      type = doc["context"].value("eventType", "");
    if (doc.contains("request")) request = &doc["request"];
    if (doc.contains("response")) response = &doc["response"];
  }
  auto e = functions::parse_event_type(type);
  if (!e) {
    error = path + ": eventType \"" + type + "\" is not an event type";
    return false;
  }
  out.context.event = *e;
  if (!request || !request->is_object()) {
    error = path + ": the event has no request object";
    return false;
  }
  if (!cff && request->contains("clientIp") && (*request)["clientIp"].is_string())
    out.client_ip = (*request)["clientIp"];
  if (cff && doc.contains("viewer") && doc["viewer"].is_object() && doc["viewer"].contains("ip") &&
      doc["viewer"]["ip"].is_string())
    out.client_ip = doc["viewer"]["ip"];
  http::Request& req = out.request;
  req.method = request->value("method", "GET");
  req.path = request->value("uri", "/");
  if (!cff) {
    req.query = request->value("querystring", "");
    if (request->contains("headers") &&
        !lambda_headers((*request)["headers"], req.headers, "request.headers", error))
      return false;
    if (request->contains("body") && (*request)["body"].is_object()) {
      out.include_body = true;
      std::string data = (*request)["body"].value("data", "");
      if (auto decoded = base64_decode(data)) req.body = *decoded;
    }
  } else {
    std::string q;
    cff_values(request->value("querystring", json::object()),
               [&](const std::string& n, const std::string& v) {
                 q += (q.empty() ? "" : "&") + n + (v.empty() ? "" : "=" + v);
               });
    req.query = q;
    cff_values(request->value("headers", json::object()),
               [&](const std::string& n, const std::string& v) { req.headers.add(n, v); });
    std::string cookies;
    cff_values(request->value("cookies", json::object()),
               [&](const std::string& n, const std::string& v) {
                 cookies += (cookies.empty() ? "" : "; ") + n + "=" + v;
               });
    if (!cookies.empty()) req.headers.add("Cookie", cookies);
  }
  set_target(req);
  if (response && response->is_object()) {
    const json& s = cff ? (*response)["statusCode"] : (*response)["status"];
    out.response.status = s.is_number_integer() ? s.get<int>()
                          : s.is_string()       ? std::atoi(s.get<std::string>().c_str())
                                                : 200;
    if (!cff && response->contains("headers") &&
        !lambda_headers((*response)["headers"], out.response.headers, "response.headers", error))
      return false;
    if (cff)
      cff_values(
          response->value("headers", json::object()),
          [&](const std::string& n, const std::string& v) { out.response.headers.add(n, v); });
  }
  return true;
}

}  // namespace

void add_sample_flags(CLI::App* cmd, FnSampleArgs& a) {
  cmd->add_option("--method", a.method, "HTTP method (POST when --body is given)")
      ->capture_default_str();
  cmd->add_option("--uri", a.uri, "path (a '?query' part is taken as --query)")
      ->capture_default_str();
  cmd->add_option("--query", a.query, "query string, without '?'");
  cmd->add_option("-H,--header", a.headers, "'Name: value' (repeatable)");
  cmd->add_option("--body", a.body,
                  "request body; a Lambda@Edge request event then includes it (include-body)");
  cmd->add_option("--client-ip", a.client_ip, "the viewer's address")->capture_default_str();
  cmd->add_option("--status", a.status, "response status (response events)")->capture_default_str();
  cmd->add_option("--origin-domain", a.origin_domain, "the origin's domain name")
      ->capture_default_str();
  cmd->add_option("--runtime", a.runtime, "nodejs (Lambda@Edge) or cloudfront-js-1.0/2.0")
      ->check(CLI::IsMember({"nodejs", "cloudfront-js-1.0", "cloudfront-js-2.0"}))
      ->capture_default_str();
}

void note_given_flags(CLI::App* cmd, FnSampleArgs& a) {
  a.query_given = cmd->count("--query") > 0;
  a.method_given = cmd->count("--method") > 0;
  a.runtime_given = cmd->count("--runtime") > 0;
}

bool make_sample(const FnSampleArgs& flags, const std::string& event, bool cff, FnSample& out,
                 std::string& error) {
  FnSampleArgs a = flags;
  out.request_id = new_request_id();
  functions::Context& c = out.context;
  c.request_id = out.request_id;
  c.distribution_id = "EDFDVBD6EXAMPLE";
  c.distribution_domain = "d111111abcdef8.cloudfront.net";
  c.https = true;
  out.origin.domain_name = a.origin_domain;
  c.origin = &out.origin;
  std::error_code ec;
  out.client_ip = a.client_ip;
  if (!functions::parse_event_type(event) && std::filesystem::is_regular_file(event, ec)) {
    bool ok = sample_from_file(event, cff, out, error);
    c.client_ip = out.client_ip;
    return ok;
  }
  auto type = functions::parse_event_type(event);
  if (!type) {
    error = "'" + event +
            "' is not an event type (viewer-request, origin-request, origin-response, "
            "viewer-response) nor an event file";
    return false;
  }
  c.event = *type;
  if (cff && !functions::is_viewer_event(*type)) {
    error = "CloudFront Functions run only at viewer-request and viewer-response";
    return false;
  }
  c.client_ip = out.client_ip;
  unsigned char ip[16];
  if (inet_pton(AF_INET, a.client_ip.c_str(), ip) != 1 &&
      inet_pton(AF_INET6, a.client_ip.c_str(), ip) != 1) {
    error = "--client-ip '" + a.client_ip + "' is not an IPv4 or IPv6 address";
    return false;
  }
  if (a.uri.empty() || a.uri.front() != '/') {
    error = "--uri '" + a.uri + "' must start with '/'";
    return false;
  }
  if (size_t q = a.uri.find('?'); q != std::string::npos) {
    if (a.query_given) {
      error = "--uri '" + a.uri + "' has a query and --query is given too; use one";
      return false;
    }
    a.query = a.uri.substr(q + 1);
    a.uri.resize(q);
  }
  if (!a.query.empty() && a.query.front() == '?') a.query.erase(0, 1);
  if (!a.body.empty() && !a.method_given) a.method = "POST";
  if (a.method.empty() ||
      a.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    error = "--method '" + a.method + "' is not an HTTP method (e.g. GET, POST)";
    return false;
  }
  if (a.status < 100 || a.status > 599) {
    error = "--status " + std::to_string(a.status) + " is not an HTTP status";
    return false;
  }
  http::Request& req = out.request;
  req.method = a.method;
  req.path = a.uri;
  req.query = a.query;
  req.body = a.body;
  set_target(req);
  http::Headers given;
  for (const auto& h : a.headers) {
    std::pair<std::string, std::string> kv;
    if (!parse_header_arg(h, kv, error)) return false;
    given.add(kv.first, kv.second);
  }
  const bool origin_side = !functions::is_viewer_event(*type);
  // What CloudFront's examples show: the viewer's host, curl's user agent; origin-side events
  // see the origin's host, X-Forwarded-For and CloudFront's Via.
  if (!given.contains("host"))
    req.headers.add("Host", origin_side ? a.origin_domain : "d111111abcdef8.cloudfront.net");
  if (!given.contains("user-agent"))
    req.headers.add("User-Agent", origin_side ? "Amazon CloudFront" : "curl/8.5.0");
  if (!given.contains("accept") && !origin_side) req.headers.add("Accept", "*/*");
  for (const auto& h : given) req.headers.add(h.name, h.value);
  if (!a.body.empty() && !given.contains("content-length"))
    req.headers.add("Content-Length", std::to_string(a.body.size()));
  if (origin_side) {
    if (!given.contains("x-forwarded-for")) req.headers.add("X-Forwarded-For", a.client_ip);
    if (!given.contains("via"))
      req.headers.add("Via", "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)");
  }
  http::Response& resp = out.response;
  resp.status = a.status;
  resp.headers.add("Content-Type", "text/html; charset=UTF-8");
  resp.headers.add("Content-Length", "1270");
  resp.headers.add("Date", format_http_date(std::time(nullptr)));
  resp.headers.add("Server", "ECS (ord/5730)");
  resp.headers.add("Last-Modified", "Thu, 17 Oct 2019 07:18:26 GMT");
  if (*type == functions::EventType::ViewerResponse)
    resp.headers.add("Via", "1.1 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)");
  out.include_body = !a.body.empty() && functions::is_request_event(*type);
  return true;
}

}  // namespace eg::cli
