#include "http/message.h"

#include <gtest/gtest.h>

#include "http/parser.h"

namespace eg::http {
namespace {

std::vector<std::string> names(const Headers& h) {
  std::vector<std::string> out;
  for (const auto& f : h) out.push_back(f.name);
  return out;
}

TEST(HttpMessage, IequalsIsAsciiCaseInsensitive) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "Hos"));
  EXPECT_FALSE(iequals("Host", "Hose"));
}

TEST(HttpMessage, HeadersFindAndCount) {
  Headers h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.find("X"), nullptr);
  h.add("Accept", "a");
  h.add("X-Foo", "1");
  h.add("x-foo", "2");
  EXPECT_EQ(h.size(), 3u);
  ASSERT_NE(h.find("X-FOO"), nullptr);
  EXPECT_EQ(*h.find("X-FOO"), "1");  // first match
  EXPECT_EQ(h.count("x-Foo"), 2u);
  EXPECT_TRUE(h.contains("accept"));
  EXPECT_FALSE(h.contains("Accept-Encoding"));
}

TEST(HttpMessage, HeadersSetReplacesAllKeepingFirstPosition) {
  Headers h;
  h.add("A", "1");
  h.add("X-Foo", "1");
  h.add("B", "2");
  h.add("x-foo", "2");
  h.set("X-FOO", "3");
  EXPECT_EQ(names(h), (std::vector<std::string>{"A", "X-FOO", "B"}));
  EXPECT_EQ(*h.find("x-foo"), "3");
  h.set("C", "4");  // absent: appended
  EXPECT_EQ(names(h), (std::vector<std::string>{"A", "X-FOO", "B", "C"}));
}

TEST(HttpMessage, HeadersRemoveReturnsCount) {
  Headers h;
  h.add("A", "1");
  h.add("B", "2");
  h.add("a", "3");
  EXPECT_EQ(h.remove("A"), 2u);
  EXPECT_EQ(h.remove("A"), 0u);
  EXPECT_EQ(names(h), (std::vector<std::string>{"B"}));
  h.clear();
  EXPECT_TRUE(h.empty());
}

TEST(HttpMessage, VersionStrings) {
  EXPECT_EQ(to_string(Version::Http10), "HTTP/1.0");
  EXPECT_EQ(to_string(Version::Http11), "HTTP/1.1");
}

TEST(HttpMessage, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(100), "Continue");
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(204), "No Content");
  EXPECT_EQ(reason_phrase(206), "Partial Content");
  EXPECT_EQ(reason_phrase(301), "Moved Permanently");
  EXPECT_EQ(reason_phrase(302), "Found");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(307), "Temporary Redirect");
  EXPECT_EQ(reason_phrase(308), "Permanent Redirect");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(401), "Unauthorized");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(408), "Request Timeout");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(429), "Too Many Requests");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(502), "Bad Gateway");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(504), "Gateway Timeout");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "");
  EXPECT_EQ(reason_phrase(-1), "");
}

TEST(HttpMessage, SerializeResponseHead) {
  Response r;
  r.status = 404;
  r.headers.add("Content-Type", "text/plain");
  r.headers.add("Content-Length", "9");
  std::string out = "prefix|";
  serialize_head(r, out);
  EXPECT_EQ(out,
            "prefix|HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
            "Content-Length: 9\r\n\r\n");
}

TEST(HttpMessage, SerializeResponseCustomReasonAndUnknownStatus) {
  Response r;
  r.status = 299;
  std::string out;
  serialize_head(r, out);
  EXPECT_EQ(out, "HTTP/1.1 299 \r\n\r\n");
  r.status = 200;
  r.reason = "Fine";
  r.version = Version::Http10;  // we always answer as the HTTP/1.1 server we are
  out.clear();
  serialize_head(r, out);
  EXPECT_EQ(out, "HTTP/1.1 200 Fine\r\n\r\n");
}

TEST(HttpMessage, SerializeRequestHead) {
  Request r;
  r.method = "POST";
  r.target = "/ignored";
  r.headers.add("Host", "origin.example");
  r.headers.add("X-A", "1");
  std::string out;
  serialize_head(r, "/api?x=1", out);
  EXPECT_EQ(out, "POST /api?x=1 HTTP/1.1\r\nHost: origin.example\r\nX-A: 1\r\n\r\n");
}

TEST(HttpMessage, SerializeNeutralizesLineBreaks) {
  Response r;
  r.status = 200;
  r.headers.add("X-Evil", "a\r\nSet-Cookie: x=1");
  std::string out;
  serialize_head(r, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-Evil: a  Set-Cookie: x=1\r\n\r\n");
}

TEST(HttpMessage, SerializedRequestParsesBack) {
  Request r;
  r.method = "PUT";
  r.headers.add("Host", "h");
  r.headers.add("Content-Length", "3");
  r.headers.add("X-List", "a, b");
  std::string out;
  serialize_head(r, "/x?y", out);
  Request back;
  size_t consumed = 0;
  RequestParser p;
  ASSERT_EQ(p.parse(out, back, consumed), ParseStatus::Done) << p.error().message;
  EXPECT_EQ(consumed, out.size());
  EXPECT_EQ(back.method, "PUT");
  EXPECT_EQ(back.path, "/x");
  EXPECT_EQ(back.query, "y");
  EXPECT_EQ(back.content_length, 3u);
  EXPECT_EQ(names(back.headers), names(r.headers));
}

TEST(HttpMessage, HopByHopNames) {
  for (const char* n :
       {"Connection", "keep-alive", "Proxy-Connection", "TE", "te", "Transfer-Encoding", "Upgrade",
        "Trailer", "Proxy-Authenticate", "PROXY-AUTHORIZATION"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
  for (const char* n : {"Host", "Content-Length", "Trailers", "Te-X", "Cookie", "Authorization",
                        "Upgrade-Insecure-Requests", ""})
    EXPECT_FALSE(is_hop_by_hop(n)) << n;
}

TEST(HttpMessage, RemoveHopByHopIncludingConnectionNamed) {
  Headers h;
  h.add("Host", "a");
  h.add("Connection", "keep-alive, X-Private ,x-other");
  h.add("Keep-Alive", "timeout=5");
  h.add("X-Private", "1");
  h.add("Accept", "*/*");
  h.add("connection", "X-Third");
  h.add("X-OTHER", "2");
  h.add("x-third", "3");
  h.add("Transfer-Encoding", "chunked");
  h.add("Upgrade", "websocket");
  h.add("X-Keep", "4");
  remove_hop_by_hop(h);
  EXPECT_EQ(names(h), (std::vector<std::string>{"Host", "Accept", "X-Keep"}));
}

TEST(HttpMessage, RemoveHopByHopNeverDropsHostOrContentLength) {
  Headers h;
  h.add("Host", "a");
  h.add("Content-Length", "3");
  h.add("Connection", "host, content-length, , X-A");
  h.add("X-A", "1");
  remove_hop_by_hop(h);
  EXPECT_EQ(names(h), (std::vector<std::string>{"Host", "Content-Length"}));
}

}  // namespace
}  // namespace eg::http
