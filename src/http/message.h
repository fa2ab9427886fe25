// HTTP/1.x messages as the pipeline sees them: owned strings, headers in wire order.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"

namespace eg::http {

inline bool iequals(std::string_view a, std::string_view b) { return eg::iequals(a, b); }

struct Header {
  std::string name;   // as received (case preserved); compare with iequals
  std::string value;  // leading/trailing whitespace (OWS) removed
};

// Ordered header list. Linear search is faster than hashing for the usual < 20 headers.
class Headers {
 public:
  const std::string* find(std::string_view name) const;  // first match or nullptr
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  size_t count(std::string_view name) const;
  void add(std::string_view name, std::string_view value);
  // Replaces every header of that name with one (added at the end when absent).
  void set(std::string_view name, std::string_view value);
  size_t remove(std::string_view name);  // returns how many were removed

  std::vector<Header>& list() { return list_; }
  const std::vector<Header>& list() const { return list_; }
  size_t size() const { return list_.size(); }
  bool empty() const { return list_.empty(); }
  void clear() { list_.clear(); }
  auto begin() const { return list_.begin(); }
  auto end() const { return list_.end(); }

 private:
  std::vector<Header> list_;
};

enum class Version : uint8_t { Http10, Http11 };
std::string_view to_string(Version v);  // "HTTP/1.0" / "HTTP/1.1"

// How the body of a message is delimited on the wire (RFC 9112 §6).
enum class BodyFraming : uint8_t { None, ContentLength, Chunked, UntilClose };

struct Request {
  std::string method;  // case-sensitive token, e.g. "GET"
  std::string target;  // the request-target as received (origin-form or absolute-form)
  std::string path;    // target up to '?', for absolute-form the path part only
  std::string query;   // after the first '?', without it; empty when absent
  bool has_query = false;
  Version version = Version::Http11;
  Headers headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;   // when framing == ContentLength
  bool keep_alive = true;        // from version + Connection header
  bool expect_continue = false;  // Expect: 100-continue
  std::string body;              // filled by the connection when the body was read
};

struct Response {
  int status = 200;
  std::string reason;  // empty: the standard reason phrase is used when serialized
  Version version = Version::Http11;
  Headers headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;
  std::string body;
};

std::string_view reason_phrase(int status);

// Appends "HTTP/1.1 200 OK\r\n" + headers + "\r\n" to out. Does not add framing headers.
void serialize_head(const Response& r, std::string& out);
// Appends "METHOD target HTTP/1.1\r\n" + headers + "\r\n" to out.
void serialize_head(const Request& r, std::string_view target, std::string& out);

// Hop-by-hop headers (RFC 9110 §7.6.1) plus those named in Connection: never forwarded.
bool is_hop_by_hop(std::string_view name);
void remove_hop_by_hop(Headers& h);

}  // namespace eg::http
