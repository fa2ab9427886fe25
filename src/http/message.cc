#include "http/message.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/strings.h"

namespace eg::http {

// ---- Headers ---------------------------------------------------------------------------

const std::string* Headers::find(std::string_view name) const {
  for (const auto& h : list_)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

size_t Headers::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& h : list_)
    if (iequals(h.name, name)) ++n;
  return n;
}

void Headers::add(std::string_view name, std::string_view value) {
  list_.push_back(Header{std::string(name), std::string(value)});
}

void Headers::set(std::string_view name, std::string_view value) {
  auto it = std::find_if(list_.begin(), list_.end(),
                         [&](const Header& h) { return iequals(h.name, name); });
  if (it == list_.end()) {
    add(name, value);
    return;
  }
  // The first occurrence keeps its position; later ones go.
  it->name.assign(name);
  it->value.assign(value);
  auto tail = std::remove_if(std::next(it), list_.end(),
                             [&](const Header& h) { return iequals(h.name, name); });
  list_.erase(tail, list_.end());
}

size_t Headers::remove(std::string_view name) {
  auto tail = std::remove_if(list_.begin(), list_.end(),
                             [&](const Header& h) { return iequals(h.name, name); });
  size_t n = size_t(list_.end() - tail);
  list_.erase(tail, list_.end());
  return n;
}

// ---- Versions, reasons -----------------------------------------------------------------

std::string_view to_string(Version v) {
  return v == Version::Http10 ? std::string_view("HTTP/1.0") : std::string_view("HTTP/1.1");
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

// ---- Serialization ---------------------------------------------------------------------

namespace {

// Defense in depth: a value that reached serialization with CR, LF or NUL (a function result
// or config that escaped validation) must not be able to inject a header or split the
// response. Such bytes are replaced by a space; well-formed values are copied as they are.
// Eight bytes at a time: true when some byte is below 0x0E (CR, LF and NUL are). The
// byte-by-byte scan this replaces was ~7% of the instructions of a proxied request.
bool has_byte_below_0x0e(std::string_view v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  const char* p = v.data();
  size_t i = 0, n = v.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    if (((x - kOnes * 0x0E) & ~x & kHighs) != 0) return true;
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(p[i]) < 0x0E) return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
  size_t start = out.size();
  out.append(v);
  if (!has_byte_below_0x0e(v)) return;
  for (size_t i = start; i < out.size(); ++i) {
    char c = out[i];
    if (c == '\r' || c == '\n' || c == '\0') out[i] = ' ';
  }
}

void append_headers(const Headers& h, std::string& out) {
  for (const auto& f : h) {
    append_value(out, f.name);
    out.append(": ", 2);
    append_value(out, f.value);
    out.append("\r\n", 2);
  }
  out.append("\r\n", 2);
}

size_t headers_size(const Headers& h) {
  size_t n = 2;
  for (const auto& f : h) n += f.name.size() + f.value.size() + 4;
  return n;
}

}  // namespace

// We are an HTTP/1.1 implementation: RFC 9110 §6.2 says to send our own version, whatever
// the peer spoke, so both heads always say HTTP/1.1 (the proxy chooses framing accordingly).
void serialize_head(const Response& r, std::string& out) {
  std::string_view reason = r.reason.empty() ? reason_phrase(r.status) : r.reason;
  out.reserve(out.size() + 16 + reason.size() + headers_size(r.headers));
  out.append("HTTP/1.1 ", 9);
  char buf[12];
  auto res = std::to_chars(buf, buf + sizeof buf, r.status);
  out.append(buf, res.ptr);
  out.push_back(' ');
  append_value(out, reason);
  out.append("\r\n", 2);
  append_headers(r.headers, out);
}

void serialize_head(const Request& r, std::string_view target, std::string& out) {
  out.reserve(out.size() + r.method.size() + target.size() + 12 + headers_size(r.headers));
  append_value(out, r.method);
  out.push_back(' ');
  append_value(out, target);
  out.append(" HTTP/1.1\r\n", 11);
  append_headers(r.headers, out);
}

// ---- Hop-by-hop ------------------------------------------------------------------------

bool is_hop_by_hop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return iequals(name, "TE");
    case 7:
      return iequals(name, "Upgrade") || iequals(name, "Trailer");
    case 10:
      return iequals(name, "Connection") || iequals(name, "Keep-Alive");
    case 16:
      return iequals(name, "Proxy-Connection");
    case 17:
      return iequals(name, "Transfer-Encoding");
    case 18:
      return iequals(name, "Proxy-Authenticate");
    case 19:
      return iequals(name, "Proxy-Authorization");
    default:
      return false;
  }
}

void remove_hop_by_hop(Headers& h) {
  // Names listed in Connection are removed too, except the ones a viewer could use to
  // desynchronize us from the origin (framing and routing are ours to decide, not theirs).
  // Copied out: remove_if below moves the Connection values the tokens would point into.
  std::vector<std::string> named;
  for (const auto& f : h) {
    if (f.name.size() != 10 || !iequals(f.name, "Connection")) continue;
    for (std::string_view tok : eg::split(f.value, ',')) {
      tok = eg::trim(tok);
      if (tok.empty() || iequals(tok, "Host") || iequals(tok, "Content-Length")) continue;
      named.emplace_back(tok);
    }
  }
  auto& l = h.list();
  l.erase(std::remove_if(l.begin(), l.end(),
                         [&](const Header& f) {
                           if (is_hop_by_hop(f.name)) return true;
                           for (const auto& n : named)
                             if (iequals(n, f.name)) return true;
                           return false;
                         }),
          l.end());
}

}  // namespace eg::http
