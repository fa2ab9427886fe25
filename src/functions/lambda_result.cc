// Lambda@Edge result validation (aws-formats §1.4–1.7). Everything is read into locals
// first and written to the request/response only when the whole result is valid.
#include <algorithm>

#include "core/base64.h"
#include "core/strings.h"
#include "functions/headers_rules.h"
#include "functions/lambda_event.h"
#include "functions/result_json.h"

namespace eg::functions {

namespace {

using detail::Json;
using detail::Judge;
using detail::show;
using detail::type_phrase;
using Fail = std::optional<Failure>;

std::string header_hint(std::string_view lower) {
  return "write headers['" + std::string(lower) + "'] = [{key: '" + title_case_header(lower) +
         "', value: '...'}]";
}

// A lowercase-name -> [{key, value}] map (request/response headers, customHeaders) as wire
// headers. where: "headers", "origin.custom.customHeaders", ...
Fail read_headers(const Judge& judge, const Json& map, const std::string& where,
                  std::vector<http::Header>& out) {
  if (!map.is_object())
    return judge.fail(where +
                          " must be an object mapping lowercase header names to arrays of "
                          "{key, value} objects, got " +
                          std::string(type_phrase(map)),
                      kAwsHeadersArray);
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string& name = it.key();
    const Json& entries = it.value();
    std::string at = where + "." + name;
    if (!is_token(name))
      return judge.fail(where + " has the key " + show(Json(name)) +
                        ", which is not a valid header name");
    if (!is_lowercase(name))
      return judge.fail(where + " has the key '" + name +
                        "': header names must be lowercase keys (" + header_hint(to_lower(name)) +
                        ")");
    if (!entries.is_array()) {
      std::string detail = at + " must be an array of {key, value} objects, got " +
                           std::string(type_phrase(entries));
      if (entries.is_string() || entries.is_object()) detail += " (" + header_hint(name) + ")";
      return judge.fail(detail, kAwsHeadersArray);
    }
    if (is_disallowed_header(name))
      return judge.fail(at + ": " + title_case_header(name) +
                            " is a disallowed header; edge functions may not add it",
                        kAwsDisallowedHeader);
    for (size_t i = 0; i < entries.size(); ++i) {
      const Json& e = entries[i];
      std::string el = at + "[" + std::to_string(i) + "]";
      if (!e.is_object())
        return judge.fail(el + " must be a {key, value} object, got " + std::string(type_phrase(e)),
                          kAwsHeaderValueType);
      auto v = e.find("value");
      if (v == e.end())
        return judge.fail(el + " has no `value`; each entry is {key, value}", kAwsHeaderValueType);
      if (!v->is_string())
        return judge.fail(
            el + ".value must be a string, got " + std::string(type_phrase(*v)) + " " + show(*v),
            kAwsHeaderValueType);
      const auto& value = v->get_ref<const std::string&>();
      if (size_t bad = find_invalid_value_char(value); bad != std::string::npos)
        return judge.fail(el + ".value contains the invalid character " +
                              describe_byte(value[bad]) + " at offset " + std::to_string(bad),
                          kAwsInvalidHeaderChar);
      std::string wire_name;
      auto k = e.find("key");
      if (k == e.end() || k->is_null()) {
        wire_name = title_case_header(name);
      } else if (!k->is_string()) {
        return judge.fail(el + ".key must be a string, got " + std::string(type_phrase(*k)));
      } else {
        wire_name = k->get<std::string>();
        if (!iequals(wire_name, name))
          return judge.fail(el + ".key '" + wire_name + "' does not match the header name '" +
                            name + "'");
      }
      out.push_back({std::move(wire_name), value});
    }
  }
  return std::nullopt;
}

Fail check_read_only(const Judge& judge, EventType event, const std::vector<http::Header>& before,
                     const std::vector<http::Header>& after) {
  if (auto v = read_only_violation(event, before, after))
    return judge.fail(v->detail, v->viewer_country ? kAwsFailedValidation : kAwsReadOnlyHeader);
  return std::nullopt;
}

std::vector<http::Header> visible(const std::vector<http::Header>& h) {
  std::vector<http::Header> out;
  for (const auto& x : h)
    if (!is_disallowed_header(x.name)) out.push_back(x);
  return out;
}

// The function never saw the disallowed headers; they stay as they were.
std::vector<http::Header> with_hidden(std::vector<http::Header> shown,
                                      const std::vector<http::Header>& original) {
  for (const auto& x : original)
    if (is_disallowed_header(x.name)) shown.push_back(x);
  return shown;
}

size_t head_bytes(const std::vector<http::Header>& h) {
  size_t n = 0;
  for (const auto& x : h) n += x.name.size() + x.value.size() + 4;
  return n;
}

struct ResponseParts {
  std::optional<long long> status;
  std::optional<std::string> reason;
  std::optional<std::vector<http::Header>> headers;
  std::optional<std::string> body;  // decoded
};

// status, statusDescription, headers, body, bodyEncoding of a returned response object.
Fail read_response(const Judge& judge, const Json& r, size_t size_limit, ResponseParts& out) {
  if (auto s = r.find("status"); s != r.end()) {
    auto n = detail::integer_value(*s);
    if (!n)
      return judge.fail(
          "response status must be a number or a numeric string (e.g. 302 or "
          "\"302\"), got " +
          std::string(type_phrase(*s)) + " " + show(*s));
    if (*n < 200 || *n > 599)
      return judge.fail("response status must be between 200 and 599, got " + std::to_string(*n),
                        kAwsFailedValidation);
    out.status = *n;
  }
  if (auto d = r.find("statusDescription"); d != r.end() && !d->is_null()) {
    if (!d->is_string())
      return judge.fail("response statusDescription must be a string, got " +
                        std::string(type_phrase(*d)));
    const auto& text = d->get_ref<const std::string&>();
    if (size_t bad = find_invalid_value_char(text); bad != std::string::npos)
      return judge.fail("response statusDescription contains the invalid character " +
                        describe_byte(text[bad]));
    out.reason = text;
  }
  if (auto h = r.find("headers"); h != r.end()) {
    out.headers.emplace();
    if (auto f = read_headers(judge, *h, "headers", *out.headers)) return f;
  }
  std::string encoding = "text";
  if (auto e = r.find("bodyEncoding"); e != r.end() && !e->is_null()) {
    if (!e->is_string() || (*e != "text" && *e != "base64"))
      return judge.fail("response bodyEncoding must be \"text\" or \"base64\", got " + show(*e));
    encoding = e->get<std::string>();
  }
  if (auto b = r.find("body"); b != r.end() && !b->is_null()) {
    if (!b->is_string())
      return judge.fail("response body must be a string, got " + std::string(type_phrase(*b)) +
                            (b->is_object() ? " (JSON.stringify it first)" : ""),
                        kAwsBody);
    const auto& text = b->get_ref<const std::string&>();
    if (encoding == "base64") {
      auto decoded = is_strict_base64(text) ? base64_decode(text) : std::nullopt;
      if (!decoded)
        return judge.fail("response body is not valid base64 but bodyEncoding is \"base64\"",
                          kAwsBody);
      out.body = std::move(*decoded);
    } else {
      out.body = text;
    }
  }
  size_t size = (out.headers ? head_bytes(*out.headers) : 0) + (out.body ? out.body->size() : 0);
  if (size > size_limit)
    return judge.fail("the response is " + std::to_string(size) + " bytes (headers + body); " +
                          "the limit for " + judge.prefix.substr(0, judge.prefix.find(' ')) +
                          " is " + std::to_string(size_limit) + " bytes",
                      kAwsBody);
  return std::nullopt;
}

// Undefined, null, garbage, non-objects, the whole event: the mistakes that come before any
// field is read. hint: what the handler should have returned.
Fail judge_shape(const Judge& judge, const LambdaLimits& limits, std::string_view text,
                 detail::ParsedResult& parsed, std::string_view hint) {
  static constexpr detail::ShapeTexts kTexts{
      kAwsNotObject, kAwsNotParsable, kAwsBody,
      " (callback(null, value) or return it from an async handler)"};
  if (auto f =
          detail::judge_result_shape(judge, text, limits.max_result_bytes, parsed, hint, kTexts))
    return f;
  const Json& v = parsed.value;
  if (v.contains("Records"))
    return judge.fail("returned the whole event; " + std::string(hint) +
                      " (event.Records[0].cf.request or .response), not the event");
  if (v.contains("config") && (v.contains("request") || v.contains("response")))
    return judge.fail("returned event.Records[0].cf; " + std::string(hint) +
                      " (its request or response), not cf");
  return std::nullopt;
}

size_t find_uri_invalid_char(std::string_view s, bool is_query) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b <= 0x20 || b == 0x7f || (is_query && b == '#')) return i;
  }
  return std::string_view::npos;
}

Fail read_int_in(const Judge& judge, const Json& o, std::string_view where, const char* field,
                 long long lo, long long hi, int& out) {
  auto f = o.find(field);
  if (f == o.end()) return judge.fail(std::string(where) + "." + field + " is missing");
  if (!f->is_number_integer() && !(f->is_number_float() && detail::integer_value(*f)))
    return judge.fail(std::string(where) + "." + field + " must be a number, got " +
                      std::string(type_phrase(*f)) + " " + show(*f));
  long long n = *detail::integer_value(*f);
  if (n < lo || n > hi)
    return judge.fail(std::string(where) + "." + field + " must be between " + std::to_string(lo) +
                      " and " + std::to_string(hi) + ", got " + std::to_string(n));
  out = int(n);
  return std::nullopt;
}

Fail read_string(const Judge& judge, const Json& o, std::string_view where, const char* field,
                 std::string& out) {
  auto f = o.find(field);
  if (f == o.end()) return judge.fail(std::string(where) + "." + field + " is missing");
  if (!f->is_string())
    return judge.fail(std::string(where) + "." + field + " must be a string, got " +
                      std::string(type_phrase(*f)));
  out = f->get<std::string>();
  return std::nullopt;
}

Fail check_origin_path(const Judge& judge, std::string_view where, const std::string& path) {
  if (path.empty()) return std::nullopt;
  if (path.front() != '/' || path.back() == '/' || path.size() > 255)
    return judge.fail(std::string(where) +
                      ".path must be empty or start with '/', have no trailing '/' and be at most "
                      "255 characters, got " +
                      show(Json(path)));
  if (size_t bad = find_uri_invalid_char(path, true); bad != std::string::npos)
    return judge.fail(std::string(where) + ".path must be URL-encoded; it contains " +
                      describe_byte(path[bad]));
  return std::nullopt;
}

Fail read_custom_headers(const Judge& judge, const Json& o, const std::string& where,
                         const std::vector<http::Header>& request_headers,
                         std::vector<http::Header>& out) {
  auto f = o.find("customHeaders");
  if (f == o.end()) return judge.fail(where + ".customHeaders is missing (use {} for none)");
  if (auto fail = read_headers(judge, *f, where + ".customHeaders", out)) return fail;
  for (const auto& h : out)
    if (!values_of(request_headers, h.name).empty())
      return judge.fail(where + ".customHeaders." + to_lower(h.name) +
                        " duplicates the request header " + to_lower(h.name) +
                        "; a custom origin header may not also be a request header");
  return std::nullopt;
}

// request.origin of an origin-request result (§1.2): exactly one of custom / s3.
Fail read_origin(const Judge& judge, const LambdaLimits& limits, const LambdaCall& call,
                 const Json& o, const std::vector<http::Header>& request_headers, OriginInfo& out) {
  if (!o.is_object())
    return judge.fail("origin must be an object with `custom` or `s3`, got " +
                      std::string(type_phrase(o)));
  bool custom = o.contains("custom"), s3 = o.contains("s3");
  if (custom == s3)
    return judge.fail(std::string("origin must contain exactly one of `custom` or `s3`, got ") +
                          (custom ? "both" : "neither"),
                      kAwsFailedValidation);
  const std::string where = custom ? "origin.custom" : "origin.s3";
  const Json& d = custom ? o["custom"] : o["s3"];
  if (!d.is_object())
    return judge.fail(where + " must be an object, got " + std::string(type_phrase(d)));
  out = OriginInfo{};
  out.kind = custom ? OriginInfo::Kind::Custom : OriginInfo::Kind::S3;
  if (auto f = read_string(judge, d, where, "domainName", out.domain_name)) return f;
  const std::string& host = out.domain_name;
  size_t max_host = custom ? 253 : 128;
  if (host.empty() || host.size() > max_host)
    return judge.fail(where + ".domainName must be 1 to " + std::to_string(max_host) +
                      " characters, got " + std::to_string(host.size()));
  // An origin configured by address is shown with it; handing it back unchanged is fine.
  const bool as_shown = call.origin && call.origin->domain_name == host;
  if (is_ip_literal(host) && !as_shown)
    return judge.fail(where + ".domainName must be a DNS name, not an IP address (" + host + ")");
  if (host.find(':') != std::string::npos)
    return judge.fail(where + ".domainName must not contain ':' (put the port in `port`), got " +
                      show(Json(host)));
  if (!is_dns_name(host) && !as_shown)
    return judge.fail(where + ".domainName is not a valid DNS name: " + show(Json(host)));
  if (auto f = read_string(judge, d, where, "path", out.path)) return f;
  if (auto f = check_origin_path(judge, where, out.path)) return f;
  if (auto f = read_custom_headers(judge, d, where, request_headers, out.custom_headers)) return f;

  if (custom) {
    int port = 0;
    if (auto f = read_int_in(judge, d, where, "port", 1, 65535, port)) return f;
    if (port != 80 && port != 443 && port < 1024)
      return judge.fail(where + ".port must be 80, 443 or 1024-65535, got " + std::to_string(port));
    out.port = uint16_t(port);
    if (auto f = read_string(judge, d, where, "protocol", out.protocol)) return f;
    if (out.protocol != "http" && out.protocol != "https")
      return judge.fail(where + ".protocol must be \"http\" or \"https\", got " +
                        show(Json(out.protocol)));
    if (auto f = read_int_in(judge, d, where, "readTimeout", 4, limits.max_origin_timeout_s,
                             out.read_timeout_s))
      return f;
    if (auto f = read_int_in(judge, d, where, "keepaliveTimeout", 1, limits.max_origin_timeout_s,
                             out.keepalive_timeout_s))
      return f;
    auto p = d.find("sslProtocols");
    if (p == d.end()) return judge.fail(where + ".sslProtocols is missing");
    if (!p->is_array() || p->empty())
      return judge.fail(where +
                        ".sslProtocols must be a non-empty array of \"TLSv1.2\", \"TLSv1.1\", "
                        "\"TLSv1\", \"SSLv3\", got " +
                        show(*p));
    out.ssl_protocols.clear();
    for (const auto& v : *p) {
      if (!v.is_string() || (v != "TLSv1.2" && v != "TLSv1.1" && v != "TLSv1" && v != "SSLv3"))
        return judge.fail(where + ".sslProtocols has " + show(v) +
                          "; allowed: \"TLSv1.2\", \"TLSv1.1\", \"TLSv1\", \"SSLv3\"");
      out.ssl_protocols.push_back(v.get<std::string>());
    }
  } else {
    if (auto f = read_string(judge, d, where, "authMethod", out.auth_method)) return f;
    if (out.auth_method != "none" && out.auth_method != "origin-access-identity")
      return judge.fail(where + ".authMethod must be \"origin-access-identity\" or \"none\", got " +
                        show(Json(out.auth_method)));
    if (!is_lowercase(host))
      return judge.fail(where + ".domainName must be lowercase (an S3 bucket's domain name), got " +
                        show(Json(host)));
    if (auto f = read_string(judge, d, where, "region", out.region)) return f;
    if (out.auth_method == "origin-access-identity") {
      if (out.region.empty())
        return judge.fail(where +
                          ".region is required when authMethod is "
                          "\"origin-access-identity\"");
      if (call.origin && call.origin->kind == OriginInfo::Kind::Custom)
        return judge.fail(where +
                          ": an origin access identity cannot be used when switching from a "
                          "custom origin to S3 (use authMethod \"none\" or sign the request)");
    }
  }
  return std::nullopt;
}

// include-body: body.action "replace" with text or base64 data; inputTruncated is read-only.
Fail read_body(const Judge& judge, const LambdaLimits& limits, const LambdaCall& call,
               const Json& b, const http::Request& req, http::Request& next) {
  if (!b.is_object())
    return judge.fail(
        "body must be an object {action, encoding, data}, got " + std::string(type_phrase(b)),
        kAwsBody);
  size_t limit = is_viewer_event(call.event) ? limits.viewer_body_bytes : limits.origin_body_bytes;
  if (auto t = b.find("inputTruncated"); t != b.end() && call.include_body) {
    bool was = req.body.size() > limit;
    if (!t->is_boolean() || t->get<bool>() != was)
      return judge.fail("body.inputTruncated is read-only (it was " +
                            std::string(was ? "true" : "false") + ", the function returned " +
                            show(*t) + ")",
                        kAwsBody);
  }
  std::string action = "read-only";
  if (auto a = b.find("action"); a != b.end()) {
    if (!a->is_string() || (*a != "read-only" && *a != "replace"))
      return judge.fail("body.action must be \"read-only\" or \"replace\", got " + show(*a),
                        kAwsBody);
    action = a->get<std::string>();
  }
  if (action == "read-only") return std::nullopt;
  if (!call.include_body)
    return judge.fail(
        "body.action is \"replace\" but this trigger does not include the body; set "
        "include_body: true on the function",
        kAwsBody);
  std::string encoding = "base64";
  if (auto e = b.find("encoding"); e != b.end()) {
    if (!e->is_string() || (*e != "base64" && *e != "text"))
      return judge.fail("body.encoding must be \"base64\" or \"text\", got " + show(*e), kAwsBody);
    encoding = e->get<std::string>();
  }
  auto d = b.find("data");
  if (d == b.end() || !d->is_string())
    return judge.fail("body.data must be a string when body.action is \"replace\", got " +
                          std::string(d == b.end() ? "nothing" : type_phrase(*d)),
                      kAwsBody);
  const auto& data = d->get_ref<const std::string&>();
  if (encoding == "base64") {
    auto decoded = is_strict_base64(data) ? base64_decode(data) : std::nullopt;
    if (!decoded)
      return judge.fail("body.data is not valid base64 but body.encoding is \"base64\"", kAwsBody);
    next.body = std::move(*decoded);
  } else {
    next.body = data;
  }
  if (next.body.size() > limit)
    return judge.fail("body.data is " + std::to_string(next.body.size()) +
                          " bytes; a replacement body in " + std::string(to_string(call.event)) +
                          " is limited to " + std::to_string(limit) + " bytes",
                      kAwsBody);
  next.framing = http::BodyFraming::ContentLength;
  return std::nullopt;
}

// uri, querystring, method, body and origin of a returned request, into next / result.
Fail read_request_fields(const Judge& judge, const LambdaLimits& limits, const LambdaCall& call,
                         const Json& r, const http::Request& req,
                         const std::vector<http::Header>& headers, RequestResult& result,
                         http::Request& next) {
  const Json& uri = r["uri"];
  if (!uri.is_string())
    return judge.fail("uri must be a string, got " + std::string(type_phrase(uri)));
  next.path = uri.get<std::string>();
  if (next.path.empty() || next.path.front() != '/')
    return judge.fail("uri must start with '/', got " + show(uri), kAwsFailedValidation);
  if (size_t bad = find_uri_invalid_char(next.path, false); bad != std::string::npos)
    return judge.fail("uri contains the invalid character " + describe_byte(next.path[bad]) +
                      " at offset " + std::to_string(bad) + "; percent-encode it");
  next.query = req.query;
  if (auto q = r.find("querystring"); q != r.end()) {
    if (!q->is_string())
      return judge.fail("querystring must be a string (the raw query without '?'), got " +
                        std::string(type_phrase(*q)) +
                        (q->is_object() ? "; an object querystring is the CloudFront Functions "
                                          "shape"
                                        : ""));
    next.query = q->get<std::string>();
    if (size_t bad = find_uri_invalid_char(next.query, true); bad != std::string::npos)
      return judge.fail("querystring contains " + describe_byte(next.query[bad]) + " at offset " +
                            std::to_string(bad) +
                            "; spaces, control characters and '#' must be percent-encoded",
                        kAwsFailedValidation);
  }
  if (next.path.size() + next.query.size() >= limits.max_uri_and_query)
    return judge.fail(
        "uri + querystring are " + std::to_string(next.path.size() + next.query.size()) +
            " characters; they must be under " + std::to_string(limits.max_uri_and_query),
        kAwsFailedValidation);
  if (auto m = r.find("method"); m != r.end() && !(m->is_string() && *m == req.method))
    return judge.fail("method is read-only (the request was " + req.method +
                      ", the function returned " + show(*m) + ")");
  if (auto b = r.find("body"); b != r.end() && !b->is_null())
    if (auto f = read_body(judge, limits, call, *b, req, next)) return f;
  if (auto o = r.find("origin"); o != r.end() && !o->is_null()) {
    if (call.event != EventType::OriginRequest) {
      // The origin is echoed in origin-response requests; only origin-request may change it.
      if (call.event == EventType::ViewerRequest)
        return judge.fail("request.origin can only be set by an origin-request function");
    } else {
      OriginInfo origin;
      if (auto f = read_origin(judge, limits, call, *o, headers, origin)) return f;
      if (!call.origin || !same_origin(origin, *call.origin)) result.origin = std::move(origin);
    }
  }
  return std::nullopt;
}

Judge judge_for(const LambdaCall& call) {
  return Judge{std::string(to_string(call.event)) + " function " + std::string(call.function_name)};
}

}  // namespace

RequestResult apply_lambda_request_result(const LambdaLimits& limits, const LambdaCall& call,
                                          std::string_view result_json, http::Request& req) {
  RequestResult result;
  Judge judge = judge_for(call);
  detail::ParsedResult parsed;
  if ((result.failure = judge_shape(judge, limits, result_json, parsed,
                                    "return the request, or a response object with `status`")))
    return result;
  const Json& r = parsed.value;
  auto failed = [&](Failure f) {
    result.failure = std::move(f);
    return std::move(result);
  };

  if (r.contains("status") || r.contains("statusCode")) {
    if (!r.contains("status"))
      return failed(
          judge.fail("returned a response with `statusCode`; a Lambda@Edge response uses `status` "
                     "(CloudFront Functions use `statusCode`)"));
    ResponseParts parts;
    size_t limit =
        is_viewer_event(call.event) ? limits.viewer_response_bytes : limits.origin_response_bytes;
    if ((result.failure = read_response(judge, r, limit, parts))) return result;
    if (call.event == EventType::ViewerRequest && *parts.status == 204 && parts.body &&
        !parts.body->empty())
      return failed(
          judge.fail("returned a 204 response with a body; a viewer-request response with status "
                     "204 may not have one",
                     kAwsFailedValidation));
    http::Response answer;
    answer.status = int(*parts.status);
    if (parts.reason) answer.reason = *parts.reason;
    if (parts.headers) answer.headers.list() = std::move(*parts.headers);
    detail::set_response_body(answer, parts.body ? std::move(*parts.body) : std::string());
    result.answer = std::move(answer);
    return result;
  }
  if (!r.contains("uri")) {
    if (r.contains("headers") && (r.contains("body") || r.contains("bodyEncoding")))
      return failed(
          judge.fail("returned a response without `status`; a generated response needs "
                     "status (200-599)",
                     kAwsFailedValidation));
    return failed(
        judge.fail("returned an object that is neither a request (it has no `uri`) nor a response "
                   "(it has no `status`): " +
                       show(r),
                   kAwsFailedValidation));
  }

  auto h = r.find("headers");
  if (h == r.end())
    return failed(
        judge.fail("the returned request has no `headers` object; return "
                   "the event's request with its headers"));
  std::vector<http::Header> headers;
  if ((result.failure = read_headers(judge, *h, "headers", headers))) return result;
  if ((result.failure = check_read_only(judge, call.event, visible(req.headers.list()), headers)))
    return result;

  http::Request next;
  if ((result.failure = read_request_fields(judge, limits, call, r, req, headers, result, next)))
    return result;
  // Commit: nothing below can fail.
  req.headers.list() = with_hidden(std::move(headers), req.headers.list());
  req.path = std::move(next.path);
  req.query = std::move(next.query);
  req.has_query = !req.query.empty();
  req.target = req.has_query ? req.path + "?" + req.query : req.path;
  if (next.framing == http::BodyFraming::ContentLength) {
    req.body = std::move(next.body);
    req.framing = http::BodyFraming::ContentLength;
    req.content_length = req.body.size();
    req.headers.remove("transfer-encoding");
    req.headers.set("Content-Length", std::to_string(req.body.size()));
  }
  return result;
}

ResponseResult apply_lambda_response_result(const LambdaLimits& limits, const LambdaCall& call,
                                            std::string_view result_json, const http::Request& req,
                                            http::Response& resp) {
  ResponseResult result;
  Judge judge = judge_for(call);
  detail::ParsedResult parsed;
  if ((result.failure = judge_shape(judge, limits, result_json, parsed, "return the response")))
    return result;
  const Json& r = parsed.value;
  if (!r.contains("status")) {
    if (r.contains("statusCode"))
      result.failure = judge.fail(
          "returned a response with `statusCode`; a Lambda@Edge response uses `status` "
          "(CloudFront Functions use `statusCode`)");
    else if (r.contains("uri") || r.contains("method"))
      result.failure = judge.fail("returned the request; a " + std::string(to_string(call.event)) +
                                  " function returns the response (event.Records[0].cf.response)");
    else
      result.failure = judge.fail("returned a response without `status`", kAwsFailedValidation);
    return result;
  }
  if (!r.contains("headers")) {
    result.failure = judge.fail(
        "the returned response has no `headers` object; return the "
        "event's response with its headers");
    return result;
  }
  ResponseParts parts;
  size_t limit =
      is_viewer_event(call.event) ? limits.viewer_response_bytes : limits.origin_response_bytes;
  if ((result.failure = read_response(judge, r, limit, parts))) return result;
  if (call.event == EventType::ViewerResponse && *parts.status != resp.status) {
    result.failure = judge.fail("changed the status from " + std::to_string(resp.status) + " to " +
                                    std::to_string(*parts.status) +
                                    "; viewer-response functions cannot change the status",
                                kAwsFailedValidation);
    return result;
  }
  if ((result.failure =
           check_read_only(judge, call.event, visible(resp.headers.list()), *parts.headers)))
    return result;
  // Commit.
  resp.status = int(*parts.status);
  if (parts.reason) resp.reason = *parts.reason;
  resp.headers.list() = with_hidden(std::move(*parts.headers), resp.headers.list());
  if (parts.body) {
    detail::set_response_body(resp, std::move(*parts.body));
    result.body_replaced = true;
  }
  return result;
}

}  // namespace eg::functions
