#include "functions/lambda_event.h"

#include "core/base64.h"
#include "core/strings.h"
#include "functions/headers_rules.h"

namespace eg::functions {

namespace {

void key(std::string& out, std::string_view k) {
  append_json_string(out, k);
  out += ':';
}

// lowercase name -> [{key, value}, ...] in first-appearance order, one element per line.
// Disallowed headers are not shown to functions (§1.6).
void append_headers(std::string& out, const std::vector<http::Header>& headers) {
  out += '{';
  std::vector<bool> written(headers.size(), false);
  bool first_name = true;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (written[i] || is_disallowed_header(headers[i].name)) continue;
    if (!first_name) out += ',';
    first_name = false;
    key(out, to_lower(headers[i].name));
    out += '[';
    for (size_t j = i; j < headers.size(); ++j) {
      if (written[j] || !iequals(headers[j].name, headers[i].name)) continue;
      written[j] = true;
      if (j != i) out += ',';
      out += "{\"key\":";
      append_json_string(out, headers[j].name);
      out += ",\"value\":";
      append_json_string(out, headers[j].value);
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

void append_origin(std::string& out, const OriginInfo& o) {
  if (o.kind == OriginInfo::Kind::Custom) {
    out += "{\"custom\":{\"customHeaders\":";
    append_headers(out, o.custom_headers);
    out += ",\"domainName\":";
    append_json_string(out, o.domain_name);
    out += ",\"keepaliveTimeout\":" + std::to_string(o.keepalive_timeout_s);
    out += ",\"path\":";
    append_json_string(out, o.path);
    out += ",\"port\":" + std::to_string(o.port);
    out += ",\"protocol\":";
    append_json_string(out, o.protocol);
    out += ",\"readTimeout\":" + std::to_string(o.read_timeout_s);
    out += ",\"sslProtocols\":[";
    for (size_t i = 0; i < o.ssl_protocols.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, o.ssl_protocols[i]);
    }
    out += "]}}";
  } else {
    out += "{\"s3\":{\"authMethod\":";
    append_json_string(out, o.auth_method);
    out += ",\"customHeaders\":";
    append_headers(out, o.custom_headers);
    out += ",\"domainName\":";
    append_json_string(out, o.domain_name);
    out += ",\"path\":";
    append_json_string(out, o.path);
    out += ",\"region\":";
    append_json_string(out, o.region);
    out += "}}";
  }
}

}  // namespace

std::string build_lambda_event(const LambdaLimits& limits, const Context& c,
                               const http::Request& req, const http::Response* resp,
                               bool include_body) {
  std::string out;
  out.reserve(512 + req.path.size() + req.query.size() + 64 * req.headers.size() +
              (include_body ? req.body.size() * 4 / 3 : 0));
  out += "{\"Records\":[{\"cf\":{\"config\":{";
  append_event_config_fields(out, c);
  out += "},\"request\":{";
  if (include_body && is_request_event(c.event)) {
    size_t limit = is_viewer_event(c.event) ? limits.viewer_body_bytes : limits.origin_body_bytes;
    bool truncated = req.body.size() > limit;
    out += "\"body\":{\"inputTruncated\":";
    out += truncated ? "true" : "false";
    out += ",\"action\":\"read-only\",\"encoding\":\"base64\",\"data\":\"";
    out += base64_encode(std::string_view(req.body).substr(0, limit));
    out += "\"},";
  }
  out += "\"clientIp\":";
  append_json_string(out, c.client_ip);
  out += ",\"headers\":";
  append_headers(out, req.headers.list());
  out += ",\"method\":";
  append_json_string(out, req.method);
  if (c.origin && (c.event == EventType::OriginRequest || c.event == EventType::OriginResponse)) {
    out += ",\"origin\":";
    append_origin(out, *c.origin);
  }
  out += ",\"querystring\":";
  append_json_string(out, req.query);
  out += ",\"uri\":";
  append_json_string(out, req.path);
  out += '}';
  if (resp && !is_request_event(c.event)) {
    out += ",\"response\":{\"headers\":";
    append_headers(out, resp->headers.list());
    out += ",\"status\":\"" + std::to_string(resp->status) + "\",\"statusDescription\":";
    append_json_string(out, resp->reason.empty() ? http::reason_phrase(resp->status)
                                                 : std::string_view(resp->reason));
    out += '}';
  }
  out += "}}]}";
  return out;
}

bool same_origin(const OriginInfo& a, const OriginInfo& b) {
  auto same_headers = [](const std::vector<http::Header>& x, const std::vector<http::Header>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!iequals(x[i].name, y[i].name) || x[i].value != y[i].value) return false;
    return true;
  };
  if (a.kind != b.kind || a.domain_name != b.domain_name || a.path != b.path ||
      !same_headers(a.custom_headers, b.custom_headers))
    return false;
  if (a.kind == OriginInfo::Kind::S3) return a.auth_method == b.auth_method && a.region == b.region;
  return a.port == b.port && a.protocol == b.protocol &&
         a.keepalive_timeout_s == b.keepalive_timeout_s && a.read_timeout_s == b.read_timeout_s &&
         a.ssl_protocols == b.ssl_protocols;
}

}  // namespace eg::functions
