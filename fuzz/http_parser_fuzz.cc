// Feeds the input to the HTTP/1.1 parsers the way a connection would, and checks what the
// rest of the proxy relies on:
//  - RequestParser, message after message (pipelining): a Done head has a token method, a
//    non-empty target and path, header names that are tokens and values without CR, LF,
//    NUL or surrounding whitespace, consistent framing; the body is skipped (Content-Length)
//    or decoded by ChunkedDecoder;
//  - the same bytes split at another point, or fed one byte at a time, give the same answer
//    (status, error status and message, consumed, decoded body);
//  - a parsed HTTP/1.1 request serialized again parses back to the same fields;
//  - ResponseParser on the same bytes (for GET and HEAD) with the same split rule.
// Any violation aborts, so libFuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/parser.h"

namespace {

using namespace eg::http;

void check(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "http_parser_fuzz: %s\n", what);
  abort();
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_headers(const Headers& h) {
  for (const auto& f : h) {
    check(!f.name.empty(), "empty header name");
    for (char c : f.name) check(is_tchar(c), "header name is not a token");
    for (char c : f.value)
      check(c != '\r' && c != '\n' && c != '\0', "CR, LF or NUL in a header value");
    if (!f.value.empty()) {
      check(f.value.front() != ' ' && f.value.front() != '\t', "leading OWS kept");
      check(f.value.back() != ' ' && f.value.back() != '\t', "trailing OWS kept");
    }
  }
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct HeadResult {
  ParseStatus status;
  size_t consumed = 0;
  ParseError error;
  Request req;
};

// kind 0: all at once; 1: two pieces cut at `cut`; 2: one byte more per call.
HeadResult parse_request(std::string_view data, const ParserLimits& limits, int kind, size_t cut) {
  HeadResult r;
  RequestParser p(limits);
  r.status = ParseStatus::Incomplete;
  if (kind == 0) {
    r.status = p.parse(data, r.req, r.consumed);
  } else if (kind == 1) {
    r.status = p.parse(data.substr(0, cut), r.req, r.consumed);
    if (r.status == ParseStatus::Incomplete) r.status = p.parse(data, r.req, r.consumed);
  } else {
    for (size_t n = 0; n <= data.size() && r.status == ParseStatus::Incomplete; ++n)
      r.status = p.parse(data.substr(0, n), r.req, r.consumed);
  }
  r.error = p.error();
  return r;
}

void same(const HeadResult& a, const HeadResult& b) {
  check(a.status == b.status, "split changed the status");
  if (a.status == ParseStatus::Error) {
    check(a.error.status == b.error.status, "split changed the error status");
    check(a.error.message == b.error.message, "split changed the error message");
  }
  if (a.status == ParseStatus::Done) {
    check(a.consumed == b.consumed, "split changed consumed");
    check(a.req.method == b.req.method && a.req.target == b.req.target &&
              a.req.path == b.req.path && a.req.query == b.req.query &&
              a.req.headers.size() == b.req.headers.size() && a.req.framing == b.req.framing &&
              a.req.content_length == b.req.content_length && a.req.keep_alive == b.req.keep_alive,
          "split changed the request");
  }
}

void check_request(const HeadResult& r, size_t size, const ParserLimits& limits) {
  if (r.status == ParseStatus::Error) {
    check(!r.error.message.empty(), "error without a message");
    check(r.error.message.find('\n') == std::string::npos, "multi-line error message");
    int s = r.error.status;
    check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505,
          "unexpected request error status");
    return;
  }
  if (r.status != ParseStatus::Done) return;
  const Request& q = r.req;
  check(r.consumed >= 4 && r.consumed <= size, "consumed out of range");
  check(r.consumed <= limits.max_header_bytes, "head larger than the limit accepted");
  check(!q.method.empty(), "empty method");
  for (char c : q.method) check(is_tchar(c), "method is not a token");
  check(!q.target.empty() && !q.path.empty(), "empty target or path");
  for (unsigned char c : q.target) check(c > 0x20 && c < 0x7f, "bad byte in target");
  check(q.headers.size() <= limits.max_header_count, "more headers than the limit");
  check_headers(q.headers);
  if (q.version == Version::Http11)
    check(q.headers.count("Host") == 1, "HTTP/1.1 without one Host");
  check(q.headers.count("Content-Length") <= 1, "two Content-Length accepted");
  check(!(q.headers.contains("Content-Length") && q.headers.contains("Transfer-Encoding")),
        "Content-Length and Transfer-Encoding accepted together");
  if (q.framing == BodyFraming::Chunked) check(q.headers.contains("Transfer-Encoding"), "chunked?");
  if (q.framing == BodyFraming::ContentLength)
    check(q.content_length <= limits.max_body_bytes, "body above the limit accepted");
  check(q.framing != BodyFraming::UntilClose, "request framed until close");
}

// A parsed HTTP/1.1 request, serialized again, parses back to the same fields.
void check_round_trip(const Request& q, const ParserLimits& limits) {
  if (q.version != Version::Http11) return;
  std::string wire;
  serialize_head(q, q.target, wire);
  ParserLimits roomy = limits;
  roomy.max_header_bytes = limits.max_header_bytes * 2 + 64;  // ": " may add a byte per line
  RequestParser p(roomy);
  Request back;
  size_t consumed = 0;
  check(p.parse(wire, back, consumed) == ParseStatus::Done, "serialized request does not parse");
  check(consumed == wire.size(), "serialized request: consumed");
  check(back.method == q.method && back.target == q.target && back.path == q.path &&
            back.query == q.query && back.has_query == q.has_query,
        "serialized request: request line changed");
  check(back.headers.size() == q.headers.size(), "serialized request: header count changed");
  for (size_t i = 0; i < q.headers.size(); ++i)
    check(back.headers.list()[i].name == q.headers.list()[i].name &&
              back.headers.list()[i].value == q.headers.list()[i].value,
          "serialized request: header changed");
  check(back.framing == q.framing && back.content_length == q.content_length &&
            back.keep_alive == q.keep_alive && back.expect_continue == q.expect_continue,
        "serialized request: framing changed");
}

struct ChunkResult {
  ParseStatus status = ParseStatus::Incomplete;
  size_t consumed = 0;
  std::string body;
  ParseError error;
};

ChunkResult decode(std::string_view data, uint64_t max, size_t cut) {
  ChunkResult r;
  ChunkedDecoder d(max);
  size_t c = 0;
  r.status = d.feed(data.substr(0, cut), c, r.body);
  r.consumed = c;
  if (r.status == ParseStatus::Incomplete) {
    check(c == cut, "Incomplete chunked feed did not take everything");
    r.status = d.feed(data.substr(cut), c, r.body);
    r.consumed += c;
  }
  check(r.consumed <= data.size(), "chunked consumed out of range");
  check(d.decoded_bytes() == r.body.size(), "decoded_bytes differs from the output");
  check(r.body.size() <= max, "chunked body above the limit");
  if (r.status == ParseStatus::Incomplete)
    check(r.consumed == data.size(), "Incomplete kept bytes");
  r.error = d.error();
  return r;
}

void check_chunked(std::string_view body, uint64_t max, uint64_t h) {
  ChunkResult whole = decode(body, max, body.size());
  ChunkResult split = decode(body, max, body.empty() ? 0 : size_t(h % (body.size() + 1)));
  check(whole.status == split.status, "chunked: split changed the status");
  check(whole.body == split.body, "chunked: split changed the body");
  if (whole.status != ParseStatus::Error)  // after an error, consumed says nothing
    check(whole.consumed == split.consumed, "chunked: split changed consumed");
  if (whole.status == ParseStatus::Error) {
    check(whole.error.message == split.error.message, "chunked: split changed the error");
    check(whole.error.status == 400 || whole.error.status == 413, "chunked: error status");
  }
  if (body.size() <= 256) {  // one byte per call
    ChunkedDecoder d(max);
    std::string out;
    size_t total = 0, c = 0;
    ParseStatus st = ParseStatus::Incomplete;
    for (size_t i = 0; i < body.size() && st == ParseStatus::Incomplete; ++i) {
      st = d.feed(body.substr(i, 1), c, out);
      total += c;
    }
    check(st == whole.status && out == whole.body, "chunked: byte by byte differs");
    if (st != ParseStatus::Error) check(total == whole.consumed, "chunked: byte by byte consumed");
  }
}

void check_response(std::string_view data, std::string_view method, uint64_t h) {
  ParserLimits limits;
  limits.max_header_bytes = 4096;
  ResponseParser p(limits), q(limits);
  Response a, b;
  size_t ca = 0, cb = 0;
  ParseStatus sa = p.parse(data, method, a, ca);
  size_t cut = data.empty() ? 0 : size_t(h % (data.size() + 1));
  ParseStatus sb = q.parse(data.substr(0, cut), method, b, cb);
  if (sb == ParseStatus::Incomplete) sb = q.parse(data, method, b, cb);
  check(sa == sb, "response: split changed the status");
  if (sa == ParseStatus::Error) {
    check(p.error().status == 502 && q.error().status == 502, "response: error status");
    check(p.error().message == q.error().message, "response: split changed the error");
  }
  if (sa != ParseStatus::Done) return;
  check(ca == cb && ca <= data.size(), "response: consumed");
  check(a.status >= 100 && a.status <= 599, "response: status out of range");
  check_headers(a.headers);
  bool no_body = method == "HEAD" || a.status < 200 || a.status == 204 || a.status == 304;
  if (no_body) check(a.framing == BodyFraming::None, "response: body where there is none");
  if (a.framing == BodyFraming::UntilClose) check(!a.keep_alive, "response: until close kept");
  std::string wire;
  serialize_head(a, wire);
  check(wire.size() >= 17 && wire.compare(wire.size() - 4, 4, "\r\n\r\n") == 0,
        "response: serialized head");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint64_t h = fnv1a(data);

  // Requests, with the default limits and with small ones (so the limits get hit).
  ParserLimits small;
  small.max_request_line = 64;
  small.max_header_bytes = 256;
  small.max_header_count = 8;
  small.max_body_bytes = 64;
  for (const ParserLimits& limits : {ParserLimits{}, small}) {
    std::string_view rest = data;
    for (int message = 0; message < 8 && !rest.empty(); ++message) {
      size_t cut = size_t((h >> (message * 4)) % (rest.size() + 1));
      HeadResult whole = parse_request(rest, limits, 0, 0);
      check_request(whole, rest.size(), limits);
      same(whole, parse_request(rest, limits, 1, cut));
      if (rest.size() <= 1024) same(whole, parse_request(rest, limits, 2, 0));
      if (whole.status != ParseStatus::Done) break;
      check_round_trip(whole.req, limits);
      rest.remove_prefix(whole.consumed);
      if (whole.req.framing == BodyFraming::ContentLength) {
        if (rest.size() < whole.req.content_length) break;
        rest.remove_prefix(size_t(whole.req.content_length));
      } else if (whole.req.framing == BodyFraming::Chunked) {
        check_chunked(rest, limits.max_body_bytes, h);
        ChunkResult r = decode(rest, limits.max_body_bytes, rest.size());
        if (r.status != ParseStatus::Done) break;
        rest.remove_prefix(r.consumed);
      }
      if (!whole.req.keep_alive) break;
    }
  }

  // The input as a chunked body on its own, and as a response.
  check_chunked(data, h & 1 ? 1024 : UINT64_MAX, h);
  check_response(data, (h & 2) ? "HEAD" : "GET", h);
  return 0;
}
