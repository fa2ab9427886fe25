// Strict HTTP/1.1 parsing (RFC 9112) for requests from viewers and responses from origins.
//
// Strict on purpose: every ambiguity that request smuggling feeds on is an error, never a
// guess. The parser is incremental over a contiguous buffer: call it with everything
// received so far; it answers Incomplete (call again with more), Done (with the number of
// bytes the head used), or Error (with the status to answer and a short reason).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"

namespace eg::http {

enum class ParseStatus : uint8_t { Incomplete, Done, Error };

struct ParseError {
  int status = 400;     // 400, 413, 414, 431, 501 or 505 for requests; 502 for responses
  std::string message;  // one line, says what was wrong, e.g. "duplicate Content-Length"
};

namespace detail {
// Parser state kept between calls, so that a head fed in small pieces costs linear time and
// errors show up as soon as the offending byte arrives (parser.cc). Reset after Done/Error.
struct LineCheck {
  size_t checked = 0;  // bytes of the current line already checked
  size_t mark = 0;     // request line: end of the method; field line: the colon (0: not yet)
  size_t mark2 = 0;    // request line: end of the request-target (0: not yet)
};
struct HeadScan {
  size_t pos = 0;                // bytes of the buffer already searched for LF
  size_t line_begin = 0;         // start of the line being scanned
  size_t prev_begin = 0;         // start of the previous line (names it in errors)
  size_t head_begin = SIZE_MAX;  // start of the start line (after skipped empty lines)
  size_t lines = 0;              // complete lines so far, start line included
  LineCheck line;
  LineCheck start;  // the start line's, once complete
  // What the complete field lines said so far.
  uint64_t content_length = 0;
  size_t te_unknown_pos = 0;  // first transfer coding other than chunked (offset, length)
  size_t te_unknown_len = 0;
  uint32_t host_count = 0;
  bool has_cl = false;
  bool has_te = false;
  bool te_invalid = false;
  bool te_chunked = false;
  bool te_chunked_not_last = false;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool expect_continue = false;
};
}  // namespace detail

struct ParserLimits {
  size_t max_request_line = 8192;      // longer request line -> 414
  size_t max_header_bytes = 20480;     // whole head incl. request line -> 431
  size_t max_header_count = 100;       // -> 431
  uint64_t max_body_bytes = 8u << 20;  // declared Content-Length above it -> 413
};

// Parses a request head. Rejects (status 400 unless noted):
//  - bare CR or bare LF as line terminators (only CRLF is accepted); leading empty lines
//    before the request line are skipped (RFC 9112 §2.2 allows one CRLF)
//  - request line not exactly `token SP request-target SP HTTP/1.x`; versions other than
//    1.0/1.1 -> 505; request line > limit -> 414
//  - obsolete line folding (a header line starting with SP/HTAB)
//  - header names that are not RFC 9110 tokens, whitespace before the colon
//  - control characters (0x00-0x1F except HTAB, and 0x7F) in values
//  - Content-Length and Transfer-Encoding together; more than one Content-Length (even if
//    equal); a Content-Length that is not 1*DIGIT or overflows
//  - Transfer-Encoding other than exactly "chunked" as the final coding -> 501 for unknown
//    codings; "chunked" not last -> 400; Transfer-Encoding in HTTP/1.0 -> 400
//  - a missing Host in HTTP/1.1, more than one Host
//  - head > max_header_bytes or > max_header_count headers -> 431
// In detail (parser.cc): the method is any token (the proxy decides what it serves); the
// request-target is origin-form, absolute-form with an http/https scheme, a host and no
// userinfo (path "/" when empty), or "*" with OPTIONS only; authority-form (CONNECT) is
// rejected, as is any byte <= 0x20, 0x7F or >= 0x80 in the target (percent-encode). Field
// values may hold obs-text (>= 0x80). Host holds only host[:port] characters (no space, ',',
// '/', '@'). Transfer-Encoding is accepted only as a single "chunked" in all its headers:
// any other coding -> 501 ("gzip, chunked" too, as nginx does). Each check fires as soon as
// the bytes it needs have arrived (a bad byte before the head ends, a duplicate
// Content-Length when its line ends), and the answer, message included, does not depend on
// how the bytes were split across calls.
// On Done, fills out.method/target/path/query/version/headers/framing/content_length/
// keep_alive/expect_continue; body is left empty.
//
// Between an Incomplete and the next call, `data` must be the same bytes followed by more
// (the parser remembers how far it has looked); after Done or Error it starts afresh.
class RequestParser {
 public:
  explicit RequestParser(const ParserLimits& limits = {}) : limits_(limits) {}
  ParseStatus parse(std::string_view data, Request& out, size_t& consumed);
  const ParseError& error() const { return error_; }

 private:
  ParserLimits limits_;
  ParseError error_;
  detail::HeadScan scan_;
};

// Parses an origin's response head. `request_method` decides framing for HEAD; 1xx, 204
// and 304 have no body. Framing: chunked if Transfer-Encoding ends in chunked, else
// Content-Length, else UntilClose. Errors (status 502) for the same ambiguities as above.
// 1xx responses other than 101 are reported as Done with their status; the caller skips them.
// As for requests, the only transfer coding accepted is a single "chunked" (anything else is
// a 502: we could not undo it before forwarding); a 2xx answer to CONNECT has no body; the
// status line may omit the SP after the code when there is no reason phrase; Host is not
// checked.
class ResponseParser {
 public:
  explicit ResponseParser(const ParserLimits& limits = {}) : limits_(limits) {}
  ParseStatus parse(std::string_view data, std::string_view request_method, Response& out,
                    size_t& consumed);
  const ParseError& error() const { return error_; }

 private:
  ParserLimits limits_;
  ParseError error_;
  detail::HeadScan scan_;
};

// Incremental decoder for a chunked body. Chunk sizes are 1*HEXDIG (no sign, no spaces,
// at most 16 digits, no overflow); chunk extensions are accepted and ignored when they are
// well formed (`;name[=value]`, no control characters); every chunk must end with CRLF;
// trailers are parsed like headers and discarded. Bare LF is an error everywhere.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(uint64_t max_body_bytes = UINT64_MAX) : max_(max_body_bytes) {}
  // Consumes as much of `in` as it can, appending decoded data to `out`.
  // Done once the last chunk and trailers have been read; `consumed` stops right after them.
  ParseStatus feed(std::string_view in, size_t& consumed, std::string& out);
  const ParseError& error() const { return error_; }
  uint64_t decoded_bytes() const { return total_; }

 private:
  enum class State : uint8_t { Size, SizeExt, SizeLf, Data, DataCr, DataLf, Trailer, Done, Error };
  ParseStatus fail(int status, std::string message);
  State state_ = State::Size;
  uint64_t max_;
  uint64_t remaining_ = 0;
  uint64_t total_ = 0;
  int size_digits_ = 0;
  std::string line_;  // partial extension / trailer line across feeds
  size_t trailer_bytes_ = 0;
  ParseError error_;
};

}  // namespace eg::http
