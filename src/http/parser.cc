// Strict HTTP/1.1 head parsing and chunked decoding (RFC 9112).
//
// A head is read line by line by scan_head(), which keeps its progress in HeadScan so that
// a head fed in small pieces costs linear time. Every check is a function of a prefix of
// the bytes and is applied, in stream order, as soon as the bytes it needs are there:
//  - within a line, left to right: an invalid byte is reported when it arrives (a CR that
//    may start the line's CRLF waits for the next byte);
//  - when a line ends: CRLF, what the line must contain (a colon, a version), and what the
//    field means (Content-Length, Transfer-Encoding, Host, ...);
//  - limits are windows: the scan never looks past max_header_bytes, nor past
//    max_request_line (+CRLF) in the request line; a window that fills up without its line
//    end is the error, after the bytes inside it were checked;
//  - when the head is complete: what needs all of it (missing Host, the final transfer
//    coding, the body size limit). Then one pass copies the head into the message.
// So the same bytes give the same answer, error message included, however they are split
// across calls, and a client sending garbage is answered without waiting for its head end.
#include "http/parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace eg::http {

namespace {

using detail::HeadScan;
using detail::LineCheck;

// ---- character classes -----------------------------------------------------------------

constexpr uint8_t kTchar = 1;   // RFC 9110 token character
constexpr uint8_t kValue = 2;   // field-value byte: HTAB, SP, VCHAR, obs-text
constexpr uint8_t kTarget = 4;  // request-target byte: VCHAR (no CTL, SP, DEL, >= 0x80)
constexpr uint8_t kHost = 8;    // Host / authority byte: unreserved, sub-delims but ',', ':[]%'
constexpr uint8_t kHex = 16;
constexpr uint8_t kDigit = 32;

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
    if (digit) v |= kDigit;
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

// Eight bytes at a time for the long runs (targets, values): a word is skipped when it
// holds no byte that needs a closer look, the byte loop decides otherwise.
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;
inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline bool any_less(uint64_t x, uint8_t n) { return ((x - kOnes * n) & ~x & kHigh) != 0; }
inline bool any_more(uint64_t x, uint8_t n) { return (((x + kOnes * (127 - n)) | x) & kHigh) != 0; }
inline bool any_equal(uint64_t x, uint8_t c) {
  uint64_t y = x ^ (kOnes * c);
  return ((y - kOnes) & ~y & kHigh) != 0;
}
// Skips bytes in 0x21..0x7e (request-target).
inline size_t skip_target(std::string_view l, size_t i) {
  for (;;) {
    while (i + 8 <= l.size()) {
      uint64_t x = load8(l.data() + i);
      if (any_less(x, 0x21) || any_more(x, 0x7e)) break;
      i += 8;
    }
    size_t stop = std::min(i + 8, l.size());
    while (i < stop && is(l[i], kTarget)) ++i;
    if (i < stop || i == l.size()) return i;
  }
}
// Skips field-value bytes (HTAB, SP, VCHAR, obs-text).
inline size_t skip_value(std::string_view l, size_t i) {
  for (;;) {
    while (i + 8 <= l.size()) {
      uint64_t x = load8(l.data() + i);
      if (any_less(x, 0x20) || any_equal(x, 0x7f)) break;
      i += 8;
    }
    size_t stop = std::min(i + 8, l.size());
    while (i < stop && is(l[i], kValue)) ++i;
    if (i < stop || i == l.size()) return i;
  }
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Untrusted bytes quoted in an error message: printable ASCII as is, the rest as \xHH,
// at most 64 bytes.
std::string quote(std::string_view s) {
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
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 15]);
    }
  }
  if (s.size() > n) out += "...";
  out.push_back('\'');
  return out;
}

std::string describe_byte(char c) {
  std::string out = "0x";
  out.push_back(kHexDigits[uint8_t(c) >> 4]);
  out.push_back(kHexDigits[uint8_t(c) & 15]);
  return out;
}

ParseStatus fail(ParseError& e, int status, std::string message) {
  e.status = status;
  e.message = std::move(message);
  return ParseStatus::Error;
}

// ---- request-target ----------------------------------------------------------------------

struct TargetParts {
  std::string_view path;  // "/" when an absolute-form target has no path
  std::string_view query;
  bool has_query = false;
};

bool parse_target(std::string_view method, std::string_view target, TargetParts& out,
                  ParseError& err) {
  std::string_view rest;  // path [ "?" query ]
  if (target[0] == '/') {
    rest = target;
  } else if (target == "*") {
    if (method != "OPTIONS") {
      fail(err, 400, "asterisk-form request-target is only allowed with OPTIONS");
      return false;
    }
    out.path = target;
    return true;
  } else {
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    size_t i = 0;
    auto scheme_char = [&](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.'));
    };
    while (i < target.size() && scheme_char(target[i])) ++i;
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
  out.path = rest.substr(0, q);
  if (out.path.empty()) out.path = "/";
  out.has_query = q != std::string_view::npos;
  if (out.has_query) out.query = rest.substr(q + 1);
  return true;
}

// ---- line syntax, resumable ------------------------------------------------------------
// A checker gets the line so far (`complete`: the whole line, without its CRLF) and resumes
// where it stopped (LineCheck). More: nothing wrong yet, the line goes on.

enum class Check : uint8_t { Ok, More, Error };

Check error(ParseError& e, int status, std::string message) {
  fail(e, status, std::move(message));
  return Check::Error;
}

// request-line = method SP request-target SP HTTP-version
Check check_request_line(std::string_view l, bool complete, LineCheck& s, ParseError& err) {
  auto bare_cr = [&] { return error(err, 400, "bare CR in the request line"); };
  size_t i = s.checked;
  const size_t n = l.size();
  if (s.mark == 0) {  // method
    while (i < n && is(l[i], kTchar)) ++i;
    if (i == n) {
      s.checked = i;
      return complete ? error(err, 400, "request line has no request-target") : Check::More;
    }
    if (l[i] == '\r') return bare_cr();
    if (i == 0)
      return error(
          err, 400,
          "invalid character " + describe_byte(l[0]) + " at the start of the request line");
    if (l[i] != ' ')
      return error(err, 400, "invalid character " + describe_byte(l[i]) + " in method");
    s.mark = i++;
  }
  if (s.mark2 == 0) {  // request-target
    i = skip_target(l, i);
    if (i == n) {
      s.checked = i;
      if (!complete) return Check::More;
      return error(err, 400,
                   i == s.mark + 1 ? "request line has no request-target"
                                   : "request line has no HTTP version");
    }
    if (l[i] == '\r') return bare_cr();
    if (l[i] == ' ' && i == s.mark + 1)
      return error(err, 400, "more than one space after the method");
    if (l[i] != ' ')
      return error(err, 400, "invalid character " + describe_byte(l[i]) + " in request-target");
    TargetParts parts;
    if (!parse_target(l.substr(0, s.mark), l.substr(s.mark + 1, i - s.mark - 1), parts, err))
      return Check::Error;
    s.mark2 = i++;
  }
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, checked byte by byte
  static constexpr std::string_view kPattern = "HTTP/#.#";
  const size_t v0 = s.mark2 + 1;
  for (; i < n && i - v0 < kPattern.size(); ++i) {
    char want = kPattern[i - v0];
    if (want == '#' ? !is_digit(l[i]) : l[i] != want) {
      if (l[i] == '\r') return bare_cr();
      return error(err, 400, "invalid HTTP version " + quote(l.substr(v0, i - v0 + 1)));
    }
  }
  s.checked = i;
  if (i - v0 < kPattern.size())
    return complete ? error(err, 400, "invalid HTTP version " + quote(l.substr(v0))) : Check::More;
  int v = (l[v0 + 5] - '0') * 10 + (l[v0 + 7] - '0');
  if (v != 10 && v != 11)
    return error(err, 505, "unsupported HTTP version " + quote(l.substr(v0, kPattern.size())));
  if (n > i) {
    if (l[i] == '\r') return bare_cr();
    return error(err, 400, "invalid HTTP version " + quote(l.substr(v0, i - v0 + 1)));
  }
  return complete ? Check::Ok : Check::More;
}

// field-line = field-name ":" OWS field-value OWS; `prev` is the line before (for obs-fold).
Check check_field_line(std::string_view l, bool complete, LineCheck& s, std::string_view prev,
                       bool first, ParseError& err, int bad) {
  size_t i = s.checked;
  const size_t n = l.size();
  if (i == 0 && n > 0 && is_ows(l[0])) {
    if (first) return error(err, bad, "whitespace before the first header line");
    return error(err, bad,
                 "obsolete line folding in header " + quote(prev.substr(0, prev.find(':'))));
  }
  if (s.mark == 0) {  // field-name
    while (i < n && is(l[i], kTchar)) ++i;
    if (i == n) {
      s.checked = i;
      return complete ? error(err, bad, "header line without a colon: " + quote(l)) : Check::More;
    }
    if (l[i] != ':') {
      if (l[i] == '\r') return error(err, bad, "bare CR in the header section");
      if (is_ows(l[i]))
        return error(err, bad, "whitespace before the colon in header " + quote(l.substr(0, i)));
      return error(err, bad,
                   "invalid character " + describe_byte(l[i]) + " in header name" +
                       (i > 0 ? " after " + quote(l.substr(0, i)) : std::string()));
    }
    if (i == 0) return error(err, bad, "empty header name");
    s.mark = i++;
  }
  i = skip_value(l, i);
  if (i < n) {
    std::string what = l[i] == '\r' ? "bare CR" : "control character " + describe_byte(l[i]);
    return error(err, bad, what + " in header " + quote(l.substr(0, s.mark)));
  }
  s.checked = i;
  return complete ? Check::Ok : Check::More;
}

struct StatusLine {
  int version = 11;
  int status = 0;
  std::string_view reason;
};

// status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing SP after the code
// when there is no reason is tolerated (common, and unambiguous). Checked once complete.
bool parse_status_line(std::string_view line, StatusLine& out, ParseError& err) {
  static constexpr std::string_view kPattern = "HTTP/#.#";
  bool syntax = line.size() >= 12 && line[8] == ' ';
  for (size_t i = 0; syntax && i < kPattern.size(); ++i)
    syntax = kPattern[i] == '#' ? is_digit(line[i]) : line[i] == kPattern[i];
  if (!syntax) {
    fail(err, 502, "invalid status line " + quote(line));
    return false;
  }
  out.version = (line[5] - '0') * 10 + (line[7] - '0');
  if (out.version != 10 && out.version != 11) {
    fail(err, 502, "unsupported HTTP version " + quote(line.substr(0, 8)));
    return false;
  }
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    fail(err, 502, "invalid status code in " + quote(line));
    return false;
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (out.status < 100 || out.status > 599) {
    fail(err, 502, "invalid status code " + std::to_string(out.status));
    return false;
  }
  out.reason = line.size() > 12 ? line.substr(13) : std::string_view();
  for (char c : out.reason) {
    if (!is(c, kValue)) {
      fail(err, 502, "control character " + describe_byte(c) + " in reason phrase");
      return false;
    }
  }
  return true;
}

// ---- what fields mean, applied when a field line is complete ---------------------------

// Calls fn(element) for each comma-separated element, OWS trimmed (empty ones included).
template <class Fn>
void for_each_element(std::string_view v, Fn&& fn) {
  size_t pos = 0;
  for (;;) {
    size_t comma = v.find(',', pos);
    fn(trim_ows(v.substr(pos, comma == std::string_view::npos ? comma : comma - pos)));
    if (comma == std::string_view::npos) return;
    pos = comma + 1;
  }
}

// `name` (a checked token) equals `lower` (lowercase) ignoring case: for token characters,
// setting bit 0x20 lowercases a letter and changes nothing else that could match.
inline bool name_is(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if ((name[i] | 0x20) != lower[i]) return false;
  return true;
}

// `base` is where the buffer starts, to remember positions across calls.
bool apply_field(std::string_view name, std::string_view value, const char* base, HeadScan& s,
                 ParseError& err, int bad, bool request) {
  switch (name.size()) {
    case 14:
      if (!name_is(name, "content-length")) break;
      if (s.has_cl) return fail(err, bad, "duplicate Content-Length"), false;
      s.has_cl = true;
      if (value.empty()) return fail(err, bad, "empty Content-Length"), false;
      if (!all_of(value, kDigit))
        return fail(err, bad, "invalid Content-Length " + quote(value)), false;
      if (value.size() > 19) return fail(err, bad, "Content-Length out of range"), false;
      s.content_length = 0;  // 19 digits always fit in 64 bits
      for (char c : value) s.content_length = s.content_length * 10 + uint64_t(c - '0');
      if (s.has_te) return fail(err, bad, "both Content-Length and Transfer-Encoding"), false;
      break;
    case 17:
      if (!name_is(name, "transfer-encoding")) break;
      if (s.has_cl) return fail(err, bad, "both Content-Length and Transfer-Encoding"), false;
      s.has_te = true;
      for_each_element(value, [&](std::string_view coding) {
        if (coding.empty() || !all_of(coding, kTchar)) {
          s.te_invalid = true;  // empty list element, parameters, quotes, spaces inside
          return;
        }
        if (s.te_chunked) s.te_chunked_not_last = true;
        if (coding.size() == 7 && iequals(coding, "chunked")) {
          s.te_chunked = true;
        } else if (s.te_unknown_len == 0) {
          s.te_unknown_pos = size_t(coding.data() - base);
          s.te_unknown_len = coding.size();
        }
      });
      break;
    case 4:
      if (!request || !name_is(name, "host")) break;
      if (++s.host_count > 1) return fail(err, bad, "duplicate Host"), false;
      if (!all_of(value, kHost)) return fail(err, bad, "invalid Host " + quote(value)), false;
      break;
    case 10:
      if (!name_is(name, "connection")) break;
      for_each_element(value, [&](std::string_view tok) {
        if (tok.size() == 5 && iequals(tok, "close")) s.conn_close = true;
        if (tok.size() == 10 && iequals(tok, "keep-alive")) s.conn_keep_alive = true;
      });
      break;
    case 6:
      if (request && name_is(name, "expect") && iequals(value, "100-continue"))
        s.expect_continue = true;
      break;
    default:
      break;
  }
  return true;
}

// Transfer-Encoding once the head is complete: only "chunked", once, last.
bool check_transfer_encoding(const HeadScan& s, const char* base, ParseError& err, int bad,
                             int unknown_status) {
  if (s.te_invalid) return fail(err, bad, "invalid Transfer-Encoding"), false;
  if (s.te_chunked_not_last)
    return fail(err, bad, "chunked is not the final transfer coding"), false;
  if (s.te_unknown_len != 0)
    return fail(err, unknown_status,
                "unsupported transfer coding " +
                    quote(std::string_view(base + s.te_unknown_pos, s.te_unknown_len))),
           false;
  return true;  // exactly one "chunked"
}

// ---- the scan ----------------------------------------------------------------------------

struct ScanRules {
  size_t max_start_line;
  size_t max_head;
  size_t max_headers;
  int start_line_status;  // 414 for requests
  int head_status;        // 431 for requests
  int bad;                // 400 for requests
  bool request;
};

// `sink`, when given, receives the field lines as they are checked (the caller passes it
// when the whole head is read in this call, saving a second pass).
ParseStatus scan_head(std::string_view d, HeadScan& s, const ScanRules& r, ParseError& err,
                      size_t& head_end, Headers* sink) {
  const char* p = d.data();
  const size_t n = d.size();
  if (s.pos > n) s = {};  // not a continuation of the previous call: start over
  const char* start_line = r.request ? "request line" : "status line";
  auto too_big = [&] {
    return fail(err, r.head_status,
                "header section too large (max " + std::to_string(r.max_head) + " bytes)");
  };
  // The scan never looks past the head window.
  const size_t head_cap = r.max_head;
  const size_t window = std::min(n, head_cap);

  if (s.head_begin == SIZE_MAX) {
    // RFC 9112 §2.2: empty lines (CRLF) before the start line are ignored.
    size_t i = s.pos;
    while (i < window) {
      if (p[i] == '\n') return fail(err, r.bad, "bare LF before the " + std::string(start_line));
      if (p[i] != '\r') break;
      if (i + 1 == window) break;
      if (p[i + 1] != '\n')
        return fail(err, r.bad, "bare CR before the " + std::string(start_line));
      i += 2;
    }
    if (i == window || p[i] == '\r') {
      if (n >= head_cap) return too_big();
      s.pos = i;
      return ParseStatus::Incomplete;
    }
    s.head_begin = s.line_begin = s.pos = i;
  }

  for (;;) {
    const bool first = s.lines == 0;
    const size_t b = s.line_begin;
    const size_t line_cap = first ? b + r.max_start_line + 2 : SIZE_MAX;  // content + CRLF
    const size_t cap = std::min(head_cap, line_cap);
    const size_t end = std::min(n, cap);
    const void* lf = std::memchr(p + s.pos, '\n', end - s.pos);
    std::string_view prev(p + s.prev_begin, b - s.prev_begin);
    auto check = [&](std::string_view content, bool complete) {
      if (!first)
        return check_field_line(content, complete, s.line, prev, s.lines == 1, err, r.bad);
      if (r.request) return check_request_line(content, complete, s.line, err);
      return complete ? Check::Ok : Check::More;  // status line: checked once complete
    };

    if (lf == nullptr) {
      // The line goes on: check what there is of it (a final CR may start its CRLF).
      size_t len = end - b;
      if (len > 0 && p[end - 1] == '\r') --len;
      if (check(std::string_view(p + b, len), false) == Check::Error) return ParseStatus::Error;
      if (n >= cap) {
        if (cap == line_cap)
          return fail(err, r.start_line_status,
                      std::string(start_line) + " too long (max " +
                          std::to_string(r.max_start_line) + " bytes)");
        return too_big();
      }
      s.pos = n;
      return ParseStatus::Incomplete;
    }

    const size_t e = size_t(static_cast<const char*>(lf) - p);
    const bool crlf = e > b && p[e - 1] == '\r';
    std::string_view line(p + b, e - b - (crlf ? 1 : 0));
    if (!crlf) {
      if (check(line, false) == Check::Error) return ParseStatus::Error;
      return fail(err, r.bad,
                  first ? std::string(start_line) + " ends with a bare LF"
                        : std::string("header line ends with a bare LF"));
    }
    if (line.empty()) {  // never the start line: leading empty lines were skipped
      head_end = e + 1;
      return ParseStatus::Done;
    }
    if (check(line, true) == Check::Error) return ParseStatus::Error;
    if (!first) {
      std::string_view name = line.substr(0, s.line.mark);
      std::string_view value = trim_ows(line.substr(s.line.mark + 1));
      if (!apply_field(name, value, p, s, err, r.bad, r.request)) return ParseStatus::Error;
      if (sink != nullptr) sink->list().push_back(Header{std::string(name), std::string(value)});
    }
    if (++s.lines > r.max_headers + 1)
      return fail(err, r.head_status,
                  "too many headers (max " + std::to_string(r.max_headers) + ")");
    if (first) s.start = s.line;
    s.prev_begin = b;
    s.line_begin = s.pos = e + 1;
    s.line = {};
  }
}

// Copies the field lines of a complete, checked head (from `pos`, just after the start line)
// into `out`.
void copy_fields(std::string_view head, size_t pos, size_t count, Headers& out) {
  out.clear();
  out.list().reserve(count);
  const char* p = head.data();
  for (;;) {
    const char* lf = static_cast<const char*>(std::memchr(p + pos, '\n', head.size() - pos));
    size_t e = size_t(lf - p) - 1;  // the CR
    if (e == pos) return;           // the empty line
    std::string_view line(p + pos, e - pos);
    pos = e + 2;
    size_t colon = line.find(':');
    std::string_view value = trim_ows(line.substr(colon + 1));
    out.list().push_back(Header{std::string(line.substr(0, colon)), std::string(value)});
  }
}

// The part both parsers share: scan the head, copying fields while they are checked when
// the head arrived in one go (`fresh`; otherwise the caller copies them at the end), and
// once it is complete hand back the scan state and reset it for the next message.
ParseStatus scan_message_head(std::string_view data, HeadScan& scan, const ScanRules& rules,
                              ParseError& error, Headers& headers, size_t& head_end,
                              HeadScan& done, bool& fresh) {
  fresh = scan.pos == 0;
  if (fresh) {
    headers.clear();
    headers.list().reserve(16);
  }
  ParseStatus st = scan_head(data, scan, rules, error, head_end, fresh ? &headers : nullptr);
  if (st == ParseStatus::Incomplete) return st;
  done = scan;
  scan = {};
  return st;
}

}  // namespace

// ---- RequestParser ---------------------------------------------------------------------

ParseStatus RequestParser::parse(std::string_view data, Request& out, size_t& consumed) {
  const ScanRules rules{limits_.max_request_line,
                        limits_.max_header_bytes,
                        limits_.max_header_count,
                        414,
                        431,
                        400,
                        true};
  bool fresh = false;
  size_t head_end = 0;
  HeadScan s;
  ParseStatus st = scan_message_head(data, scan_, rules, error_, out.headers, head_end, s, fresh);
  if (st != ParseStatus::Done) return st;

  std::string_view head = data.substr(s.head_begin, head_end - s.head_begin);
  std::string_view method = head.substr(0, s.start.mark);
  std::string_view target = head.substr(s.start.mark + 1, s.start.mark2 - s.start.mark - 1);
  const bool http11 = head[s.start.mark2 + 8] == '1';
  TargetParts parts;
  parse_target(method, target, parts, error_);  // passed already: this time for its parts

  if (s.has_te) {
    if (!http11) return fail(error_, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!check_transfer_encoding(s, data.data(), error_, 400, 501)) return ParseStatus::Error;
  }
  if (http11 && s.host_count == 0) return fail(error_, 400, "missing Host header");
  if (s.has_cl && s.content_length > limits_.max_body_bytes)
    return fail(error_, 413,
                "Content-Length " + std::to_string(s.content_length) + " exceeds the limit of " +
                    std::to_string(limits_.max_body_bytes) + " bytes");

  out.method.assign(method);
  out.target.assign(target);
  out.path.assign(parts.path);
  out.query.assign(parts.query);
  out.has_query = parts.has_query;
  out.version = http11 ? Version::Http11 : Version::Http10;
  if (!fresh) copy_fields(head, head.find('\n') + 1, s.lines - 1, out.headers);
  out.framing =
      s.has_te ? BodyFraming::Chunked : (s.has_cl ? BodyFraming::ContentLength : BodyFraming::None);
  out.content_length = s.has_cl ? s.content_length : 0;
  out.keep_alive = http11 ? !s.conn_close : (s.conn_keep_alive && !s.conn_close);
  out.expect_continue = s.expect_continue && http11;
  out.body.clear();
  consumed = head_end;
  return ParseStatus::Done;
}

// ---- ResponseParser --------------------------------------------------------------------

ParseStatus ResponseParser::parse(std::string_view data, std::string_view request_method,
                                  Response& out, size_t& consumed) {
  const ScanRules rules{limits_.max_request_line,
                        limits_.max_header_bytes,
                        limits_.max_header_count,
                        502,
                        502,
                        502,
                        false};
  bool fresh = false;
  size_t head_end = 0;
  HeadScan s;
  ParseStatus st = scan_message_head(data, scan_, rules, error_, out.headers, head_end, s, fresh);
  if (st != ParseStatus::Done) return st;

  std::string_view head = data.substr(s.head_begin, head_end - s.head_begin);
  std::string_view line = head.substr(0, head.find('\n') - 1);
  StatusLine sl;
  if (!parse_status_line(line, sl, error_)) return ParseStatus::Error;
  const bool http11 = sl.version == 11;
  if (s.has_te) {
    if (!http11) return fail(error_, 502, "Transfer-Encoding in an HTTP/1.0 response");
    if (!check_transfer_encoding(s, data.data(), error_, 502, 502)) return ParseStatus::Error;
  }

  out.status = sl.status;
  out.reason.assign(sl.reason);
  out.version = http11 ? Version::Http11 : Version::Http10;
  if (!fresh) copy_fields(head, line.size() + 2, s.lines - 1, out.headers);
  out.content_length = s.has_cl ? s.content_length : 0;
  out.keep_alive = http11 ? !s.conn_close : (s.conn_keep_alive && !s.conn_close);
  out.body.clear();
  bool no_body = request_method == "HEAD" || sl.status < 200 || sl.status == 204 ||
                 sl.status == 304 || (request_method == "CONNECT" && sl.status < 300);
  if (no_body) {
    out.framing = BodyFraming::None;
  } else if (s.has_te) {
    out.framing = BodyFraming::Chunked;
  } else if (s.has_cl) {
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
