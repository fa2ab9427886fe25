// A small blocking HTTP/1.1 client (http and https) for control-plane calls: `edgeguard sign
// --send`, AWS API calls (EC2 Query API), fetching documents by URL, SNS subscription
// confirmation. One request per connection (Connection: close).
//
// It blocks the calling thread: never use it on a gateway event loop.
// Responses are parsed by the gateway's own strict parser (http/parser.h).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace eg::aws {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path + "?" + query as given ("/" when empty); no fragment
  std::string path;    // target up to '?'
  std::string query;   // after '?', without it
  // "host" or "host:port" (brackets around IPv6), port only when not the default.
  std::string host_header() const;
};
// http:// and https:// URLs only; userinfo refused. Characters not allowed in a
// request-target (space, controls, non-ASCII, '"', '<', '>', '\\', '^', '`', '{', '|',
// '}') are percent-encoded; existing %XX escapes are kept.
std::optional<Url> parse_url(std::string_view url, std::string& error);

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};  // whole exchange after connecting
  uint64_t max_response_bytes = 16u << 20;        // head + body; beyond it: an error
  bool verify_tls = true;                         // certificate chain and host name
  std::string ca_file;                            // PEM bundle; empty: system store
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;
  // Sent in this order, as given. Host is added (first) when absent, Content-Length when a
  // body is present or the method is POST/PUT/PATCH and it is absent, Connection: close
  // always.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpClientResponse {
  int status = 0;
  std::string reason;
  http::Headers headers;
  std::string body;  // de-chunked
};

struct HttpResult {
  std::optional<HttpClientResponse> response;
  std::string error;  // when no response: says what failed (DNS, connect, TLS, timeout...)
};

HttpResult http_request(const HttpClientRequest& request, const HttpClientOptions& options = {});

// The exact bytes http_request would send (request line, headers, body): `sign` prints them.
std::string serialize_request(const HttpClientRequest& request, const Url& url);

}  // namespace eg::aws
