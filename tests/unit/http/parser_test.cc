#include "http/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eg::http {
namespace {

using namespace std::string_literals;

// ---- helpers ---------------------------------------------------------------------------

struct ReqResult {
  ParseStatus status = ParseStatus::Incomplete;
  size_t consumed = 0;
  ParseError error;
  Request req;
};

ReqResult parse_request(std::string_view data, const ParserLimits& limits = {}) {
  ReqResult r;
  RequestParser p(limits);
  r.status = p.parse(data, r.req, r.consumed);
  r.error = p.error();
  return r;
}

// Feeds growing prefixes, one more byte each time, like a connection receiving one byte per
// read; returns the first answer that is not Incomplete (or Incomplete at the end).
ReqResult parse_request_bytewise(std::string_view data, const ParserLimits& limits = {}) {
  ReqResult r;
  RequestParser p(limits);
  for (size_t n = 1; n <= data.size(); ++n) {
    r.status = p.parse(data.substr(0, n), r.req, r.consumed);
    if (r.status != ParseStatus::Incomplete) break;
  }
  r.error = p.error();
  return r;
}

std::string fields(const Headers& h) {
  std::string s;
  for (const auto& f : h) s += f.name + "=" + f.value + "|";
  return s;
}

void expect_same(const ReqResult& a, const ReqResult& b, const std::string& what) {
  ASSERT_EQ(a.status, b.status) << what;
  if (a.status == ParseStatus::Error) {
    EXPECT_EQ(a.error.status, b.error.status) << what;
    EXPECT_EQ(a.error.message, b.error.message) << what;
    return;
  }
  if (a.status != ParseStatus::Done) return;
  EXPECT_EQ(a.consumed, b.consumed) << what;
  EXPECT_EQ(a.req.method, b.req.method) << what;
  EXPECT_EQ(a.req.target, b.req.target) << what;
  EXPECT_EQ(a.req.path, b.req.path) << what;
  EXPECT_EQ(a.req.query, b.req.query) << what;
  EXPECT_EQ(a.req.has_query, b.req.has_query) << what;
  EXPECT_EQ(a.req.version, b.req.version) << what;
  EXPECT_EQ(fields(a.req.headers), fields(b.req.headers)) << what;
  EXPECT_EQ(a.req.framing, b.req.framing) << what;
  EXPECT_EQ(a.req.content_length, b.req.content_length) << what;
  EXPECT_EQ(a.req.keep_alive, b.req.keep_alive) << what;
  EXPECT_EQ(a.req.expect_continue, b.req.expect_continue) << what;
}

// Expects the request to be rejected with `status` and a message containing `needle`.
void expect_reject(std::string_view data, int status, std::string_view needle,
                   const ParserLimits& limits = {}) {
  ReqResult r = parse_request(data, limits);
  ASSERT_EQ(r.status, ParseStatus::Error) << "accepted: " << testing::PrintToString(data);
  EXPECT_EQ(r.error.status, status) << r.error.message << " for " << testing::PrintToString(data);
  EXPECT_NE(r.error.message.find(needle), std::string::npos)
      << "message '" << r.error.message << "' lacks '" << needle << "'";
  EXPECT_EQ(r.error.message.find('\n'), std::string::npos);
  EXPECT_EQ(r.error.message.find('\r'), std::string::npos);
  // The same bytes arriving one at a time give the same answer.
  expect_same(r, parse_request_bytewise(data, limits), std::string(data));
}

Request expect_accept(std::string_view data, const ParserLimits& limits = {}) {
  ReqResult r = parse_request(data, limits);
  EXPECT_EQ(r.status, ParseStatus::Done)
      << r.error.status << " " << r.error.message << " for " << testing::PrintToString(data);
  expect_same(r, parse_request_bytewise(data, limits), std::string(data));
  return r.req;
}

// ---- requests: happy paths -------------------------------------------------------------

TEST(HttpRequestParser, SimpleGet) {
  std::string data =
      "GET /index.html?lang=en&x=1 HTTP/1.1\r\n"
      "Host: www.example.com\r\n"
      "User-Agent:   curl/8.0 \t\r\n"
      "accept: */*\r\n"
      "X-Empty:\r\n"
      "\r\n";
  ReqResult r = parse_request(data);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error.message;
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(r.req.method, "GET");
  EXPECT_EQ(r.req.target, "/index.html?lang=en&x=1");
  EXPECT_EQ(r.req.path, "/index.html");
  EXPECT_EQ(r.req.query, "lang=en&x=1");
  EXPECT_TRUE(r.req.has_query);
  EXPECT_EQ(r.req.version, Version::Http11);
  EXPECT_EQ(fields(r.req.headers), "Host=www.example.com|User-Agent=curl/8.0|accept=*/*|X-Empty=|");
  EXPECT_EQ(r.req.framing, BodyFraming::None);
  EXPECT_EQ(r.req.content_length, 0u);
  EXPECT_TRUE(r.req.keep_alive);
  EXPECT_FALSE(r.req.expect_continue);
  EXPECT_TRUE(r.req.body.empty());
}

TEST(HttpRequestParser, QueryForms) {
  Request r = expect_accept("GET /a/b? HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/a/b");
  EXPECT_TRUE(r.has_query);
  EXPECT_EQ(r.query, "");
  r = expect_accept("GET /a?b?c=%20 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/a");
  EXPECT_EQ(r.query, "b?c=%20");
  r = expect_accept("GET /plain HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(r.has_query);
  EXPECT_EQ(r.query, "");
  // Visible ASCII other than '?' is part of the path as received.
  r = expect_accept("GET /\"quoted\"|pipe#frag HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/\"quoted\"|pipe#frag");
}

TEST(HttpRequestParser, AbsoluteForm) {
  Request r = expect_accept("GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.target, "http://example.com:8080/p/q?x=1");
  EXPECT_EQ(r.path, "/p/q");
  EXPECT_EQ(r.query, "x=1");
  r = expect_accept("GET HTTPS://example.com HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/");
  EXPECT_FALSE(r.has_query);
  r = expect_accept("GET http://[::1]?y HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.query, "y");
}

TEST(HttpRequestParser, AsteriskFormOnlyForOptions) {
  Request r = expect_accept("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.target, "*");
  EXPECT_EQ(r.path, "*");
  expect_reject("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "asterisk-form");
}

TEST(HttpRequestParser, RejectsOtherTargetForms) {
  expect_reject("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400,
                "authority-form");
  expect_reject("GET example.com/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request-target");
  expect_reject("GET ftp://example.com/x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "unsupported scheme");
  expect_reject("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "without a host");
  expect_reject("GET http://user:pw@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "userinfo");
  expect_reject("GET http://exa\"mple/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid host");
}

TEST(HttpRequestParser, RejectsBadTargetBytes) {
  expect_reject("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
  expect_reject("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
  expect_reject("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
  expect_reject("GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
  expect_reject("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request-target");
  expect_reject("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400, "request-target");
  // A space inside the target leaves "b HTTP/1.1" as the version.
  expect_reject("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "HTTP version");
}

TEST(HttpRequestParser, AnyTokenMethod) {
  for (std::string m : {"GET", "PURGE", "M-SEARCH", "get", "X_CUSTOM.1", "!#$%&'*+-.^_`|~"}) {
    Request r = expect_accept(m + " / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.method, m);
  }
}

TEST(HttpRequestParser, Http10) {
  Request r = expect_accept("GET / HTTP/1.0\r\n\r\n");  // Host optional in 1.0
  EXPECT_EQ(r.version, Version::Http10);
  EXPECT_FALSE(r.keep_alive);
  r = expect_accept("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(r.keep_alive);
  r = expect_accept("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpRequestParser, KeepAliveHttp11) {
  EXPECT_TRUE(expect_accept("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      expect_accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\t\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade,  close \r\n\r\n")
                   .keep_alive);
  EXPECT_FALSE(expect_accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\nConnection: close"
                             "\r\n\r\n")
                   .keep_alive);
  EXPECT_TRUE(expect_accept("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n").keep_alive);
}

TEST(HttpRequestParser, ContentLengthFraming) {
  Request r = expect_accept("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 003\r\n\r\nabc");
  EXPECT_EQ(r.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.content_length, 3u);
  r = expect_accept("POST /u HTTP/1.1\r\nHost: h\r\ncontent-length:\t 0 \r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.content_length, 0u);
  ParserLimits l;
  l.max_body_bytes = 10;
  r = expect_accept("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", l);
  EXPECT_EQ(r.content_length, 10u);
}

TEST(HttpRequestParser, ChunkedFraming) {
  Request r = expect_accept("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::Chunked);
  r = expect_accept("POST /u HTTP/1.1\r\nHost: h\r\ntransfer-encoding:  ChUnKeD \r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::Chunked);
}

TEST(HttpRequestParser, ExpectContinue) {
  EXPECT_TRUE(expect_accept("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                            "Content-Length: 1\r\n\r\n")
                  .expect_continue);
  EXPECT_FALSE(expect_accept("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
  EXPECT_FALSE(
      expect_accept("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n").expect_continue);
}

TEST(HttpRequestParser, SkipsLeadingEmptyLines) {
  std::string data = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ReqResult r = parse_request(data);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, data.size());
  expect_same(r, parse_request_bytewise(data), data);
  expect_reject("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare LF");
  expect_reject("\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare CR");
}

TEST(HttpRequestParser, HeaderValuesKeepObsTextAndTabs) {
  Request r = expect_accept(
      "GET / HTTP/1.1\r\nHost: h\r\nTest: D\xc3\xbcsseldorf\r\nX: \xffValue\r\nT: a\tb\r\n\r\n");
  EXPECT_EQ(*r.headers.find("test"), "D\xc3\xbcsseldorf");
  EXPECT_EQ(*r.headers.find("x"), "\xffValue");
  EXPECT_EQ(*r.headers.find("t"), "a\tb");
}

TEST(HttpRequestParser, EmptyHostIsAllowed) {
  Request r = expect_accept("GET / HTTP/1.1\r\nHost:\r\n\r\n");
  EXPECT_EQ(*r.headers.find("host"), "");
}

TEST(HttpRequestParser, PipelinedRequestsStopAtEndOfFirstHead) {
  std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string second = "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
  std::string third = "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string data = first + second + "hello" + third;
  RequestParser p;
  Request r;
  size_t consumed = 0;
  ASSERT_EQ(p.parse(data, r, consumed), ParseStatus::Done);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(r.path, "/1");
  std::string_view rest = std::string_view(data).substr(consumed);
  ASSERT_EQ(p.parse(rest, r, consumed), ParseStatus::Done);
  EXPECT_EQ(consumed, second.size());
  EXPECT_EQ(r.path, "/2");
  EXPECT_EQ(r.content_length, 5u);
  EXPECT_EQ(fields(r.headers), "Host=h|Content-Length=5|");  // replaced, not appended
  rest = rest.substr(consumed + 5);
  ASSERT_EQ(p.parse(rest, r, consumed), ParseStatus::Done);
  EXPECT_EQ(consumed, third.size());
  EXPECT_EQ(r.path, "/3");
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpRequestParser, IncompleteUntilEmptyLine) {
  std::string data = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t n = 0; n < data.size(); ++n) {
    Request r;
    size_t consumed = 99;
    RequestParser p;
    EXPECT_EQ(p.parse(std::string_view(data).substr(0, n), r, consumed), ParseStatus::Incomplete)
        << n;
  }
}

TEST(HttpRequestParser, ByteByByteMatchesWholeForManyMessages) {
  const std::vector<std::string> cases = {
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\nPOST /x?y HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nX: y\r\n\r\nbodybodybody",
      "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /next HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nFoo: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\nHost: h\n\n",
      "GET / HTTP/1.1\r\nHost: h\r\nFoo: a\rb\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nBad Name: 1\r\nX: \x01\r\n\r\n",
      // Limits and line-ending errors on the same line: the limit wins either way.
      "GET /" + std::string(9000, 'a') + " HTTP/1.1\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20460, 'v') + "\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20451, 'v') + "\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20452, 'v') + "\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\tX: 1\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX" + std::string(20460, 'v') + "\r\n \r\n",
  };
  for (const auto& c : cases) expect_same(parse_request(c), parse_request_bytewise(c), c);
}

// Splitting the same bytes differently never changes the answer: a deterministic
// pseudo-random walk over mutations of valid requests, each parsed whole and in pieces.
TEST(HttpRequestParser, SplitIndependenceOnMutations) {
  const std::vector<std::string> seeds = {
      "GET /a?b HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\n",
      "POST http://h/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
      "PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
  };
  const std::string alphabet = std::string(
                                   "\r\n \t:;,/?\x01\x7f\x80"
                                   "aZ0") +
                               '\0';
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  ParserLimits l;
  l.max_request_line = 24;
  l.max_header_bytes = 64;
  l.max_header_count = 3;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string m = seeds[next() % seeds.size()];
    for (int k = int(next() % 4); k >= 0; --k) {
      size_t pos = next() % (m.size() + 1);
      switch (next() % 3) {
        case 0:
          m.insert(pos, 1, alphabet[next() % alphabet.size()]);
          break;
        case 1:
          if (pos < m.size()) m.erase(pos, 1);
          break;
        default:
          if (pos < m.size()) m[pos] = alphabet[next() % alphabet.size()];
          break;
      }
    }
    for (const ParserLimits& limits : {ParserLimits{}, l}) {
      ReqResult whole = parse_request(m, limits);
      expect_same(whole, parse_request_bytewise(m, limits), m);
      // Two pieces, split at a random point.
      ReqResult two;
      RequestParser p(limits);
      size_t cut = next() % (m.size() + 1);
      two.status = p.parse(std::string_view(m).substr(0, cut), two.req, two.consumed);
      if (two.status == ParseStatus::Incomplete) two.status = p.parse(m, two.req, two.consumed);
      two.error = p.error();
      expect_same(whole, two, m);
    }
  }
}

TEST(HttpRequestParser, LineErrorsDetectedBeforeTheHeadEnds) {
  for (std::string data :
       {"GET / HTTP/1.1\r\n Host: foo", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\tb",
        "GET / HTTP/1.1\r\nBad Name: x\r\n", "GET / HTTP/1.1\r\nX: \x01\r\n", "GET / HTTP/1.1\n",
        "GET / HTTP/3.0\r\n", "GET /\x80 HTTP/1.1\r\n",
        // Decided by the bytes already there, line end or not.
        "GET / HTTP/5.6", "GET / HTTP/1.1 ", "GET / HTTPS", "GE(", "GET / HTTP/1.1\r\nX(",
        "GET / HTTP/1.1\r\nX: a\x01", "GET / HTTP/1.1\r\nX: a\rb",
        // Field meanings are applied as each line ends.
        "PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
        "PUT / HTTP/1.1\r\nContent-Length: 1000000000000000000000\r\n",
        "PUT / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n",
        "PUT / HTTP/1.1\r\nHost: a\r\nHost: a\r\n"}) {
    ReqResult r = parse_request(data);
    EXPECT_EQ(r.status, ParseStatus::Error) << testing::PrintToString(data);
    expect_same(r, parse_request_bytewise(data), data);
  }
}

TEST(HttpRequestParser, ParserResetsAfterErrorAndDone) {
  RequestParser p;
  Request r;
  size_t consumed = 0;
  ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost", r, consumed), ParseStatus::Incomplete);
  ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", r, consumed), ParseStatus::Done);
  ASSERT_EQ(p.parse("GET / HTTP/9.9\r\n\r\n", r, consumed), ParseStatus::Error);
  EXPECT_EQ(p.error().status, 505);
  ASSERT_EQ(p.parse("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", r, consumed), ParseStatus::Done);
  EXPECT_EQ(r.path, "/ok");
}

// ---- requests: rejections --------------------------------------------------------------

TEST(HttpRequestParser, RejectsBareLineEndings) {
  expect_reject("GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "bare LF");
  expect_reject("GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "bare LF");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "bare LF");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nFoo: 1\rBar: 2\r\n\r\n", 400, "bare CR");
  expect_reject("GET / HTTP/1.1\rHost: h\r\n\r\n", 400, "bare CR in the request line");
  expect_reject("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare CR in the request line");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n\rabc", 400, "bare CR in the header section");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n\r\n", 400, "header");
}

TEST(HttpRequestParser, RejectsMalformedRequestLine) {
  expect_reject(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400,
                "invalid character 0x20 at the start of the request line");
  expect_reject("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "in method");
  expect_reject("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "in method");
  expect_reject("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "more than one space");
  expect_reject("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400, "HTTP version");
  expect_reject("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "HTTP version");
  expect_reject("GET /\r\n\r\n", 400, "no HTTP version");
  expect_reject("GET\r\n\r\n", 400, "no request-target");
  expect_reject("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "HTTP version");
  expect_reject("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400, "HTTP version");
  expect_reject("GET / HTTP/11\r\nHost: h\r\n\r\n", 400, "HTTP version");
  expect_reject("GET / RTSP/1.0\r\n\r\n", 400, "HTTP version");
}

TEST(HttpRequestParser, UnsupportedVersionIs505) {
  expect_reject("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "unsupported HTTP version 'HTTP/2.0'");
  expect_reject("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "HTTP/1.2");
  expect_reject("GET / HTTP/0.9\r\n\r\n", 505, "HTTP/0.9");
}

TEST(HttpRequestParser, LongRequestLineIs414) {
  ParserLimits l;
  std::string target = "/" + std::string(l.max_request_line, 'a');
  expect_reject("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", 414,
                "request line too long (max 8192 bytes)");
  // Detected before the line ends.
  ReqResult r = parse_request("GET " + target);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 414);
  // Exactly at the limit is fine.
  std::string line = "GET /" + std::string(l.max_request_line - 14, 'b') + " HTTP/1.1";
  ASSERT_EQ(line.size(), l.max_request_line);
  expect_accept(line + "\r\nHost: h\r\n\r\n");
}

TEST(HttpRequestParser, ObsoleteLineFolding) {
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX-Foo: a\r\n b\r\n\r\n", 400,
                "obsolete line folding in header 'X-Foo'");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX-Foo: a\r\n\tb\r\n\r\n", 400,
                "obsolete line folding in header 'X-Foo'");
  expect_reject("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "whitespace before the first header");
}

TEST(HttpRequestParser, RejectsBadHeaderNames) {
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 4\r\n\r\n", 400,
                "whitespace before the colon in header 'Content-Length'");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX-Foo\t: 4\r\n\r\n", 400, "whitespace before");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nFoo\x01test: Bar\r\n\r\n", 400,
                "invalid character 0x01 in header name after 'Foo'");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", 400, "invalid character 0x28");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n\x01: 1\r\n\r\n", 400,
                "invalid character 0x01 in header name");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: 1\r\n\r\n", 400, "header name");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nno-colon-here\r\n\r\n", 400, "without a colon");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", 400, "empty header name");
}

TEST(HttpRequestParser, RejectsControlCharactersInValues) {
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", 400,
                "control character 0x01 in header 'X'");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n", 400, "control character 0x7f");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX: a\0z\r\n\r\n"s, 400, "control character 0x00");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nX: \x0c\r\n\r\n", 400, "control character 0x0c");
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep\ralive\r\n\r\n", 400,
                "bare CR in header 'Connection'");
}

TEST(HttpRequestParser, ContentLengthRules) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  expect_reject(pre + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
                "duplicate Content-Length");
  expect_reject(pre + "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", 400,
                "duplicate Content-Length");
  expect_reject(pre + "Content-Length: 5, 5\r\n\r\n", 400, "invalid Content-Length '5, 5'");
  expect_reject(pre + "Content-Length: 1 2\r\n\r\n", 400, "invalid Content-Length");
  expect_reject(pre + "Content-Length: -1\r\n\r\n", 400, "invalid Content-Length");
  expect_reject(pre + "Content-Length: +1\r\n\r\n", 400, "invalid Content-Length");
  expect_reject(pre + "Content-Length: 0x10\r\n\r\n", 400, "invalid Content-Length");
  expect_reject(pre + "Content-Length: 1.0\r\n\r\n", 400, "invalid Content-Length");
  expect_reject(pre + "Content-Length:\r\n\r\n", 400, "empty Content-Length");
  expect_reject(pre + "Content-Length: 1000000000000000000000\r\n\r\n", 400,
                "Content-Length out of range");
  expect_reject(pre + "Content-Length: 18446744073709551616\r\n\r\n", 400, "out of range");
}

TEST(HttpRequestParser, DeclaredBodyAboveLimitIs413) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  expect_reject(pre + "Content-Length: 8388609\r\n\r\n", 413,
                "Content-Length 8388609 exceeds the limit of 8388608 bytes");
  expect_reject(pre + "Content-Length: 9999999999999999999\r\n\r\n", 413, "exceeds");
  ParserLimits l;
  l.max_body_bytes = 0;
  expect_reject(pre + "Content-Length: 1\r\n\r\n", 413, "exceeds", l);
}

TEST(HttpRequestParser, ContentLengthWithTransferEncoding) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  expect_reject(pre + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "both Content-Length and Transfer-Encoding");
  expect_reject(pre + "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400,
                "both Content-Length and Transfer-Encoding");
  expect_reject(pre + "Transfer-Encoding: identity\r\nContent-Length: 1\r\n\r\n", 400, "both");
  expect_reject(pre + "Transfer-Encoding:\r\nContent-Length: 1\r\n\r\n", 400, "both");
}

TEST(HttpRequestParser, TransferEncodingRules) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  expect_reject(pre + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported transfer coding 'gzip'");
  expect_reject(pre + "Transfer-Encoding: pigeons\r\n\r\n", 501, "'pigeons'");
  expect_reject(pre + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501, "'gzip'");
  expect_reject(pre + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
                "'gzip'");
  expect_reject(pre + "Transfer-Encoding: chunkedchunked\r\n\r\n", 501, "'chunkedchunked'");
  expect_reject(pre + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400,
                "chunked is not the final transfer coding");
  expect_reject(pre + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400, "not the final");
  expect_reject(pre + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "not the final");
  expect_reject(pre + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", 400,
                "not the final");
  expect_reject(pre + "Transfer-Encoding: chunked;q=1\r\n\r\n", 400, "invalid Transfer-Encoding");
  expect_reject(pre + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400, "invalid Transfer-Encoding");
  expect_reject(pre + "Transfer-Encoding: chunked,\r\n\r\n", 400, "invalid Transfer-Encoding");
  expect_reject(pre + "Transfer-Encoding:\r\n\r\n", 400, "invalid Transfer-Encoding");
  expect_reject("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "Transfer-Encoding in an HTTP/1.0 request");
}

TEST(HttpRequestParser, HostRules) {
  expect_reject("GET / HTTP/1.1\r\n\r\n", 400, "missing Host header");
  expect_reject("GET / HTTP/1.1\r\nX: 1\r\n\r\n", 400, "missing Host header");
  expect_reject("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "duplicate Host");
  expect_reject("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host 'a b'");
  expect_reject("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, "invalid Host");
  expect_reject("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host");
  expect_reject("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, "invalid Host");
  Request r = expect_accept("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  EXPECT_EQ(*r.headers.find("Host"), "[::1]:8080");
  expect_accept("GET / HTTP/1.1\r\nHost: 0.0.0.0=5000\r\n\r\n");
}

TEST(HttpRequestParser, TooManyHeadersIs431) {
  ParserLimits l;
  l.max_header_count = 3;
  expect_accept("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", l);
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431,
                "too many headers (max 3)", l);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  expect_reject(many + "\r\n", 431, "too many headers (max 100)");
}

TEST(HttpRequestParser, TooLargeHeadIs431) {
  ParserLimits l;
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(l.max_header_bytes, 'v');
  expect_reject(big + "\r\n\r\n", 431, "header section too large (max 20480 bytes)");
  ReqResult r = parse_request(big);  // without its end: detected early
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 431);
  // The limit counts the whole head, final CRLF included.
  l.max_header_bytes = 27;
  expect_accept("GET / HTTP/1.1\r\nHost: h\r\n\r\n", l);
  l.max_header_bytes = 26;
  expect_reject("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 431, "too large", l);
  // Endless empty lines before the request line are bounded as well.
  expect_reject(std::string(30, '\r') + "\n", 400, "bare CR", l);
  std::string crlfs;
  for (int i = 0; i < 20; ++i) crlfs += "\r\n";
  ReqResult r2 = parse_request(crlfs, l);
  ASSERT_EQ(r2.status, ParseStatus::Error);
  EXPECT_EQ(r2.error.status, 431);
}

// ---- responses -------------------------------------------------------------------------

struct RespResult {
  ParseStatus status = ParseStatus::Incomplete;
  size_t consumed = 0;
  ParseError error;
  Response resp;
};

RespResult parse_response(std::string_view data, std::string_view method = "GET") {
  RespResult r;
  ResponseParser p;
  r.status = p.parse(data, method, r.resp, r.consumed);
  r.error = p.error();
  // Same answer when fed byte by byte.
  ResponseParser q;
  Response resp;
  size_t consumed = 0;
  ParseStatus st = ParseStatus::Incomplete;
  for (size_t n = 1; n <= data.size() && st == ParseStatus::Incomplete; ++n)
    st = q.parse(data.substr(0, n), method, resp, consumed);
  EXPECT_EQ(st, r.status);
  if (st == ParseStatus::Done) {
    EXPECT_EQ(consumed, r.consumed);
    EXPECT_EQ(fields(resp.headers), fields(r.resp.headers));
  }
  if (st == ParseStatus::Error) {
    EXPECT_EQ(q.error().message, r.error.message);
  }
  return r;
}

Response expect_response(std::string_view data, std::string_view method = "GET") {
  RespResult r = parse_response(data, method);
  EXPECT_EQ(r.status, ParseStatus::Done) << r.error.message;
  return r.resp;
}

void expect_bad_response(std::string_view data, std::string_view needle) {
  RespResult r = parse_response(data);
  ASSERT_EQ(r.status, ParseStatus::Error) << "accepted: " << testing::PrintToString(data);
  EXPECT_EQ(r.error.status, 502);
  EXPECT_NE(r.error.message.find(needle), std::string::npos) << r.error.message;
}

TEST(HttpResponseParser, ContentLength) {
  std::string data = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
  RespResult r = parse_response(data);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error.message;
  EXPECT_EQ(r.consumed, data.size() - 5);
  EXPECT_EQ(r.resp.status, 200);
  EXPECT_EQ(r.resp.reason, "OK");
  EXPECT_EQ(r.resp.version, Version::Http11);
  EXPECT_EQ(r.resp.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.resp.content_length, 5u);
  EXPECT_TRUE(r.resp.keep_alive);
  EXPECT_EQ(fields(r.resp.headers), "Content-Length=5|Server=x|");
}

TEST(HttpResponseParser, Chunked) {
  Response r = expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::Chunked);
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpResponseParser, UntilClose) {
  Response r = expect_response("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::UntilClose);
  EXPECT_FALSE(r.keep_alive);
  r = expect_response("HTTP/1.0 200 OK\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::UntilClose);
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpResponseParser, NoBodyCases) {
  Response r = expect_response("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD");
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_EQ(r.content_length, 1234u);
  EXPECT_TRUE(r.keep_alive);
  r = expect_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD");
  EXPECT_EQ(r.framing, BodyFraming::None);
  r = expect_response("HTTP/1.1 200 OK\r\n\r\n", "HEAD");
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_TRUE(r.keep_alive);
  r = expect_response("HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_TRUE(r.keep_alive);
  r = expect_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_EQ(r.content_length, 10u);
  r = expect_response("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT");
  EXPECT_EQ(r.framing, BodyFraming::None);
}

TEST(HttpResponseParser, InformationalResponses) {
  std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string hints = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
  std::string final_ = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  std::string data = cont + hints + final_;
  ResponseParser p;
  Response r;
  size_t consumed = 0;
  ASSERT_EQ(p.parse(data, "POST", r, consumed), ParseStatus::Done);
  EXPECT_EQ(r.status, 100);
  EXPECT_EQ(r.framing, BodyFraming::None);
  EXPECT_EQ(consumed, cont.size());
  std::string_view rest = std::string_view(data).substr(consumed);
  ASSERT_EQ(p.parse(rest, "POST", r, consumed), ParseStatus::Done);
  EXPECT_EQ(r.status, 103);
  EXPECT_EQ(consumed, hints.size());
  rest = rest.substr(consumed);
  ASSERT_EQ(p.parse(rest, "POST", r, consumed), ParseStatus::Done);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.headers.size(), 1u);

  Response up = expect_response(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_EQ(up.status, 101);
  EXPECT_EQ(up.framing, BodyFraming::None);
}

TEST(HttpResponseParser, StatusLineForms) {
  Response r = expect_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "");
  r = expect_response("HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, 299);
  EXPECT_EQ(r.reason, "");
  r = expect_response("HTTP/1.1 404 Nicht gefunden \xc3\xa4\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.reason, "Nicht gefunden \xc3\xa4");
  r = expect_response("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.version, Version::Http10);
  EXPECT_TRUE(r.keep_alive);
  r = expect_response("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpResponseParser, Rejections) {
  expect_bad_response("HTTP/1.1 20 OK\r\n\r\n", "status");
  expect_bad_response("HTTP/1.1 2000 OK\r\n\r\n", "status code");
  expect_bad_response("HTTP/1.1 600 Weird\r\n\r\n", "invalid status code 600");
  expect_bad_response("HTTP/1.1 099 Low\r\n\r\n", "invalid status code 99");
  expect_bad_response("HTTP/1.1 200OK\r\n\r\n", "status code");
  expect_bad_response("HTTP/2 200 OK\r\n\r\n", "invalid status line");
  expect_bad_response("HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version");
  expect_bad_response("HTTP/1.1  200 OK\r\n\r\n", "status");
  expect_bad_response("ICY 200 OK\r\n\r\n", "invalid status line");
  expect_bad_response("HTTP/1.1 200 O\x01K\r\n\r\n", "reason phrase");
  expect_bad_response("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF");
  expect_bad_response("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
                      "obsolete line folding in header 'X'");
  expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                      "duplicate Content-Length");
  expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                      "both Content-Length and Transfer-Encoding");
  expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                      "unsupported transfer coding");
  expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                      "not the final");
  expect_bad_response("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0");
  expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "invalid Content-Length");
  expect_bad_response("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "whitespace before the colon");
  expect_bad_response("HTTP/1.1 200 OK\r\nX-" + std::string(30000, 'a') + ": 1\r\n\r\n",
                      "header section too large");
}

TEST(HttpResponseParser, DoesNotRequireHost) {
  expect_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  Response r =
      expect_response("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.headers.count("host"), 2u);
}

// ---- chunked bodies --------------------------------------------------------------------

struct ChunkResult {
  ParseStatus status = ParseStatus::Incomplete;
  size_t consumed = 0;  // total over all feeds
  std::string out;
  ParseError error;
  uint64_t decoded = 0;
};

// Feeds `data` in pieces split at `splits` (offsets into data).
ChunkResult decode(std::string_view data, const std::vector<size_t>& splits = {},
                   uint64_t max = UINT64_MAX) {
  ChunkResult r;
  ChunkedDecoder d(max);
  size_t pos = 0;
  std::vector<size_t> cuts = splits;
  cuts.push_back(data.size());
  for (size_t cut : cuts) {
    size_t c = 0;
    r.status = d.feed(data.substr(pos, cut - pos), c, r.out);
    r.consumed += c;
    if (r.status != ParseStatus::Incomplete) break;
    EXPECT_EQ(c, cut - pos);  // Incomplete always takes everything it was given
    pos = cut;
  }
  r.error = d.error();
  r.decoded = d.decoded_bytes();
  return r;
}

ChunkResult decode_bytewise(std::string_view data, uint64_t max = UINT64_MAX) {
  std::vector<size_t> splits;
  for (size_t i = 1; i < data.size(); ++i) splits.push_back(i);
  return decode(data, splits, max);
}

void expect_decoded(std::string_view data, std::string_view body, size_t consumed) {
  ChunkResult r = decode(data);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error.message;
  EXPECT_EQ(r.out, body);
  EXPECT_EQ(r.consumed, consumed);
  EXPECT_EQ(r.decoded, body.size());
  ChunkResult b = decode_bytewise(data);
  ASSERT_EQ(b.status, ParseStatus::Done) << b.error.message;
  EXPECT_EQ(b.out, body);
  EXPECT_EQ(b.consumed, consumed);
  // Every single split point too.
  for (size_t i = 1; i < data.size(); ++i) {
    ChunkResult s = decode(data, {i});
    ASSERT_EQ(s.status, ParseStatus::Done) << "split at " << i << ": " << s.error.message;
    EXPECT_EQ(s.out, body);
    EXPECT_EQ(s.consumed, consumed);
  }
}

void expect_bad_chunked(std::string_view data, std::string_view needle, int status = 400,
                        uint64_t max = UINT64_MAX) {
  ChunkResult r = decode(data, {}, max);
  ASSERT_EQ(r.status, ParseStatus::Error) << "accepted: " << testing::PrintToString(data);
  EXPECT_EQ(r.error.status, status);
  EXPECT_NE(r.error.message.find(needle), std::string::npos) << r.error.message;
  ChunkResult b = decode_bytewise(data, max);
  ASSERT_EQ(b.status, ParseStatus::Error);
  EXPECT_EQ(b.error.message, r.error.message);
}

TEST(HttpChunkedDecoder, Basic) {
  std::string data = "5\r\nhello\r\n0\r\n\r\n";
  expect_decoded(data, "hello", data.size());
}

TEST(HttpChunkedDecoder, SeveralChunksAndHexCase) {
  std::string data = "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0005\r\nvwxyz\r\n000\r\n\r\n";
  expect_decoded(data, "0123456789abcdefghijvwxyz", data.size());
  std::string big(0x1F, 'x');
  std::string d2 = "1f\r\n" + big + "\r\n1F\r\n" + big + "\r\n0\r\n\r\n";
  expect_decoded(d2, big + big, d2.size());
}

TEST(HttpChunkedDecoder, Extensions) {
  std::string data =
      "1;abc\r\nB\r\n1;def=ghi\r\nC\r\n1;jkl=\"mno\"\r\nD\r\n"
      "1; a = b ;c=\"q \\\" ;x\"\r\nE\r\n0;last\r\n\r\n";
  expect_decoded(data, "BCDE", data.size());
}

TEST(HttpChunkedDecoder, BadExtensions) {
  expect_bad_chunked("5;\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;=x\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a=\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a=\"unterminated\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a=b c\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a\x01\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a\nb\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
  expect_bad_chunked("5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n",
                     "chunk extension too long");
}

TEST(HttpChunkedDecoder, Trailers) {
  std::string data = "3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other:  v \r\n\r\n";
  expect_decoded(data, "abc", data.size());
}

TEST(HttpChunkedDecoder, BadTrailers) {
  expect_bad_chunked("0\r\nno colon\r\n\r\n", "invalid trailer field");
  expect_bad_chunked("0\r\nX: a\x01\r\n\r\n", "invalid trailer field");
  expect_bad_chunked("0\r\nX : a\r\n\r\n", "invalid trailer field");
  expect_bad_chunked("0\r\nX: a\r\n b\r\n\r\n", "obsolete line folding");
  expect_bad_chunked("0\r\nX: a\n\r\n", "bare LF");
  expect_bad_chunked("0\r\n\n", "bare LF");
  expect_bad_chunked("0\r\nX: a\rb\r\n\r\n", "invalid trailer field");
  std::string many = "0\r\n";
  for (int i = 0; i < 2000; ++i) many += "X-Trailer: value\r\n";
  expect_bad_chunked(many + "\r\n", "trailer section too large");
}

TEST(HttpChunkedDecoder, ConsumedStopsAfterLastChunk) {
  std::string body = "4\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
  std::string data = body + "GET / HTTP/1.1\r\n";
  expect_decoded(data, "Wikipedia", body.size());
  // Done is sticky.
  ChunkedDecoder d;
  std::string out;
  size_t c = 0;
  ASSERT_EQ(d.feed(data, c, out), ParseStatus::Done);
  EXPECT_EQ(c, body.size());
  ASSERT_EQ(d.feed("more", c, out), ParseStatus::Done);
  EXPECT_EQ(c, 0u);
  EXPECT_EQ(out, "Wikipedia");
}

TEST(HttpChunkedDecoder, Incomplete) {
  for (std::string data :
       {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n",
        "5\r\nhello\r\n0\r\nX: 1\r\n", "5\r\nhello\r\n0\r\n\r"}) {
    ChunkResult r = decode(data);
    EXPECT_EQ(r.status, ParseStatus::Incomplete) << testing::PrintToString(data);
    EXPECT_EQ(r.consumed, data.size());
  }
}

TEST(HttpChunkedDecoder, InvalidSizes) {
  expect_bad_chunked("\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
  expect_bad_chunked("g\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
  expect_bad_chunked("-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
  expect_bad_chunked("+5\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
  expect_bad_chunked(" 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
  expect_bad_chunked("0x5\r\nhello\r\n0\r\n\r\n", "after chunk size");
  expect_bad_chunked("5 \r\nhello\r\n0\r\n\r\n", "after chunk size");
  expect_bad_chunked("5 ;a\r\nhello\r\n0\r\n\r\n", "after chunk size");
  expect_bad_chunked("5\t\r\nhello\r\n0\r\n\r\n", "after chunk size");
  expect_bad_chunked("2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n", "after chunk size");
  expect_bad_chunked("00000000000000005\r\nhello\r\n0\r\n\r\n", "max 16 hex digits");
  expect_bad_chunked("fffffffffffffffff\r\n", "max 16 hex digits");
}

TEST(HttpChunkedDecoder, SixteenDigitSizeAgainstLimit) {
  expect_bad_chunked("ffffffffffffffff\r\n", "chunked body larger than", 413, UINT64_MAX - 1);
  expect_bad_chunked("8000000000000000\r\nx", "larger than", 413, 1000);
  // Unlimited: 16 digits is accepted and waits for data.
  ChunkResult r = decode("ffffffffffffffff\r\nabc");
  EXPECT_EQ(r.status, ParseStatus::Incomplete);
  EXPECT_EQ(r.out, "abc");
}

TEST(HttpChunkedDecoder, LineEndings) {
  expect_bad_chunked("5\nhello\r\n0\r\n\r\n", "invalid character 0x0a after chunk size");
  expect_bad_chunked("5\rhello\r\n0\r\n\r\n", "not terminated by CRLF");
  expect_bad_chunked("5\r\nhelloX\r\n0\r\n\r\n", "chunk data not followed by CRLF");
  expect_bad_chunked("5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF");
  expect_bad_chunked("5\r\nhello\r0\r\n\r\n", "chunk data not followed by CRLF");
  expect_bad_chunked("5\r\nhello\r\n0\n\r\n", "after chunk size");
  expect_bad_chunked("3\r\nfooXX3\r\nbar\r\n0\r\n\r\n", "not followed by CRLF");
}

TEST(HttpChunkedDecoder, BodyLimit) {
  ChunkResult ok = decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", {}, 10);
  EXPECT_EQ(ok.status, ParseStatus::Done);
  expect_bad_chunked("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", "chunked body larger than 10 bytes",
                     413, 10);
}

TEST(HttpChunkedDecoder, ErrorIsSticky) {
  ChunkedDecoder d;
  std::string out;
  size_t c = 0;
  ASSERT_EQ(d.feed("z", c, out), ParseStatus::Error);
  EXPECT_EQ(d.feed("5\r\nhello\r\n0\r\n\r\n", c, out), ParseStatus::Error);
  EXPECT_EQ(c, 0u);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace eg::http
