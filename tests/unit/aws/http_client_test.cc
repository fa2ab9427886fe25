// The blocking HTTP client against a scripted loopback server: framing (Content-Length,
// chunked, close-delimited), interim 100 responses, limits, timeouts and bad answers.
// HTTPS and certificate checks are covered end to end (tests/e2e/test_sign.py).
#include "aws/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace eg::aws {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads the request head (and a Content-Length body), answers with
// `response` and closes. `received` holds the request bytes.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response, std::chrono::milliseconds delay = 0ms)
      : response_(std::move(response)), delay_(delay) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 1);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::string received;

 private:
  void serve() {
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    size_t want = SIZE_MAX;
    while (received.size() < want) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, n);
      size_t end = received.find("\r\n\r\n");
      if (end != std::string::npos && want == SIZE_MAX) {
        size_t cl = received.find("Content-Length: ");
        size_t body = cl == std::string::npos ? 0 : std::stoul(received.substr(cl + 16));
        want = end + 4 + body;
      }
    }
    std::this_thread::sleep_for(delay_);
    size_t off = 0;
    while (off < response_.size()) {
      ssize_t n = write(c, response_.data() + off, response_.size() - off);
      if (n <= 0) break;
      off += n;
    }
    close(c);
  }
  int fd_;
  uint16_t port_;
  std::string response_;
  std::chrono::milliseconds delay_;
  std::thread thread_;
};

TEST(HttpClient, SendsTheRequestAndReadsAContentLengthBody) {
  OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello");
  HttpClientRequest req;
  req.method = "POST";
  req.url = s.url("/a?b=1");
  req.headers = {{"X-Custom", "v"}};
  req.body = "body!";
  auto r = http_request(req);
  ASSERT_TRUE(r.response) << r.error;
  EXPECT_EQ(r.response->status, 200);
  EXPECT_EQ(r.response->body, "hello");
  ASSERT_NE(r.response->headers.find("x-test"), nullptr);
  EXPECT_EQ(s.received, "POST /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port()) +
                            "\r\nX-Custom: v\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                            "body!");
}

TEST(HttpClient, ChunkedAndCloseDelimitedBodies) {
  {
    OneShotServer s(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
        "world\r\n0\r\n\r\n");
    auto r = http_request({"GET", s.url(), {}, ""});
    ASSERT_TRUE(r.response) << r.error;
    EXPECT_EQ(r.response->body, "hello world");
  }
  {
    OneShotServer s("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    auto r = http_request({"GET", s.url(), {}, ""});
    ASSERT_TRUE(r.response) << r.error;
    EXPECT_EQ(r.response->body, "until the end");
  }
}

TEST(HttpClient, SkipsInterimResponses) {
  OneShotServer s(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  auto r = http_request({"PUT", s.url(), {}, "x"});
  ASSERT_TRUE(r.response) << r.error;
  EXPECT_EQ(r.response->status, 201);
  EXPECT_EQ(r.response->body, "ok");
}

TEST(HttpClient, RefusesOversizedAndMalformedResponses) {
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
    HttpClientOptions o;
    o.max_response_bytes = 50;
    auto r = http_request({"GET", s.url(), {}, ""}, o);
    EXPECT_FALSE(r.response);
    EXPECT_NE(r.error.find("larger than 50 bytes"), std::string::npos) << r.error;
  }
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
    auto r = http_request({"GET", s.url(), {}, ""});
    EXPECT_FALSE(r.response);
    EXPECT_NE(r.error.find("invalid response from 127.0.0.1"), std::string::npos) << r.error;
  }
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    auto r = http_request({"GET", s.url(), {}, ""});
    EXPECT_FALSE(r.response);
    EXPECT_NE(r.error.find("closed after 5 of 10 body bytes"), std::string::npos) << r.error;
  }
}

TEST(HttpClient, TimesOut) {
  OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1500ms);
  HttpClientOptions o;
  o.read_timeout = 200ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = http_request({"GET", s.url(), {}, ""}, o);
  EXPECT_FALSE(r.response);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(HttpClient, ParsesUrls) {
  std::string e;
  auto u = parse_url("https://Example.com/a b/é?q=1 2#frag", e);
  ASSERT_TRUE(u) << e;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a%20b/%C3%A9?q=1%202");
  EXPECT_EQ(u->path, "/a%20b/%C3%A9");
  EXPECT_EQ(u->query, "q=1%202");
  EXPECT_EQ(u->host_header(), "Example.com");

  u = parse_url("http://[::1]:8080?x=%41%zz", e);
  ASSERT_TRUE(u) << e;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?x=%41%25zz");
  EXPECT_EQ(u->host_header(), "[::1]:8080");

  EXPECT_FALSE(parse_url("ftp://x/", e));
  EXPECT_EQ(e, "unsupported URL scheme 'ftp' (http and https only)");
  EXPECT_FALSE(parse_url("http://user:pw@x/", e));
  EXPECT_FALSE(parse_url("http://x:99999/", e));
  EXPECT_EQ(e, "invalid port '99999' in the URL");
  EXPECT_FALSE(parse_url("example.com/path", e));
  EXPECT_FALSE(parse_url("http:///path", e));
}

TEST(HttpClient, ConnectionRefusedSaysWhere) {
  // A port nobody listens on: bind one, note it, close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  auto r = http_request({"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, ""});
  EXPECT_FALSE(r.response);
  EXPECT_EQ(r.error,
            "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

}  // namespace
}  // namespace eg::aws
