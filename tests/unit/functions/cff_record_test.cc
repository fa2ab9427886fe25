// The request-record fast path of CloudFront Functions (cff_record.h) against the JSON way it
// replaces: the same handler on copies of the same request must see the same event and leave
// the same request (or fail with the same message), whichever way the event travels.
#include "functions/cff_record.h"

#include <gtest/gtest.h>

#include "event_test_util.h"
#include "functions/cff/cff.h"

namespace eg::functions {
namespace {

using testing::lines;
using testing::make_context;
using testing::make_request;
using testing::same_request;

struct Way {
  http::Request req;
  CffOutcome outcome;
  RequestResult result;
  std::string event;  // JSON.stringify(event) as the handler saw it
};

// log_event: the handler logs JSON.stringify(event) first (which reads every map).
std::shared_ptr<CffScript> script_of(const std::string& body, bool log_event = false) {
  std::string error;
  auto s =
      CffScript::load("fns/f.js",
                      std::string("function handler(event) { ") +
                          (log_event ? "console.log(JSON.stringify(event)); " : "") + body + " }",
                      CffOptions{}, error);
  EXPECT_TRUE(s) << error;
  return s;
}

void finish(Way& w) {
  ASSERT_TRUE(w.outcome.ok) << w.outcome.error;
  if (!w.outcome.logs.empty()) w.event = w.outcome.logs.front();
}

Way json_way(const CffScript& s, const http::Request& req) {
  Way w{req, {}, {}, {}};
  const Context c = make_context(EventType::ViewerRequest);
  w.outcome = run_cff(s, build_cff_event(c, w.req, nullptr));
  finish(w);
  w.result = apply_cff_request_result(CffLimits{}, CffCall{c.event, "fns/f.js"},
                                      w.outcome.result_json, w.req);
  return w;
}

Way record_way(const CffScript& s, const http::Request& req) {
  Way w{req, {}, {}, {}};
  const Context c = make_context(EventType::ViewerRequest);
  CffRequestRecord record;
  const bool built = build_cff_request_record(c, w.req, record);
  EXPECT_TRUE(built);
  if (!built) return w;
  w.outcome = run_cff_request_record(s, record.parts());
  finish(w);
  const CffCall call{c.event, "fns/f.js"};
  if (!w.outcome.result_record.empty())
    w.result = apply_cff_request_record(CffLimits{}, call, record, w.outcome.result_record, w.req);
  else if (!w.outcome.request_unchanged)
    w.result = apply_cff_request_result(CffLimits{}, call, w.outcome.result_json, w.req);
  return w;
}

bool by_record(const Way& w) {
  return w.outcome.request_unchanged || !w.outcome.result_record.empty();
}

http::Request busy_request() {
  return make_request("GET", "/p/index.html?a=1&a=2&b=x&__proto__=p&2=two&flag&c=%20d",
                      {{"Host", "www.example.com"},
                       {"User-Agent", "Mozilla/5.0 (X11) test"},
                       {"accept", "text/html"},
                       {"Accept", "application/json"},
                       {"X-Amz-Cf-Id", "hidden-from-functions"},
                       {"Cookie", "session=abc; theme=dark ;  empty= ; bare"},
                       {"X-Latin", "caf\xe9 and caf\xc3\xa9"},
                       {"X-Last", "z"}});
}

TEST(CffRecord, TheEventIsTheOneTheJsonWayMakes) {
  auto s = script_of("return event.request;", true);
  ASSERT_TRUE(s);
  for (const http::Request& req :
       {busy_request(), make_request("GET", "/", {}),
        make_request("POST", "/a?x=1&y=", {{"Cookie", "a=1"}, {"Cookie", "b=2; a=3"}}),
        make_request("GET", "/q?toString=1&constructor=2&hasOwnProperty",
                     {{"__proto__", "x"}, {"constructor", "y"}})}) {
    Way j = json_way(*s, req), r = record_way(*s, req);
    EXPECT_EQ(r.event, j.event) << req.target;
    EXPECT_NE(r.event.find("\"requestId\":\"4TyzHTaYWb1GX1qTfsHhEqV6HUDd"), std::string::npos);
  }
}

TEST(CffRecord, AnUnchangedRequestStaysExactlyAsItCame) {
  auto s = script_of("return event.request;");
  ASSERT_TRUE(s);
  // Headers arrive as a browser sent them: Cookie in the middle, a hidden header first.
  http::Request req = make_request(
      "GET", "/p?b=1&a=2",
      {{"X-Amz-Cf-Id", "id"}, {"Host", "h"}, {"Cookie", "a=1;b=2"}, {"Accept", "*/*"}});
  Way r = record_way(*s, req);
  ASSERT_FALSE(r.result.failure) << r.result.failure->message;
  EXPECT_TRUE(r.outcome.request_unchanged) << "not recognised as unchanged";
  EXPECT_TRUE(same_request(req, r.req)) << ::testing::PrintToString(lines(r.req.headers));
}

struct Case {
  const char* name;
  const char* body;   // after `var r = event.request;`
  bool record;        // the result comes back as a record (not JSON)
  bool busy = false;  // on busy_request() (repeated names: multiValue)
};

const Case kCases[] = {
    {"add a header", "r.headers['x-new'] = {value: 'n'}; return r;", true},
    {"change a header", "r.headers['user-agent'].value = 'bot'; return r;", true},
    {"delete a header", "delete r.headers['x-last']; return r;", true},
    {"prefix the uri", "r.uri = '/v2' + r.uri; return r;", true},
    {"lower a query value", "r.querystring.b.value = 'X'.toLowerCase(); return r;", true},
    {"add a query value that needs encoding",
     "r.querystring['new key'] = {value: 'a&b=c d#e'}; return r;", true},
    {"drop the query", "r.querystring = {}; return r;", true},
    {"change a cookie", "r.cookies.session.value = 'xyz'; return r;", true},
    {"drop every cookie", "r.cookies = {}; return r;", true},
    {"unicode value", "r.headers['x-u'] = {value: 'caf\\u00e9 \\u2603'}; return r;", true},
    {"a new object",
     "return {method: r.method, uri: '/n', querystring: {}, headers: {}, cookies: {}};", true},
    {"integer-like names", "r.querystring['10'] = {value: 'ten'}; return r;", true},
    {"uri without slash", "r.uri = 'nope'; return r;", true},
    {"uri with a space", "r.uri = '/a b'; return r;", true},
    {"header value with CR", "r.headers['x-bad'] = {value: 'a\\rb'}; return r;", true},
    {"uppercase header key", "r.headers['X-Up'] = {value: '1'}; return r;", true},
    {"header name with a space", "r.headers['x bad'] = {value: '1'}; return r;", true},
    {"disallowed header", "r.headers['x-amz-cf-id'] = {value: 'forged'}; return r;", true},
    {"read-only host", "r.headers.host.value = 'evil'; return r;", true},
    {"method changed", "r.method = 'PUT'; return r;", true},
    {"cookie value with ;", "r.cookies.session.value = 'a;b'; return r;", true},
    {"cookie through headers", "r.headers.cookie = {value: 'x=1'}; return r;", true},
    {"uri too long", "r.uri = '/' + 'a'.repeat(9000); return r;", true},
    // Everything below goes the JSON way, with its full messages.
    {"a multiValue changed", "r.headers.accept.multiValue[1].value = 'x/y'; return r;", false,
     true},
    {"a frozen request", "Object.freeze(r); r.headers['x-f'] = {value: '1'}; return r;", true},
    {"a generated response", "return {statusCode: 302, headers: {location: {value: '/x'}}};",
     false},
    {"status instead of statusCode", "r.status = 200; return r;", false},
    {"value not a string",
     "delete r.querystring.a; delete r.headers.accept; "
     "r.headers['x-n'] = {value: 42}; return r;",
     false},
    {"header as a string",
     "delete r.querystring.a; delete r.headers.accept; "
     "r.headers['x-s'] = 'v'; return r;",
     false},
    {"headers missing",
     "delete r.querystring.a; delete r.headers.accept; delete r.headers; "
     "return r;",
     false},
    {"a NUL in a value",
     "delete r.querystring.a; delete r.headers.accept; "
     "r.headers['x-z'] = {value: 'a\\u0000b'}; return r;",
     false},
    {"the whole event", "return event;", false},
    {"lambda-shaped headers",
     "delete r.querystring.a; delete r.headers.accept; "
     "r.headers = [{key: 'a', value: 'b'}]; return r;",
     false},
};

TEST(CffRecord, EveryResultLeavesTheRequestTheJsonWayLeavesIt) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    // The plain cases start from a request without repeated names (a repeat is a multiValue).
    http::Request req = !c.busy ? make_request("GET", "/p?b=Y&c=%20d",
                                               {{"Host", "www.example.com"},
                                                {"User-Agent", "Mozilla/5.0"},
                                                {"X-Amz-Cf-Id", "hidden"},
                                                {"Cookie", "session=abc; theme=dark"},
                                                {"X-Last", "z"}})
                                : busy_request();
    auto s = script_of(std::string("var r = event.request; ") + c.body);
    ASSERT_TRUE(s);
    Way j = json_way(*s, req), r = record_way(*s, req);
    EXPECT_EQ(by_record(r), c.record);
    ASSERT_EQ(r.result.failure.has_value(), j.result.failure.has_value())
        << (j.result.failure ? j.result.failure->message : r.result.failure->message);
    if (j.result.failure) {
      EXPECT_EQ(r.result.failure->message, j.result.failure->message);
      EXPECT_EQ(r.result.failure->status, j.result.failure->status);
      EXPECT_TRUE(same_request(req, r.req)) << "a failed result must not change the request";
    } else {
      EXPECT_TRUE(same_request(j.req, r.req))
          << ::testing::PrintToString(lines(j.req.headers)) << j.req.target << "\nvs\n"
          << ::testing::PrintToString(lines(r.req.headers)) << r.req.target;
      EXPECT_EQ(r.result.answer.has_value(), j.result.answer.has_value());
    }
  }
}

// A map the function left as it was shown goes back byte for byte, in its order, repeated
// names and all; the JSON way would have rewritten it (stray bytes re-encoded as UTF-8, Cookie
// and hidden headers moved last). (A query with an integer-like name is another matter:
// JavaScript puts such keys first, so the function was shown them reordered.)
TEST(CffRecord, MapsLeftAsShownStayAsTheyCame) {
  http::Request req = busy_request();
  req.query = "a=1&a=2&b=x&__proto__=p&flag&c=%20d";
  req.target = req.path + "?" + req.query;
  {
    Way r = record_way(*script_of("return event.request;"), req);
    EXPECT_TRUE(r.outcome.request_unchanged);
    EXPECT_TRUE(same_request(req, r.req)) << ::testing::PrintToString(lines(r.req.headers));
  }
  {
    Way r = record_way(*script_of("var r = event.request; r.uri = '/v2' + r.uri; return r;"), req);
    ASSERT_FALSE(r.result.failure) << r.result.failure->message;
    EXPECT_FALSE(r.outcome.result_record.empty());
    EXPECT_EQ(r.req.path, "/v2/p/index.html");
    EXPECT_EQ(r.req.query, req.query);
    EXPECT_EQ(r.req.target, "/v2" + req.target);
    // Cookie (rebuilt from the unread cookies, as the JSON way does) and the hidden header last.
    EXPECT_EQ(
        lines(r.req.headers),
        (std::vector<std::string>{"Host: www.example.com", "User-Agent: Mozilla/5.0 (X11) test",
                                  "accept: text/html", "Accept: application/json",
                                  "X-Latin: caf\xe9 and caf\xc3\xa9", "X-Last: z",
                                  "Cookie: session=abc; theme=dark; empty=; bare=",
                                  "X-Amz-Cf-Id: hidden-from-functions"}));
  }
  {
    // Read, not changed: the same as never read.
    Way r = record_way(*script_of("var r = event.request; r.uri = '/x' + r.headers.accept.value "
                                  "+ r.querystring.a.multiValue.length; return r;"),
                       req);
    ASSERT_FALSE(r.result.failure) << r.result.failure->message;
    EXPECT_EQ(r.req.path, "/xtext/html2");
    EXPECT_EQ(r.req.query, req.query);
    ASSERT_TRUE(r.req.headers.find("X-Latin"));
    EXPECT_EQ(*r.req.headers.find("X-Latin"), "caf\xe9 and caf\xc3\xa9");
  }
  {
    Way r = record_way(
        *script_of("var r = event.request; r.cookies.theme.value = 'light'; return r;"), req);
    ASSERT_FALSE(r.result.failure) << r.result.failure->message;
    EXPECT_EQ(r.req.target, req.target);
    const std::string* cookie = r.req.headers.find("Cookie");
    ASSERT_TRUE(cookie);
    EXPECT_EQ(*cookie, "session=abc; theme=light; empty=; bare=");
    EXPECT_EQ(r.req.headers.count("Accept"), 2u);
  }
}

TEST(CffRecord, AsyncHandlersAndOriginHelpersUseTheRecordToo) {
  std::string error;
  auto s = CffScript::load("fns/f.js",
                           "import cf from 'cloudfront';\n"
                           "async function handler(event) {\n"
                           "  cf.selectRequestOriginById('other');\n"
                           "  event.request.headers['x-async'] = {value: 'yes'};\n"
                           "  return event.request;\n"
                           "}",
                           CffOptions{}, error);
  ASSERT_TRUE(s) << error;
  http::Request req = make_request("GET", "/", {{"Host", "h"}});
  CffRequestRecord record;
  ASSERT_TRUE(build_cff_request_record(make_context(EventType::ViewerRequest), req, record));
  CffOutcome o = run_cff_request_record(*s, record.parts());
  ASSERT_TRUE(o.ok) << o.error;
  ASSERT_FALSE(o.result_record.empty());
  ASSERT_TRUE(o.origin);
  EXPECT_EQ(o.origin->origin_id, "other");
  RequestResult r = apply_cff_request_record(
      CffLimits{}, CffCall{EventType::ViewerRequest, "fns/f.js"}, record, o.result_record, req);
  ASSERT_FALSE(r.failure) << r.failure->message;
  ASSERT_TRUE(req.headers.find("X-Async"));
  EXPECT_EQ(*req.headers.find("X-Async"), "yes");
}

TEST(CffRecord, AFunctionReplacingBuiltInsDoesNotChangeTheEvent) {
  auto s = script_of(
      "console.log(JSON.stringify(event));"
      "Array.isArray = function () { return true; };"
      "Object.keys = function () { return []; };"
      "var r = event.request; r.headers['x-k'] = {value: Object.keys(r.headers).length + ''};"
      "return r;");
  ASSERT_TRUE(s);
  http::Request req = make_request("GET", "/k?a=1", {{"Host", "h"}, {"Accept", "*/*"}});
  // The first call replaces the built-ins; the second sees their replacements.
  record_way(*s, req);
  Way r = record_way(*s, req);
  ASSERT_FALSE(r.result.failure) << r.result.failure->message;
  EXPECT_NE(r.event.find("\"accept\":{\"value\":\"*/*\"}"), std::string::npos) << r.event;
  ASSERT_TRUE(r.req.headers.find("X-K"));
  EXPECT_EQ(*r.req.headers.find("X-K"), "0");  // the function's own Object.keys
  EXPECT_EQ(r.req.query, "a=1");
  ASSERT_TRUE(r.req.headers.find("Accept"));
  EXPECT_EQ(*r.req.headers.find("Accept"), "*/*");
}

TEST(CffRecord, AValueWithANulIsNotARecord) {
  http::Request req = make_request("GET", "/", {{"Host", "h"}});
  req.headers.add("X-Odd", std::string("a\0b", 3));
  CffRequestRecord record;
  EXPECT_FALSE(build_cff_request_record(make_context(EventType::ViewerRequest), req, record));
}

TEST(CffRecord, AMalformedResultRecordIsAnInternalError) {
  http::Request req = make_request("GET", "/", {{"Host", "h"}});
  const http::Request before = req;
  const CffCall call{EventType::ViewerRequest, "fns/f.js"};
  using namespace std::string_view_literals;  // "..."sv keeps the embedded NULs in the size
  for (std::string_view bad : {"GET\0/\0"sv, "GET\0/\0x\0"sv,
                               "GET\0/\0"
                               "1\0a\0"
                               "0\0"
                               "0\0"
                               "0\0"sv,
                               "GET\0/\0"
                               "1\0a\0"
                               "3\0b\0c\0"
                               "0\0"
                               "0\0"sv,
                               "GET\0/\0"
                               "0\0"
                               "0\0"
                               "0\0"
                               "extra"sv}) {
    RequestResult r = apply_cff_request_record(CffLimits{}, call, CffRequestRecord{}, bad, req);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->status, 502);
    EXPECT_NE(r.failure->message.find("malformed request record"), std::string::npos)
        << r.failure->message;
    EXPECT_TRUE(same_request(before, req));
  }
}

}  // namespace
}  // namespace eg::functions
