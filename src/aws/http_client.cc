#include "aws/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "http/parser.h"

namespace eg::aws {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Bytes a request-target cannot carry as they are (RFC 3986 / RFC 9112).
bool needs_escape(unsigned char c) {
  return c <= 0x20 || c >= 0x7f ||
         std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) != std::string_view::npos;
}

void append_escaped_target(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    bool lone_percent = c == '%' && !(i + 2 < in.size() && is_hex(in[i + 1]) && is_hex(in[i + 2]));
    if (needs_escape(c) || lone_percent) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// Waits for `events` on fd until `deadline`. False on timeout.
bool wait_fd(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

bool connect_tcp(const Url& url, std::chrono::milliseconds timeout, Fd& sock, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url.port);
  int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    error = "cannot resolve " + url.host + ": " + gai_strerror(rc);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  auto deadline = SteadyClock::now() + timeout;
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    Fd candidate{fd};
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = std::strerror(errno);
        continue;
      }
      if (!wait_fd(fd, POLLOUT, deadline)) {
        error = "connect to " + url.host + ":" + port + " timed out after " +
                std::to_string(timeout.count()) + " ms";
        return false;
      }
      int soerr = 0;
      socklen_t len = sizeof soerr;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      if (soerr != 0) {
        last = std::strerror(soerr);
        continue;
      }
    }
    sock.fd = fd;
    candidate.fd = -1;
    return true;
  }
  error = "cannot connect to " + url.host + ":" + port + ": " + last;
  return false;
}

// Plain or TLS byte stream over a non-blocking socket, with one deadline.
class Stream {
 public:
  Stream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool write_all(std::string_view data, SteadyClock::time_point deadline, std::string& error) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_) {
        size_t written = 0;
        int r = SSL_write_ex(ssl_, data.data(), data.size(), &written);
        if (r <= 0) {
          if (!wait_ssl(r, deadline, error)) return false;
          continue;
        }
        n = static_cast<ssize_t>(written);
      } else {
        n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(fd_, POLLOUT, deadline)) return timeout(error);
            continue;
          }
          error = std::string("send: ") + std::strerror(errno);
          return false;
        }
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Bytes read (0 at end of stream), or -1 with `error`.
  ssize_t read_some(char* buf, size_t cap, SteadyClock::time_point deadline, std::string& error) {
    for (;;) {
      if (ssl_) {
        size_t got = 0;
        int r = SSL_read_ex(ssl_, buf, cap, &got);
        if (r > 0) return static_cast<ssize_t>(got);
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        // An origin that closes without close_notify: treat as end of stream (the parser
        // still catches a truncated Content-Length or chunked body).
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;
        if (e == SSL_ERROR_SSL &&
            ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          ERR_clear_error();
          return 0;
        }
        if (!wait_ssl(r, deadline, error)) return -1;
        continue;
      }
      ssize_t n = recv(fd_, buf, cap, 0);
      if (n >= 0) return n;
      if (errno == EAGAIN || errno == EINTR) {
        if (!wait_fd(fd_, POLLIN, deadline)) {
          timeout(error);
          return -1;
        }
        continue;
      }
      error = std::string("recv: ") + std::strerror(errno);
      return -1;
    }
  }

  bool handshake(SteadyClock::time_point deadline, std::string& error) {
    for (;;) {
      int r = SSL_connect(ssl_);
      if (r == 1) return true;
      if (!wait_ssl(r, deadline, error)) {
        long v = SSL_get_verify_result(ssl_);
        if (v != X509_V_OK)
          error = std::string("TLS certificate verification failed: ") +
                  X509_verify_cert_error_string(v);
        return false;
      }
    }
  }

 private:
  bool timeout(std::string& error) {
    error = "timed out waiting for the server";
    return false;
  }
  bool wait_ssl(int r, SteadyClock::time_point deadline, std::string& error) {
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return wait_fd(fd_, POLLIN, deadline) || timeout(error);
    if (e == SSL_ERROR_WANT_WRITE) return wait_fd(fd_, POLLOUT, deadline) || timeout(error);
    error = "TLS: " + openssl_error();
    return false;
  }

  int fd_;
  SSL* ssl_;
};

bool is_ip_literal(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& h, std::string_view n) {
  for (const auto& [name, value] : h)
    if (iequals(name, n)) return true;
  return false;
}

}  // namespace

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

std::optional<Url> parse_url(std::string_view s, std::string& error) {
  Url u;
  size_t sep = s.find("://");
  if (sep == std::string_view::npos) {
    error = "'" + std::string(s) + "' is not an http:// or https:// URL";
    return std::nullopt;
  }
  u.scheme = to_lower(s.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    error = "unsupported URL scheme '" + u.scheme + "' (http and https only)";
    return std::nullopt;
  }
  std::string_view rest = s.substr(sep + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    error = "URLs with user information ('user@host') are not supported";
    return std::nullopt;
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated '[' in the URL's host";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        error = "unexpected characters after ']' in the URL's host";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    error = "the URL has no host";
    return std::nullopt;
  }
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    auto p = parse_uint(port_text);
    if (!p || *p < 1 || *p > 65535) {
      error = "invalid port '" + std::string(port_text) + "' in the URL";
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(*p);
  }
  rest = rest.substr(0, rest.find('#'));
  std::string target;
  if (rest.empty() || rest[0] == '?') target.push_back('/');
  append_escaped_target(rest, target);
  u.target = target;
  size_t q = target.find('?');
  u.path = target.substr(0, q);
  if (q != std::string::npos) u.query = target.substr(q + 1);
  return u;
}

std::string serialize_request(const HttpClientRequest& request, const Url& url) {
  std::string out = request.method + " " + url.target + " HTTP/1.1\r\n";
  if (!has_header(request.headers, "host")) out += "Host: " + url.host_header() + "\r\n";
  for (const auto& [name, value] : request.headers) out += name + ": " + value + "\r\n";
  bool body_method =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!has_header(request.headers, "content-length") &&
      !has_header(request.headers, "transfer-encoding") && (!request.body.empty() || body_method))
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  if (!has_header(request.headers, "connection")) out += "Connection: close\r\n";
  out += "\r\n";
  out += request.body;
  return out;
}

HttpResult http_request(const HttpClientRequest& request, const HttpClientOptions& options) {
  HttpResult result;
  std::string& error = result.error;
  auto url = parse_url(request.url, error);
  if (!url) return result;

  Fd sock;
  if (!connect_tcp(*url, options.connect_timeout, sock, error)) return result;
  auto deadline = SteadyClock::now() + options.read_timeout;

  std::unique_ptr<SSL_CTX, SslDeleter> ctx;
  std::unique_ptr<SSL, SslDeleter> ssl;
  if (url->scheme == "https") {
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
      error = "TLS: " + openssl_error();
      return result;
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (options.verify_tls) {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      int ok = options.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(ctx.get())
                   : SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr);
      if (ok != 1) {
        error = "TLS: cannot load CA certificates" +
                (options.ca_file.empty() ? std::string() : " from " + options.ca_file) + ": " +
                openssl_error();
        return result;
      }
    }
    ssl.reset(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), sock.fd);
    if (is_ip_literal(url->host)) {
      if (options.verify_tls)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), url->host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl.get(), url->host.c_str());
      if (options.verify_tls) SSL_set1_host(ssl.get(), url->host.c_str());
    }
  }
  Stream stream(sock.fd, ssl.get());
  if (ssl && !stream.handshake(deadline, error)) {
    error = "TLS handshake with " + url->host + ": " + error;
    return result;
  }
  if (!stream.write_all(serialize_request(request, *url), deadline, error)) return result;

  http::ParserLimits limits;
  limits.max_body_bytes = options.max_response_bytes;
  http::ResponseParser parser(limits);
  http::Response head;
  std::string in;
  size_t consumed = 0;
  char buf[16384];
  bool eof = false;
  for (;;) {
    if (!in.empty()) {
      auto st = parser.parse(in, request.method, head, consumed);
      if (st == http::ParseStatus::Error) {
        error = "invalid response from " + url->host + ": " + parser.error().message;
        return result;
      }
      if (st == http::ParseStatus::Done) {
        if (head.status >= 100 && head.status < 200 && head.status != 101) {
          in.erase(0, consumed);
          head = {};
          continue;
        }
        in.erase(0, consumed);
        break;
      }
    }
    if (eof) {
      error = "the connection closed before a complete response head";
      return result;
    }
    if (in.size() > options.max_response_bytes) {
      error = "response head larger than " + std::to_string(options.max_response_bytes) + " bytes";
      return result;
    }
    ssize_t n = stream.read_some(buf, sizeof buf, deadline, error);
    if (n < 0) return result;
    if (n == 0) eof = true;
    in.append(buf, static_cast<size_t>(n));
  }

  HttpClientResponse resp;
  resp.status = head.status;
  resp.reason = head.reason;
  resp.headers = std::move(head.headers);
  auto too_big = [&] {
    error = "response body larger than " + std::to_string(options.max_response_bytes) + " bytes";
    return result;
  };
  switch (head.framing) {
    case http::BodyFraming::None:
      break;
    case http::BodyFraming::ContentLength: {
      if (head.content_length > options.max_response_bytes) return too_big();
      while (in.size() < head.content_length) {
        if (eof) {
          error = "the connection closed after " + std::to_string(in.size()) + " of " +
                  std::to_string(head.content_length) + " body bytes";
          return result;
        }
        ssize_t n = stream.read_some(buf, sizeof buf, deadline, error);
        if (n < 0) return result;
        if (n == 0) eof = true;
        in.append(buf, static_cast<size_t>(n));
      }
      resp.body = in.substr(0, head.content_length);
      break;
    }
    case http::BodyFraming::Chunked: {
      http::ChunkedDecoder decoder(options.max_response_bytes);
      for (;;) {
        size_t used = 0;
        auto st = decoder.feed(in, used, resp.body);
        in.erase(0, used);
        if (st == http::ParseStatus::Done) break;
        if (st == http::ParseStatus::Error) {
          error = "invalid chunked body: " + decoder.error().message;
          return result;
        }
        if (eof) {
          error = "the connection closed in the middle of a chunked body";
          return result;
        }
        ssize_t n = stream.read_some(buf, sizeof buf, deadline, error);
        if (n < 0) return result;
        if (n == 0) eof = true;
        in.append(buf, static_cast<size_t>(n));
      }
      break;
    }
    case http::BodyFraming::UntilClose: {
      resp.body = std::move(in);
      while (!eof) {
        ssize_t n = stream.read_some(buf, sizeof buf, deadline, error);
        if (n < 0) return result;
        if (n == 0) break;
        resp.body.append(buf, static_cast<size_t>(n));
        if (resp.body.size() > options.max_response_bytes) return too_big();
      }
      break;
    }
  }
  if (ssl) SSL_shutdown(ssl.get());
  result.response = std::move(resp);
  return result;
}

}  // namespace eg::aws
