// Strict HTTP/1.1 head parsing and chunked decoding (RFC 9112).
//
// A head is handled in two steps:
//  1. scan_head(): find the empty line that ends the head. Resumable (HeadScan remembers how
//     far it looked), so a head fed in small pieces costs linear time. It enforces only what
//     can be decided on line boundaries: CRLF line endings, the start-line length, the head
//     size and the number of lines.
//  2. once the head is complete, one pass validates and copies it into the message.
// Errors of step 1 depend only on the bytes, never on how they were split across calls, and
// step 2 only runs on a complete head: the same bytes give the same answer however they
// arrive.
#include "http/parser.h"

#include <array>
#include <cstring>

namespace eg::http {

namespace {

// ---- character classes -----------------------------------------------------------------

constexpr uint8_t kTchar = 1;   // RFC 9110 token character
constexpr uint8_t kValue = 2;   // field-value byte: HTAB, SP, VCHAR, obs-text
constexpr uint8_t kTarget = 4;  // request-target byte: VCHAR (no CTL, SP, DEL, >= 0x80)
constexpr uint8_t kHost = 8;    // Host / authority byte: unreserved, sub-delims but ',', ':[]%'
constexpr uint8_t kHex = 16;

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || digit) v |= kTchar | kHost;
    for (char x : std::string_view("!#$%&'*+-.^_`|~"))
      if (c == x) v |= kTchar;
    for (char x : std::string_view("-._~!$&'()*+;=:[]%"))
      if (c == x) v |= kHost;
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) v |= kValue;
    if (c > 0x20 && c < 0x7f) v |= kTarget;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    t[size_t(c)] = v;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

inline bool is(char c, uint8_t cls) { return (kClass[uint8_t(c)] & cls) != 0; }
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_of(std::string_view s, uint8_t cls) {
  for (char c : s)
    if (!is(c, cls)) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_ows(s[b])) ++b;
  while (e > b && is_ows(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Untrusted bytes quoted in an error message: printable ASCII as is, the rest as \xHH,
// at most 64 bytes.
std::string quote(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min<size_t>(s.size(), 64) + 8);
  out.push_back('\'');
  size_t n = std::min<size_t>(s.size(), 64);
  for (size_t i = 0; i < n; ++i) {
    auto c = uint8_t(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(char(c));
    } else {
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  if (s.size() > n) out += "...";
  out.push_back('\'');
  return out;
}

std::string describe_byte(char c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.push_back(kDigits[uint8_t(c) >> 4]);
  out.push_back(kDigits[uint8_t(c) & 15]);
  return out;
}

ParseStatus fail(ParseError& e, int status, std::string message) {
  e.status = status;
  e.message = std::move(message);
  return ParseStatus::Error;
}

// ---- step 1: find the end of the head --------------------------------------------------

struct ScanRules {
  size_t max_start_line;
  size_t max_head;
  size_t max_headers;
  int start_line_status;   // 414 for requests
  int head_status;         // 431 for requests
  int bad_status;          // 400 for requests
  const char* start_line;  // "request line" / "status line"
};

ParseStatus scan_head(std::string_view d, detail::HeadScan& s, const ScanRules& r, ParseError& err,
                      size_t& head_end) {
  const char* p = d.data();
  const size_t n = d.size();
  if (s.pos > n) s = {};  // not a continuation of the previous call: start over

  auto too_long = [&] {
    return fail(err, r.start_line_status,
                std::string(r.start_line) + " too long (max " + std::to_string(r.max_start_line) +
                    " bytes)");
  };
  auto too_big = [&] {
    return fail(err, r.head_status,
                "header section too large (max " + std::to_string(r.max_head) + " bytes)");
  };

  if (s.head_begin == SIZE_MAX) {
    // RFC 9112 §2.2: empty lines (CRLF) before the start line are ignored.
    size_t i = s.pos;
    while (i < n) {
      if (p[i] == '\n') return fail(err, r.bad_status, "bare LF before the start line");
      if (p[i] != '\r') break;
      if (i + 1 == n) break;
      if (p[i + 1] != '\n') return fail(err, r.bad_status, "bare CR before the start line");
      i += 2;
    }
    if (i == n || p[i] == '\r') {
      if (n > r.max_head) return too_big();
      s.pos = i;
      return ParseStatus::Incomplete;
    }
    s.head_begin = s.line_begin = s.pos = i;
  }

  for (;;) {
    const void* lf = std::memchr(p + s.pos, '\n', n - s.pos);
    if (lf == nullptr) {
      // The line is not complete yet: apply the limits to what is known of it.
      if (s.lines == 0) {
        size_t len = n - s.line_begin;
        if (len > 0 && p[n - 1] == '\r') --len;
        if (len > r.max_start_line) return too_long();
      }
      if (n > r.max_head) return too_big();
      s.pos = n;
      return ParseStatus::Incomplete;
    }
    size_t e = size_t(static_cast<const char*>(lf) - p);
    if (e == s.line_begin || p[e - 1] != '\r')
      return fail(err, r.bad_status,
                  s.lines == 0 ? std::string(r.start_line) + " ends with a bare LF"
                               : std::string("header line ends with a bare LF"));
    size_t len = e - 1 - s.line_begin;
    if (s.lines == 0 && len > r.max_start_line) return too_long();
    if (e + 1 > r.max_head) return too_big();
    if (len == 0) {
      head_end = e + 1;
      return ParseStatus::Done;
    }
    if (++s.lines > r.max_headers + 1)
      return fail(err, r.head_status,
                  "too many headers (max " + std::to_string(r.max_headers) + ")");
    s.line_begin = s.pos = e + 1;
  }
}

// ---- step 2: the header fields ---------------------------------------------------------

// What the framing and connection decisions need from the fields.
struct FieldInfo {
  bool has_cl = false;
  uint64_t cl = 0;
  bool has_te = false;
  bool te_invalid = false;
  bool te_chunked_seen = false;
  bool te_chunked_not_last = false;  // chunked followed by another coding (or itself)
  bool te_last_chunked = false;
  std::string_view te_unknown;  // first coding other than chunked
  int host_count = 0;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool expect_continue = false;
};

bool parse_content_length(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 19) return false;  // 19 digits always fit in 64 bits
  uint64_t x = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    x = x * 10 + uint64_t(c - '0');
  }
  out = x;
  return true;
}

void parse_transfer_encoding(std::string_view v, FieldInfo& f) {
  f.has_te = true;
  size_t pos = 0;
  for (;;) {
    size_t comma = v.find(',', pos);
    std::string_view coding = trim_ows(
        v.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (coding.empty() || !all_of(coding, kTchar)) {
      f.te_invalid = true;  // empty list element, parameters, quotes, spaces inside
    } else if (coding.size() == 7 && iequals(coding, "chunked")) {
      if (f.te_chunked_seen) f.te_chunked_not_last = true;
      f.te_chunked_seen = true;
      f.te_last_chunked = true;
    } else {
      if (f.te_chunked_seen) f.te_chunked_not_last = true;
      f.te_last_chunked = false;
      if (f.te_unknown.empty()) f.te_unknown = coding;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
}

void parse_connection(std::string_view v, FieldInfo& f) {
  size_t pos = 0;
  for (;;) {
    size_t comma = v.find(',', pos);
    std::string_view tok = trim_ows(
        v.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (tok.size() == 5 && iequals(tok, "close")) f.conn_close = true;
    if (tok.size() == 10 && iequals(tok, "keep-alive")) f.conn_keep_alive = true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
}

// Parses the field lines of `head` from `pos` (just after the start line) to the empty line,
// appending them to `out`. Field-specific checks common to requests and responses are done
// here; the caller decides what the collected FieldInfo means for its message.
bool parse_fields(std::string_view head, size_t pos, Headers& out, FieldInfo& f, ParseError& err,
                  int bad, bool request) {
  const char* p = head.data();
  std::string_view prev_name;
  for (;;) {
    // Step 1 guaranteed: every line ends with CRLF and the head ends with an empty line.
    const char* lf = static_cast<const char*>(std::memchr(p + pos, '\n', head.size() - pos));
    size_t e = size_t(lf - p) - 1;  // the CR
    std::string_view line(p + pos, e - pos);
    pos = e + 2;
    if (line.empty()) return true;

    if (is_ows(line[0])) {
      if (prev_name.empty()) {
        fail(err, bad, "whitespace before the first header line");
      } else {
        fail(err, bad, "obsolete line folding in header " + quote(prev_name));
      }
      return false;
    }
    size_t i = 0;
    while (i < line.size() && is(line[i], kTchar)) ++i;
    if (i == line.size()) {
      fail(err, bad, "header line without a colon: " + quote(line));
      return false;
    }
    if (line[i] != ':') {
      std::string_view name = line.substr(0, i);
      if (is_ows(line[i])) {
        fail(err, bad, "whitespace before the colon in header " + quote(name));
      } else {
        fail(err, bad,
             "invalid character " + describe_byte(line[i]) + " in header name " +
                 quote(line.substr(0, line.find(':'))));
      }
      return false;
    }
    if (i == 0) {
      fail(err, bad, "empty header name");
      return false;
    }
    std::string_view name = line.substr(0, i);
    std::string_view value = trim_ows(line.substr(i + 1));
    for (char c : value) {
      if (!is(c, kValue)) {
        fail(err, bad,
             (c == '\r' ? std::string("bare CR") : "control character " + describe_byte(c)) +
                 " in header " + quote(name));
        return false;
      }
    }
    out.list().push_back(Header{std::string(name), std::string(value)});
    prev_name = name;

    switch (name.size()) {
      case 14:
        if (iequals(name, "Content-Length")) {
          if (f.has_cl) {
            fail(err, bad, "duplicate Content-Length");
            return false;
          }
          f.has_cl = true;
          if (value.empty()) {
            fail(err, bad, "empty Content-Length");
            return false;
          }
          if (!parse_content_length(value, f.cl)) {
            bool digits = true;
            for (char c : value) digits = digits && is_digit(c);
            fail(err, bad,
                 digits ? "Content-Length out of range" : "invalid Content-Length " + quote(value));
            return false;
          }
        }
        break;
      case 17:
        if (iequals(name, "Transfer-Encoding")) parse_transfer_encoding(value, f);
        break;
      case 4:
        if (request && iequals(name, "Host")) {
          if (++f.host_count > 1) {
            fail(err, bad, "duplicate Host");
            return false;
          }
          if (!all_of(value, kHost)) {
            fail(err, bad, "invalid Host " + quote(value));
            return false;
          }
        }
        break;
      case 10:
        if (iequals(name, "Connection")) parse_connection(value, f);
        break;
      case 6:
        if (request && iequals(name, "Expect") && iequals(value, "100-continue"))
          f.expect_continue = true;
        break;
      default:
        break;
    }
  }
}

// Transfer-Encoding rules shared by both directions: only "chunked", once, last.
bool check_transfer_encoding(const FieldInfo& f, ParseError& err, int bad, int unknown_status) {
  if (f.te_invalid) {
    fail(err, bad, "invalid Transfer-Encoding");
    return false;
  }
  if (f.te_chunked_not_last) {
    fail(err, bad, "chunked is not the final transfer coding");
    return false;
  }
  if (!f.te_unknown.empty()) {
    fail(err, unknown_status, "unsupported transfer coding " + quote(f.te_unknown));
    return false;
  }
  return true;  // exactly one "chunked"
}

// "HTTP/1.1" -> 11, "HTTP/2.0" -> 20; -1 when not HTTP-version syntax.
int parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' ||
      !is_digit(v[7]))
    return -1;
  return (v[5] - '0') * 10 + (v[7] - '0');
}

bool parse_target(std::string_view method, std::string_view target, Request& out, ParseError& err) {
  std::string_view rest;  // path [ "?" query ]
  if (target[0] == '/') {
    rest = target;
  } else if (target == "*") {
    if (method != "OPTIONS") {
      fail(err, 400, "asterisk-form request-target is only allowed with OPTIONS");
      return false;
    }
    out.path.assign("*");
    out.query.clear();
    out.has_query = false;
    return true;
  } else {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    size_t i = 0;
    while (i < target.size() &&
           ((target[i] >= 'a' && target[i] <= 'z') || (target[i] >= 'A' && target[i] <= 'Z') ||
            (i > 0 &&
             (is_digit(target[i]) || target[i] == '+' || target[i] == '-' || target[i] == '.'))))
      ++i;
    if (i == 0 || target.substr(i, 3) != "://") {
      if (method == "CONNECT") {
        fail(err, 400, "authority-form request-target (CONNECT) is not supported");
      } else {
        fail(err, 400, "invalid request-target " + quote(target));
      }
      return false;
    }
    std::string_view scheme = target.substr(0, i);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
      fail(err, 400, "unsupported scheme " + quote(scheme) + " in request-target");
      return false;
    }
    std::string_view after = target.substr(i + 3);
    size_t end = after.find_first_of("/?");
    std::string_view authority = after.substr(0, end);
    if (authority.empty()) {
      fail(err, 400, "request-target without a host");
      return false;
    }
    if (authority.find('@') != std::string_view::npos) {
      fail(err, 400, "userinfo in request-target");
      return false;
    }
    if (!all_of(authority, kHost)) {
      fail(err, 400, "invalid host in request-target " + quote(authority));
      return false;
    }
    rest = end == std::string_view::npos ? std::string_view() : after.substr(end);
  }
  size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  if (path.empty()) {
    out.path.assign("/");
  } else {
    out.path.assign(path);
  }
  out.has_query = q != std::string_view::npos;
  if (out.has_query) {
    out.query.assign(rest.substr(q + 1));
  } else {
    out.query.clear();
  }
  return true;
}

}  // namespace

// ---- RequestParser ---------------------------------------------------------------------

ParseStatus RequestParser::parse(std::string_view data, Request& out, size_t& consumed) {
  static constexpr const char* kRequestLine = "request line";
  ScanRules rules{limits_.max_request_line,
                  limits_.max_header_bytes,
                  limits_.max_header_count,
                  414,
                  431,
                  400,
                  kRequestLine};
  size_t head_end = 0;
  ParseStatus st = scan_head(data, scan_, rules, error_, head_end);
  if (st == ParseStatus::Incomplete) return st;
  size_t begin = scan_.head_begin;
  size_t lines = scan_.lines;
  scan_ = {};
  if (st == ParseStatus::Error) return st;

  std::string_view head = data.substr(begin, head_end - begin);
  const char* p = head.data();
  size_t eol = size_t(static_cast<const char*>(std::memchr(p, '\n', head.size())) - p) - 1;
  std::string_view line = head.substr(0, eol);

  // request-line = method SP request-target SP HTTP-version
  size_t i = 0;
  while (i < line.size() && is(line[i], kTchar)) ++i;
  if (i == 0) return fail(error_, 400, "request line does not start with a method");
  if (i == line.size() || line[i] != ' ')
    return fail(error_, 400,
                i == line.size() ? std::string("request line has no request-target")
                                 : "invalid character " + describe_byte(line[i]) + " in method");
  std::string_view method = line.substr(0, i);
  size_t t = ++i;
  while (i < line.size() && is(line[i], kTarget)) ++i;
  if (i == t)
    return fail(error_, 400,
                i < line.size() && line[i] == ' ' ? "more than one space after the method"
                                                  : "invalid character in request-target");
  if (i == line.size()) return fail(error_, 400, "request line has no HTTP version");
  if (line[i] != ' ')
    return fail(error_, 400, "invalid character " + describe_byte(line[i]) + " in request-target");
  std::string_view target = line.substr(t, i - t);
  std::string_view version = line.substr(i + 1);
  int v = parse_version(version);
  if (v < 0) return fail(error_, 400, "invalid HTTP version " + quote(version));
  if (v != 10 && v != 11) return fail(error_, 505, "unsupported HTTP version " + quote(version));

  out.method.assign(method);
  out.target.assign(target);
  out.version = v == 11 ? Version::Http11 : Version::Http10;
  out.body.clear();
  if (!parse_target(method, target, out, error_)) return ParseStatus::Error;

  out.headers.clear();
  out.headers.list().reserve(lines - 1);
  FieldInfo f;
  if (!parse_fields(head, eol + 2, out.headers, f, error_, 400, true)) return ParseStatus::Error;

  if (f.has_te) {
    if (f.has_cl) return fail(error_, 400, "both Content-Length and Transfer-Encoding");
    if (out.version == Version::Http10)
      return fail(error_, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!check_transfer_encoding(f, error_, 400, 501)) return ParseStatus::Error;
  }
  if (out.version == Version::Http11 && f.host_count == 0)
    return fail(error_, 400, "missing Host header");
  if (f.has_cl && f.cl > limits_.max_body_bytes)
    return fail(error_, 413,
                "Content-Length " + std::to_string(f.cl) + " exceeds the limit of " +
                    std::to_string(limits_.max_body_bytes) + " bytes");

  out.framing =
      f.has_te ? BodyFraming::Chunked : (f.has_cl ? BodyFraming::ContentLength : BodyFraming::None);
  out.content_length = f.has_cl ? f.cl : 0;
  out.keep_alive =
      out.version == Version::Http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  out.expect_continue = f.expect_continue && out.version == Version::Http11;
  consumed = head_end;
  return ParseStatus::Done;
}

// ---- ResponseParser --------------------------------------------------------------------

ParseStatus ResponseParser::parse(std::string_view data, std::string_view request_method,
                                  Response& out, size_t& consumed) {
  static constexpr const char* kStatusLine = "status line";
  ScanRules rules{limits_.max_request_line,
                  limits_.max_header_bytes,
                  limits_.max_header_count,
                  502,
                  502,
                  502,
                  kStatusLine};
  size_t head_end = 0;
  ParseStatus st = scan_head(data, scan_, rules, error_, head_end);
  if (st == ParseStatus::Incomplete) return st;
  size_t begin = scan_.head_begin;
  size_t lines = scan_.lines;
  scan_ = {};
  if (st == ParseStatus::Error) return st;

  std::string_view head = data.substr(begin, head_end - begin);
  const char* p = head.data();
  size_t eol = size_t(static_cast<const char*>(std::memchr(p, '\n', head.size())) - p) - 1;
  std::string_view line = head.substr(0, eol);

  // status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing SP after
  // the code when there is no reason is tolerated (common, and unambiguous).
  int v = parse_version(line.substr(0, 8));
  if (v < 0 || line.size() < 12 || line[8] != ' ')
    return fail(error_, 502, "invalid status line " + quote(line));
  if (v != 10 && v != 11)
    return fail(error_, 502, "unsupported HTTP version " + quote(line.substr(0, 8)));
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' '))
    return fail(error_, 502, "invalid status code in " + quote(line));
  int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status < 100 || status > 599)
    return fail(error_, 502, "invalid status code " + std::to_string(status));
  std::string_view reason = line.size() > 12 ? line.substr(13) : std::string_view();
  for (char c : reason)
    if (!is(c, kValue))
      return fail(error_, 502, "control character " + describe_byte(c) + " in reason phrase");

  out.status = status;
  out.reason.assign(reason);
  out.version = v == 11 ? Version::Http11 : Version::Http10;
  out.body.clear();
  out.headers.clear();
  out.headers.list().reserve(lines - 1);
  FieldInfo f;
  if (!parse_fields(head, eol + 2, out.headers, f, error_, 502, false)) return ParseStatus::Error;

  if (f.has_te) {
    if (f.has_cl) return fail(error_, 502, "both Content-Length and Transfer-Encoding");
    if (out.version == Version::Http10)
      return fail(error_, 502, "Transfer-Encoding in an HTTP/1.0 response");
    if (!check_transfer_encoding(f, error_, 502, 502)) return ParseStatus::Error;
  }

  out.content_length = f.has_cl ? f.cl : 0;
  out.keep_alive =
      out.version == Version::Http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  bool no_body = request_method == "HEAD" || status < 200 || status == 204 || status == 304 ||
                 (request_method == "CONNECT" && status < 300);
  if (no_body) {
    out.framing = BodyFraming::None;
  } else if (f.has_te) {
    out.framing = BodyFraming::Chunked;
  } else if (f.has_cl) {
    out.framing = BodyFraming::ContentLength;
  } else {
    out.framing = BodyFraming::UntilClose;
    out.keep_alive = false;
  }
  consumed = head_end;
  return ParseStatus::Done;
}

// ---- ChunkedDecoder --------------------------------------------------------------------

namespace {

constexpr size_t kMaxChunkExtension = 4096;
constexpr size_t kMaxTrailerBytes = 16384;

// chunk-ext after the first ";": ext-name [ BWS "=" BWS ext-val ] *( BWS ";" BWS ... )
bool valid_chunk_extensions(std::string_view s) {
  size_t i = 0, n = s.size();
  auto skip_ws = [&] {
    while (i < n && is_ows(s[i])) ++i;
  };
  auto token = [&] {
    size_t b = i;
    while (i < n && is(s[i], kTchar)) ++i;
    return i > b;
  };
  for (;;) {
    skip_ws();
    if (!token()) return false;
    skip_ws();
    if (i < n && s[i] == '=') {
      ++i;
      skip_ws();
      if (i < n && s[i] == '"') {
        ++i;
        for (;;) {
          if (i == n) return false;
          char c = s[i];
          if (c == '"') {
            ++i;
            break;
          }
          if (c == '\\') {
            if (++i == n || !is(s[i], kValue)) return false;
          } else if (!is(c, kValue)) {
            return false;
          }
          ++i;
        }
      } else if (!token()) {
        return false;
      }
      skip_ws();
    }
    if (i == n) return true;
    if (s[i] != ';') return false;
    ++i;
  }
}

// A trailer field line without its CRLF.
bool valid_trailer_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && is(line[i], kTchar)) ++i;
  if (i == 0 || i == line.size() || line[i] != ':') return false;
  for (size_t j = i + 1; j < line.size(); ++j)
    if (!is(line[j], kValue)) return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

ParseStatus ChunkedDecoder::fail(int status, std::string message) {
  state_ = State::Error;
  error_.status = status;
  error_.message = std::move(message);
  return ParseStatus::Error;
}

ParseStatus ChunkedDecoder::feed(std::string_view in, size_t& consumed, std::string& out) {
  const char* p = in.data();
  const size_t n = in.size();
  size_t i = 0;
  consumed = 0;
  if (state_ == State::Error) return ParseStatus::Error;
  while (i < n && state_ != State::Done) {
    switch (state_) {
      case State::Size: {
        char c = p[i];
        if (is(c, kHex)) {
          if (size_digits_ == 16) return fail(400, "chunk size too long (max 16 hex digits)");
          remaining_ = remaining_ * 16 + uint64_t(hex_value(c));
          ++size_digits_;
          ++i;
        } else if (size_digits_ == 0) {
          return fail(400, "invalid chunk size (character " + describe_byte(c) + ")");
        } else if (c == ';') {
          line_.clear();
          state_ = State::SizeExt;
          ++i;
        } else if (c == '\r') {
          state_ = State::SizeLf;
          ++i;
        } else {
          return fail(400, "invalid character " + describe_byte(c) + " after chunk size");
        }
        break;
      }
      case State::SizeExt: {
        const void* cr = std::memchr(p + i, '\r', n - i);
        size_t end = cr ? size_t(static_cast<const char*>(cr) - p) : n;
        if (line_.size() + (end - i) > kMaxChunkExtension)
          return fail(400, "chunk extension too long");
        line_.append(p + i, end - i);
        i = end;
        if (cr) {
          if (!valid_chunk_extensions(line_)) return fail(400, "invalid chunk extension");
          line_.clear();
          state_ = State::SizeLf;
          ++i;
        }
        break;
      }
      case State::SizeLf:
        if (p[i] != '\n') return fail(400, "chunk size line not terminated by CRLF");
        ++i;
        size_digits_ = 0;
        if (remaining_ == 0) {
          trailer_bytes_ = 0;
          line_.clear();
          state_ = State::Trailer;
        } else {
          if (remaining_ > max_ - total_)
            return fail(413, "chunked body larger than " + std::to_string(max_) + " bytes");
          state_ = State::Data;
        }
        break;
      case State::Data: {
        size_t take = size_t(std::min<uint64_t>(remaining_, n - i));
        out.append(p + i, take);
        i += take;
        remaining_ -= take;
        total_ += take;
        if (remaining_ == 0) state_ = State::DataCr;
        break;
      }
      case State::DataCr:
        if (p[i] != '\r') return fail(400, "chunk data not followed by CRLF");
        ++i;
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (p[i] != '\n') return fail(400, "chunk data not followed by CRLF");
        ++i;
        state_ = State::Size;
        break;
      case State::Trailer: {
        const void* lf = std::memchr(p + i, '\n', n - i);
        size_t end = lf ? size_t(static_cast<const char*>(lf) - p) : n;
        trailer_bytes_ += end - i + (lf ? 1 : 0);
        if (trailer_bytes_ > kMaxTrailerBytes)
          return fail(400, "trailer section too large (max " + std::to_string(kMaxTrailerBytes) +
                               " bytes)");
        line_.append(p + i, end - i);
        i = end;
        if (!lf) break;
        ++i;
        if (line_.empty() || line_.back() != '\r') return fail(400, "bare LF in trailer section");
        line_.pop_back();
        if (line_.empty()) {
          state_ = State::Done;
          break;
        }
        if (is_ows(line_[0])) return fail(400, "obsolete line folding in trailer section");
        if (!valid_trailer_line(line_)) return fail(400, "invalid trailer field");
        line_.clear();
        break;
      }
      case State::Done:
      case State::Error:
        break;
    }
  }
  consumed = i;
  return state_ == State::Done ? ParseStatus::Done : ParseStatus::Incomplete;
}

}  // namespace eg::http
