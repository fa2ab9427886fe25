// What the web ACL engine sees of a request. Narrow on purpose: the engine does not know the
// proxy's connection types, so it is unit tested and fuzzed by building one of these.
#pragma once
#include <cstdint>
#include <string_view>

#include "http/message.h"
#include "waf/ip_address.h"

namespace eg::waf {

struct Request {
  IpAddress client_ip;            // the connection's peer address
  std::string_view method;        // "GET"
  std::string_view uri_path;      // as received, not decoded or normalised
  std::string_view query_string;  // after '?', without it
  const http::Headers& headers;   // wire order, names as received
  std::string_view body;          // what has been read (the proxy buffers it)
  std::string_view ja3;           // 32 hex chars when the TLS listener saw a ClientHello
  std::string_view ja4;           // 36 chars, likewise
  std::string_view request_id;
  bool https = false;
  int64_t now_ms = 0;  // wall clock, ms since the epoch (tokens, logs, rate windows)
};

}  // namespace eg::waf
