// CloudFront Functions result validation (aws-formats §2.1–2.3). Like lambda_result.cc:
// read everything into locals, write to the message only when the whole result is valid.
#include <algorithm>
#include <charconv>

#include "core/base64.h"
#include "core/strings.h"
#include "functions/cff_event.h"
#include "functions/cff_model.h"
#include "functions/cff_record.h"
#include "functions/headers_rules.h"
#include "functions/result_json.h"

namespace eg::functions {

namespace {

using detail::CffEntry;
using detail::CffMap;
using detail::Json;
using detail::Judge;
using detail::show;
using detail::type_phrase;
using Fail = std::optional<Failure>;

// The result type CloudFront logs for an invalid function result (x-edge-detailed-result-type).
constexpr std::string_view kCffValidation = "FunctionValidationError";

enum class MapKind : uint8_t { Query, Headers, RequestCookies, ResponseCookies };

std::string_view map_name(MapKind k) {
  switch (k) {
    case MapKind::Query:
      return "querystring";
    case MapKind::Headers:
      return "headers";
    default:
      return "cookies";
  }
}

// What a value (and a cookie's attributes) may hold; query values are encoded on the way out.
Fail check_entry_text(const Judge& judge, const std::string& at, MapKind kind, const CffEntry& e) {
  if (kind == MapKind::Query) return std::nullopt;
  bool cookie = kind == MapKind::RequestCookies || kind == MapKind::ResponseCookies;
  for (const std::string* text : {&e.value, e.attributes ? &*e.attributes : nullptr}) {
    if (!text) continue;
    size_t bad = find_invalid_value_char(*text);
    if (bad == std::string::npos && cookie && text == &e.value) bad = text->find(';');
    if (bad != std::string::npos)
      return judge.fail(at + (text == &e.value ? ".value" : ".attributes") +
                            " contains the invalid character " + describe_byte((*text)[bad]),
                        kCffValidation);
  }
  return std::nullopt;
}

Fail read_entry(const Judge& judge, const Json& e, const std::string& at, MapKind kind,
                CffEntry& out) {
  if (!e.is_object())
    return judge.fail(at + " must be an object {value: '...'}, got " + std::string(type_phrase(e)),
                      kCffValidation);
  auto v = e.find("value");
  if (v == e.end() || !v->is_string())
    return judge.fail(at + ".value must be a string, got " +
                          std::string(v == e.end() ? "nothing" : type_phrase(*v)),
                      kCffValidation);
  out.value = v->get<std::string>();
  out.attributes.reset();
  if (kind == MapKind::ResponseCookies) {
    if (auto a = e.find("attributes"); a != e.end() && !a->is_null()) {
      if (!a->is_string())
        return judge.fail(at + ".attributes must be a string, got " + std::string(type_phrase(*a)),
                          kCffValidation);
      if (!a->get_ref<const std::string&>().empty()) out.attributes = a->get<std::string>();
    }
  }
  return check_entry_text(judge, at, kind, out);
}

// What a key of a map may be.
Fail check_name(const Judge& judge, MapKind kind, const std::string& name) {
  std::string where(map_name(kind));
  if (kind != MapKind::Query && !is_token(name))
    return judge.fail(where + " has the key " + show(Json(name)) + ", which is not a valid " +
                          (kind == MapKind::Headers ? "header" : "cookie") + " name",
                      kCffValidation);
  if (kind == MapKind::Headers) {
    auto at = [&] { return where + "." + name; };
    if (!is_lowercase(name))
      return judge.fail(where + " has the key '" + name +
                            "': header names must be lowercase keys (write headers['" +
                            to_lower(name) + "'] = {value: '...'})",
                        kCffValidation);
    if (is_disallowed_header(name))
      return judge.fail(at() + ": " + title_case_header(name) +
                            " is a disallowed header; edge functions may not add it",
                        kCffValidation);
    if (name == "cookie" || name == "set-cookie")
      return judge.fail(at() + ": set cookies through `cookies`, not headers['" + name + "']",
                        kCffValidation);
  }
  return std::nullopt;
}

// One map of the result under the edit rule (§2.1): a multiValue that differs from what the
// function was shown wins; otherwise `value` replaces the first occurrence.
Fail read_map(const Judge& judge, const Json& j, MapKind kind, const CffMap& before, CffMap& out) {
  std::string where(map_name(kind));
  if (!j.is_object()) {
    std::string detail = where + " must be an object mapping names to {value} objects, got " +
                         std::string(type_phrase(j));
    if (kind == MapKind::Query && j.is_string())
      detail += "; a string querystring is the Lambda@Edge shape";
    return judge.fail(detail, kCffValidation);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const Json& e = it.value();
    std::string at = where + "." + name;
    if (auto f = check_name(judge, kind, name)) return f;
    if (e.is_string())
      return judge.fail(at + " must be an object {value: '...'}, got a string (write " + where +
                            "['" + name + "'] = {value: " + show(e) + "})",
                        kCffValidation);
    if (e.is_array())
      return judge.fail(at + " must be an object {value: '...'}, got an array" +
                            (kind == MapKind::Headers
                                 ? std::string("; an array of {key, value} is the Lambda@Edge "
                                               "shape")
                                 : std::string()),
                        kCffValidation);
    if (!e.is_object())
      return judge.fail(
          at + " must be an object {value: '...'}, got " + std::string(type_phrase(e)),
          kCffValidation);
    std::vector<CffEntry> entries;
    auto mv = e.find("multiValue");
    std::optional<CffEntry> single;
    bool has_multi = mv != e.end() && !mv->is_null();
    if (e.contains("value") || !has_multi) {
      single.emplace();
      if (auto f = read_entry(judge, e, at, kind, *single)) return f;
    }
    const std::vector<CffEntry>* was = detail::find_entries(before, name);
    if (has_multi) {
      if (!mv->is_array())
        return judge.fail(at + ".multiValue must be an array of {value} objects, got " +
                              std::string(type_phrase(*mv)),
                          kCffValidation);
      for (size_t i = 0; i < mv->size(); ++i) {
        CffEntry x;
        if (auto f =
                read_entry(judge, (*mv)[i], at + ".multiValue[" + std::to_string(i) + "]", kind, x))
          return f;
        entries.push_back(std::move(x));
      }
      bool unchanged = was && was->size() > 1 && *was == entries;
      if (unchanged && single) {
        entries = *was;
        entries[0] = *single;
      }
    } else {
      entries.push_back(std::move(*single));
    }
    out.emplace_back(name, std::move(entries));
  }
  return std::nullopt;
}

// Bytes a query name or value cannot hold raw are percent-encoded rather than refused:
// a function sets `value` as text and CloudFront forwards a valid query.
void append_query_part(std::string& out, std::string_view s, bool is_name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f || c == '#' || c == '&' || (is_name && c == '=')) {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    } else {
      out += c;
    }
  }
}

std::string query_string(const CffMap& m) {
  std::string q;
  for (const auto& [name, entries] : m)
    for (const auto& e : entries) {
      if (!q.empty()) q += '&';
      append_query_part(q, name, true);
      if (!e.value.empty()) {
        q += '=';
        append_query_part(q, e.value, false);
      }
    }
  return q;
}

// Header lines keep the spelling they arrived with (line by line); new names are
// title-cased as CloudFront does.
std::vector<http::Header> wire_headers(const CffMap& m, const std::vector<http::Header>& before) {
  std::vector<http::Header> out;
  for (const auto& [name, entries] : m) {
    std::vector<const std::string*> spellings;
    for (const auto& h : before)
      if (iequals(h.name, name)) spellings.push_back(&h.name);
    std::string title = spellings.empty() ? title_case_header(name) : std::string();
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string& spelling =
          spellings.empty() ? title : *spellings[std::min(i, spellings.size() - 1)];
      out.push_back({spelling, entries[i].value});
    }
  }
  return out;
}

std::vector<http::Header> visible(const std::vector<http::Header>& h) {
  std::vector<http::Header> out;
  for (const auto& x : h)
    if (!is_disallowed_header(x.name) && !iequals(x.name, "cookie") &&
        !iequals(x.name, "set-cookie"))
      out.push_back(x);
  return out;
}

// Hidden from the function (disallowed), so kept as they were.
void keep_hidden(std::vector<http::Header>& out, const std::vector<http::Header>& before) {
  for (const auto& x : before)
    if (is_disallowed_header(x.name)) out.push_back(x);
}

Fail judge_shape(const Judge& judge, const CffLimits& limits, std::string_view text,
                 detail::ParsedResult& parsed, std::string_view hint) {
  static constexpr detail::ShapeTexts kTexts{kCffValidation, kCffValidation, kCffValidation, ""};
  if (auto f =
          detail::judge_result_shape(judge, text, limits.max_result_bytes, parsed, hint, kTexts))
    return f;
  const Json& v = parsed.value;
  if (v.contains("Records"))
    return judge.fail("returned a Lambda@Edge event; " + std::string(hint), kCffValidation);
  if (v.contains("context") && (v.contains("request") || v.contains("response")))
    return judge.fail("returned the whole event; " + std::string(hint) + ", not the event",
                      kCffValidation);
  return std::nullopt;
}

struct ResponseParts {
  int status = 200;
  std::optional<std::string> reason;
  std::optional<std::vector<http::Header>> headers;  // headers then Set-Cookie lines
  std::optional<std::string> body;
};

// statusCode, statusDescription, headers, cookies, body of a returned response. before: the
// response the function was shown (viewer-response), or nullptr for a generated one.
Fail read_response(const Judge& judge, const CffLimits& limits, const Json& r,
                   const http::Response* before, ResponseParts& out) {
  const Json& s = r["statusCode"];
  if (!s.is_number() || !detail::integer_value(s))
    return judge.fail(
        "statusCode must be an integer number, got " + std::string(type_phrase(s)) + " " + show(s),
        kCffValidation);
  long long status = *detail::integer_value(s);
  if (status < 200 || status > 599)
    return judge.fail("statusCode must be between 200 and 599, got " + std::to_string(status),
                      kCffValidation);
  out.status = int(status);
  if (auto d = r.find("statusDescription"); d != r.end() && !d->is_null()) {
    if (!d->is_string() ||
        find_invalid_value_char(d->get_ref<const std::string&>()) != std::string::npos)
      return judge.fail(
          "statusDescription must be a string without control characters, got " + show(*d),
          kCffValidation);
    out.reason = d->get<std::string>();
  }
  const std::vector<http::Header> empty;
  const auto& before_headers = before ? before->headers.list() : empty;
  CffMap headers, cookies;
  auto h = r.find("headers");
  if (h == r.end() && before)
    return judge.fail("the returned response has no `headers` object; return event.response",
                      kCffValidation);
  if (h != r.end())
    if (auto f =
            read_map(judge, *h, MapKind::Headers, detail::cff_headers(before_headers), headers))
      return f;
  auto c = r.find("cookies");
  if (c != r.end())
    if (auto f = read_map(judge, *c, MapKind::ResponseCookies,
                          detail::cff_response_cookies(before_headers), cookies))
      return f;
  std::vector<http::Header> wire = wire_headers(headers, before_headers);
  if (before)
    if (auto v = read_only_violation(EventType::ViewerResponse, visible(before_headers), wire))
      return judge.fail(v->detail, kCffValidation);
  if (c != r.end()) {
    for (const auto& [name, entries] : cookies)
      for (const auto& e : entries)
        wire.push_back({"Set-Cookie", name + "=" + e.value +
                                          (e.attributes ? "; " + *e.attributes : std::string())});
  } else {
    for (const auto& x : before_headers)
      if (iequals(x.name, "set-cookie")) wire.push_back(x);
  }
  if (before || h != r.end() || c != r.end()) out.headers = std::move(wire);

  if (auto b = r.find("body"); b != r.end() && !b->is_null()) {
    if (b->is_string()) {
      out.body = b->get<std::string>();
    } else if (b->is_object()) {
      std::string encoding = "text";
      if (auto e = b->find("encoding"); e != b->end()) {
        if (!e->is_string() || (*e != "text" && *e != "base64"))
          return judge.fail("body.encoding must be \"text\" or \"base64\", got " + show(*e),
                            kCffValidation);
        encoding = e->get<std::string>();
      }
      auto d = b->find("data");
      if (d == b->end() || !d->is_string())
        return judge.fail("body.data must be a string, got " +
                              std::string(d == b->end() ? "nothing" : type_phrase(*d)),
                          kCffValidation);
      const auto& data = d->get_ref<const std::string&>();
      if (encoding == "base64") {
        auto decoded = is_strict_base64(data) ? base64_decode(data) : std::nullopt;
        if (!decoded)
          return judge.fail("body.data is not valid base64 but body.encoding is \"base64\"",
                            kCffValidation);
        out.body = std::move(*decoded);
      } else {
        out.body = data;
      }
    } else {
      return judge.fail(
          "body must be a string or {data, encoding}, got " + std::string(type_phrase(*b)),
          kCffValidation);
    }
  }
  size_t size = out.body ? out.body->size() : 0;
  if (out.headers)
    for (const auto& x : *out.headers) size += x.name.size() + x.value.size() + 4;
  if (size > limits.response_bytes)
    return judge.fail("the response is " + std::to_string(size) +
                          " bytes (headers + body); the limit is " +
                          std::to_string(limits.response_bytes) + " bytes",
                      kCffValidation);
  return std::nullopt;
}

Judge judge_for(const CffCall& call) {
  return Judge{std::string(to_string(call.event)) + " CloudFront Function " +
               std::string(call.function_name)};
}

// The returned uri: starts with '/', no spaces or controls.
Fail check_path(const Judge& judge, const std::string& path) {
  if (path.empty() || path.front() != '/')
    return judge.fail("uri must start with '/', got " + show(Json(path)), kCffValidation);
  for (size_t i = 0; i < path.size(); ++i)
    if (static_cast<unsigned char>(path[i]) <= 0x20 || path[i] == 0x7f)
      return judge.fail("uri contains the invalid character " + describe_byte(path[i]) +
                            " at offset " + std::to_string(i) + "; percent-encode it",
                        kCffValidation);
  return std::nullopt;
}

Failure method_changed(const Judge& judge, const http::Request& req, const Json& method) {
  return judge.fail("method is read-only (the request was " + req.method +
                        ", the function returned " + show(method) + ")",
                    kCffValidation);
}

Fail check_length(const Judge& judge, const CffLimits& limits, const std::string& path,
                  const std::string& query) {
  if (path.size() + query.size() < limits.max_uri_and_query) return std::nullopt;
  return judge.fail("uri + querystring are " + std::to_string(path.size() + query.size()) +
                        " characters; they must be under " +
                        std::to_string(limits.max_uri_and_query),
                    kCffValidation);
}

// The last checks of a returned request (read-only headers, then the cookies: read_cookies
// fills *cookies, or cookies is nullptr when the result has none and the Cookie header stays),
// then the commit: req changes only here, and only when everything was valid.
template <typename ReadCookies>
Fail commit_request(const Judge& judge, EventType event, std::string path, std::string query,
                    const CffMap& headers, ReadCookies&& read_cookies, const CffMap* cookies,
                    http::Request& req) {
  const auto& before = req.headers.list();
  std::vector<http::Header> wire = wire_headers(headers, before);
  if (auto v = read_only_violation(event, visible(before), wire))
    return judge.fail(v->detail, kCffValidation);
  if (auto f = read_cookies()) return f;
  if (cookies) {
    std::string line;
    for (const auto& [name, entries] : *cookies)
      for (const auto& e : entries) {
        if (!line.empty()) line += "; ";
        line += name + "=" + e.value;
      }
    if (!line.empty()) wire.push_back({"Cookie", std::move(line)});
  } else {
    for (const auto& x : before)
      if (iequals(x.name, "cookie")) wire.push_back(x);
  }
  keep_hidden(wire, before);
  req.headers.list() = std::move(wire);
  req.path = std::move(path);
  req.query = std::move(query);
  req.has_query = !req.query.empty();
  req.target = req.has_query ? req.path + "?" + req.query : req.path;
  return std::nullopt;
}

std::string status_mistake() {
  return "returned a response with `status`; CloudFront Functions use `statusCode` "
         "(Lambda@Edge uses `status`)";
}

}  // namespace

RequestResult apply_cff_request_result(const CffLimits& limits, const CffCall& call,
                                       std::string_view result_json, http::Request& req) {
  RequestResult result;
  auto failed = [&](Failure f) {
    result.failure = std::move(f);
    return std::move(result);
  };
  Judge judge = judge_for(call);
  detail::ParsedResult parsed;
  if (auto f = judge_shape(judge, limits, result_json, parsed,
                           "return event.request, or a response object with statusCode"))
    return failed(std::move(*f));
  const Json& r = parsed.value;

  if (r.contains("statusCode")) {
    ResponseParts parts;
    if (auto f = read_response(judge, limits, r, nullptr, parts)) return failed(std::move(*f));
    http::Response answer;
    answer.status = parts.status;
    if (parts.reason) answer.reason = *parts.reason;
    if (parts.headers) answer.headers.list() = std::move(*parts.headers);
    detail::set_response_body(answer, parts.body ? std::move(*parts.body) : std::string());
    result.answer = std::move(answer);
    return result;
  }
  if (r.contains("status")) return failed(judge.fail(status_mistake(), kCffValidation));
  auto uri = r.find("uri");
  if (uri == r.end())
    return failed(
        judge.fail("returned an object that is neither a request (it has no `uri`) "
                   "nor a response (it has no `statusCode`): " +
                       show(r),
                   kCffValidation));
  if (!uri->is_string())
    return failed(
        judge.fail("uri must be a string, got " + std::string(type_phrase(*uri)), kCffValidation));
  std::string path = uri->get<std::string>();
  if (auto f = check_path(judge, path)) return failed(std::move(*f));
  if (auto m = r.find("method"); m != r.end() && !(m->is_string() && *m == req.method))
    return failed(method_changed(judge, req, *m));

  const auto& before = req.headers.list();
  std::string query = req.query;
  if (auto q = r.find("querystring"); q != r.end()) {
    CffMap m;
    if (auto f = read_map(judge, *q, MapKind::Query, detail::cff_query(req.query), m))
      return failed(std::move(*f));
    query = query_string(m);
  }
  if (auto f = check_length(judge, limits, path, query)) return failed(std::move(*f));
  auto h = r.find("headers");
  if (h == r.end())
    return failed(judge.fail("the returned request has no `headers` object; return event.request",
                             kCffValidation));
  CffMap headers;
  if (auto f = read_map(judge, *h, MapKind::Headers, detail::cff_headers(before), headers))
    return failed(std::move(*f));
  CffMap cookies;
  auto c = r.find("cookies");
  if (auto f = commit_request(
          judge, call.event, std::move(path), std::move(query), headers,
          [&]() -> Fail {
            if (c == r.end()) return std::nullopt;
            return read_map(judge, *c, MapKind::RequestCookies, detail::cff_request_cookies(before),
                            cookies);
          },
          c == r.end() ? nullptr : &cookies, req))
    return failed(std::move(*f));
  return result;
}

namespace {

// A result record's fields (cff_record.h), read strictly: the runtime's own JavaScript wrote
// it, so anything malformed is a fault of the runtime, not of the function.
class RecordReader {
 public:
  explicit RecordReader(std::string_view text) : rest_(text) {}
  std::string_view field() {
    size_t end = rest_.find('\0');
    if (end == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string_view f = rest_.substr(0, end);
    rest_.remove_prefix(end + 1);
    return f;
  }
  size_t count() {
    std::string_view f = field();
    size_t n = 0;
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), n);
    if (ec != std::errc() || end != f.data() + f.size() || f.empty()) ok_ = false;
    return ok_ ? n : 0;
  }
  // A name with several values is a map the function did not read, as it was shown: each value
  // is kept, as the JSON way's edit rule keeps an untouched multiValue.
  void map(CffMap& out, std::string_view shown) {
    if (rest_.starts_with(std::string_view("=\0", 2))) {
      rest_.remove_prefix(2);
      RecordReader original(shown);
      original.map(out, {});
      ok_ = ok_ && original.ok();
      return;
    }
    size_t names = count();
    if (names > rest_.size()) ok_ = false;  // each name takes at least three bytes
    for (size_t i = 0; ok_ && i < names; ++i) {
      std::string name(field());
      size_t values = count();
      if (values == 0 || values > rest_.size()) ok_ = false;
      std::vector<CffEntry> entries;
      for (size_t k = 0; ok_ && k < values; ++k) entries.push_back({std::string(field()), {}});
      if (ok_) out.emplace_back(std::move(name), std::move(entries));
    }
  }
  bool ok() const { return ok_ && rest_.empty(); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

Fail check_map_texts(const Judge& judge, MapKind kind, const CffMap& m) {
  const bool cookie = kind == MapKind::RequestCookies;
  for (const auto& [name, entries] : m) {
    if (auto f = check_name(judge, kind, name)) return f;
    for (const auto& e : entries) {
      if (find_invalid_value_char(e.value) == std::string::npos &&
          !(cookie && e.value.find(';') != std::string::npos))
        continue;  // the usual case: no message to build
      return check_entry_text(judge, std::string(map_name(kind)) + "." + name, kind, e);
    }
  }
  return std::nullopt;
}

}  // namespace

RequestResult apply_cff_request_record(const CffLimits& limits, const CffCall& call,
                                       const CffRequestRecord& shown, std::string_view record,
                                       http::Request& req) {
  RequestResult result;
  auto failed = [&](Failure f) {
    result.failure = std::move(f);
    return std::move(result);
  };
  Judge judge = judge_for(call);
  if (record.size() > limits.max_result_bytes)
    return failed(judge.fail("returned a request of " + std::to_string(record.size()) +
                                 " bytes; the limit is " + std::to_string(limits.max_result_bytes),
                             kCffValidation));
  RecordReader reader(record);
  std::string_view method = reader.field();
  std::string path(reader.field());
  CffMap query, headers, cookies;
  const CffRecordParts parts = shown.parts();
  reader.map(query, parts.query);
  reader.map(headers, parts.headers);
  reader.map(cookies, parts.cookies);
  if (!reader.ok())
    return failed(Failure{502, judge.prefix + ": internal error: the runtime returned a malformed "
                                              "request record"});
  if (auto f = check_path(judge, path)) return failed(std::move(*f));
  if (method != req.method) return failed(method_changed(judge, req, Json(std::string(method))));
  std::string query_text = query_string(query);
  if (auto f = check_length(judge, limits, path, query_text)) return failed(std::move(*f));
  if (auto f = check_map_texts(judge, MapKind::Headers, headers)) return failed(std::move(*f));
  if (auto f = commit_request(
          judge, call.event, std::move(path), std::move(query_text), headers,
          [&] { return check_map_texts(judge, MapKind::RequestCookies, cookies); }, &cookies, req))
    return failed(std::move(*f));
  return result;
}

ResponseResult apply_cff_response_result(const CffLimits& limits, const CffCall& call,
                                         std::string_view result_json, const http::Request& req,
                                         http::Response& resp) {
  ResponseResult result;
  Judge judge = judge_for(call);
  detail::ParsedResult parsed;
  if ((result.failure = judge_shape(judge, limits, result_json, parsed, "return event.response")))
    return result;
  const Json& r = parsed.value;
  if (!r.contains("statusCode")) {
    if (r.contains("status"))
      result.failure = judge.fail(status_mistake(), kCffValidation);
    else if (r.contains("uri") || r.contains("method"))
      result.failure =
          judge.fail("returned the request; a viewer-response function returns event.response",
                     kCffValidation);
    else
      result.failure = judge.fail("returned a response without `statusCode`", kCffValidation);
    return result;
  }
  ResponseParts parts;
  if ((result.failure = read_response(judge, limits, r, &resp, parts))) return result;
  // Commit.
  resp.status = parts.status;
  if (parts.reason) resp.reason = *parts.reason;
  keep_hidden(*parts.headers, resp.headers.list());
  resp.headers.list() = std::move(*parts.headers);
  if (parts.body) {
    detail::set_response_body(resp, std::move(*parts.body));
    result.body_replaced = true;
  }
  return result;
}

}  // namespace eg::functions
