#include "logs/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/http_date.h"

namespace eg::logs {

namespace {

constexpr std::string_view kHeader =
    "#Version: 1.0\n"
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
    "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
    "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end\n";

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

// ---- scanning --------------------------------------------------------------------------
//
// Both escapers copy runs of bytes that need nothing in one memcpy; finding the end of a
// run is the hot loop, done 16 bytes at a time with SSE2 where available (x86-64 always
// has it) and with a lookup table otherwise and for the tail.

// Bytes a CloudFront field writes as %XX: 0-32, >=127 and <>"#%{}|\^~[]'`.
constexpr std::array<bool, 256> make_cf_escape_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c <= 32 || c >= 127;
  for (char c : std::string_view("<>\"#%{}|\\^~[]'`")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kCfEscape = make_cf_escape_table();

// Bytes that cannot be copied into a JSON string as they are: controls, '"', '\\', DEL and
// everything >= 0x80 (which goes through the UTF-8 check).
constexpr std::array<bool, 256> make_json_special_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
  return t;
}
constexpr std::array<bool, 256> kJsonSpecial = make_json_special_table();

#if defined(__SSE2__)
inline __m128i bytes(char c) { return _mm_set1_epi8(c); }
// 0xFF in each lane whose byte is in [lo, lo+width).
inline __m128i in_range(__m128i x, char lo, char width) {
  __m128i off = _mm_sub_epi8(x, bytes(lo));
  return _mm_cmpeq_epi8(_mm_subs_epu8(off, bytes(char(width - 1))), _mm_setzero_si128());
}
#endif

#if defined(__SSE2__)
// Lanes of a 16-byte block a CloudFront field must escape.
inline int cf_special_mask(__m128i x) {
  // Signed compares: "< 0x21" also takes every byte >= 0x80; "> 0x7a" is {|}~ and DEL.
  __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, bytes(0x21)), _mm_cmpgt_epi8(x, bytes(0x7a)));
  m = _mm_or_si128(m, in_range(x, '[', 4));  // [\]^
  m = _mm_or_si128(m, in_range(x, '"', 2));  // "#
  m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, bytes('%')), _mm_cmpeq_epi8(x, bytes('\''))));
  m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, bytes('<')), _mm_cmpeq_epi8(x, bytes('>'))));
  m = _mm_or_si128(m, _mm_cmpeq_epi8(x, bytes('`')));
  return _mm_movemask_epi8(m);
}

// Lanes of a 16-byte block that cannot be copied into a JSON string as they are.
inline int json_special_mask(__m128i x) {
  // Signed "< 0x20" takes the controls and every byte >= 0x80.
  __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, bytes(0x20)), _mm_cmpeq_epi8(x, bytes(0x7f)));
  m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, bytes('"')), _mm_cmpeq_epi8(x, bytes('\\'))));
  return _mm_movemask_epi8(m);
}
#endif

// ---- output ----------------------------------------------------------------------------
//
// A formatter computes an upper bound of what it can write and writes through a raw pointer
// (no capacity check per character) into scratch space of that size: a stack buffer for
// ordinary lines (then one append of the bytes written), else the caller's string grown by
// the bound and trimmed after. The escapers rely on the bound's slack for their speculative
// 16-byte stores (each input byte is budgeted 3 or 6 output bytes, so while 16 or more input
// bytes remain there are at least 48 bytes of room).

struct Writer {
  char* p;

  void put(char c) { *p++ = c; }
  void put(std::string_view v) {
    if (!v.empty()) std::memcpy(p, v.data(), v.size());
    p += v.size();
  }
  void u64(uint64_t v) { p = std::to_chars(p, p + 20, v).ptr; }
  void i64(int64_t v) { p = std::to_chars(p, p + 20, v).ptr; }
  void two(int v) {
    p[0] = char('0' + v / 10);
    p[1] = char('0' + v % 10);
    p += 2;
  }
  void three(int v) {  // 0..999, zero-padded
    p[0] = char('0' + v / 100);
    p[1] = char('0' + v / 10 % 10);
    p[2] = char('0' + v % 10);
    p += 3;
  }
  void year(int64_t y) {
    if (y >= 0 && y <= 9999) {
      two(int(y / 100));
      two(int(y % 100));
    } else {
      i64(y);  // only for clocks that reach beyond 0000-9999
    }
  }
};

// Appends at most `bound` bytes to out; fill(Writer&) writes them.
template <class Fill>
void append_bounded(std::string& out, size_t bound, Fill&& fill) {
  constexpr size_t kStackBytes = 16384;
  if (bound <= kStackBytes) {
    char buf[kStackBytes];  // uninitialized on purpose
    Writer w{buf};
    fill(w);
    if (size_t(w.p - buf) > bound) std::abort();  // a wrong bound: never continue silently
    out.append(buf, size_t(w.p - buf));
    return;
  }
  const size_t old = out.size();
  out.resize(old + bound);
  char* const start = out.data() + old;
  Writer w{start};
  fill(w);
  if (size_t(w.p - start) > bound) std::abort();
  out.resize(old + size_t(w.p - start));
}

// Seconds with millisecond precision ("0.082"), rounded half away from zero. False when the
// value cannot be a duration (negative, NaN, infinite), so the caller writes its "missing".
// At most 24 bytes.
bool put_seconds_ms(Writer& w, double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return false;
  constexpr double kMaxMs = 9.0e18;  // fits uint64
  double ms_d = std::round(seconds * 1000.0);
  uint64_t ms = ms_d >= kMaxMs ? uint64_t(kMaxMs) : uint64_t(ms_d);
  w.u64(ms / 1000);
  w.put('.');
  unsigned frac = unsigned(ms % 1000);
  w.put(char('0' + frac / 100));
  w.two(int(frac % 100));
  return true;
}

struct SplitTime {
  CivilTime civil;
  int millis;
};

SplitTime split(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  // floor, so that instants before 1970 still land in the right second
  auto ms = time_point_cast<milliseconds>(tp);
  if (ms > tp) ms -= milliseconds(1);
  int64_t total_ms = ms.time_since_epoch().count();
  int64_t secs = total_ms / 1000;
  int64_t rem = total_ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  return {civil_from_unix(secs), int(rem)};
}

// Total length of the record's strings (host twice: cs(Host) and x-host-header).
size_t string_bytes(const AccessRecord& r) {
  return r.edge_location.size() + r.client_ip.size() + r.method.size() + 2 * r.host.size() +
         r.uri_stem.size() + r.referer.size() + r.user_agent.size() + r.query.size() +
         r.cookie.size() + r.result_type.size() + r.request_id.size() + r.protocol.size() +
         r.forwarded_for.size() + r.ssl_protocol.size() + r.ssl_cipher.size() +
         r.response_result_type.size() + r.protocol_version.size() + r.detailed_result_type.size() +
         r.content_type.size() + r.behavior.size() + r.origin.size();
}

// ---- CloudFront fields ---------------------------------------------------------------

inline void put_pct(Writer& w, unsigned char c) {
  w.p[0] = '%';
  w.p[1] = kHex[c >> 4];
  w.p[2] = kHex[c & 15];
  w.p += 3;
}

void cf_escape(Writer& w, std::string_view v) {
  const char* s = v.data();
  const char* const e = s + v.size();
#if defined(__SSE2__)
  while (e - s >= 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w.p), x);  // keep only the safe prefix
    int mask = cf_special_mask(x);
    if (mask == 0) {
      s += 16;
      w.p += 16;
      continue;
    }
    unsigned n = unsigned(__builtin_ctz(unsigned(mask)));
    s += n;
    w.p += n;
    put_pct(w, static_cast<unsigned char>(*s++));
  }
#endif
  for (; s < e; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (kCfEscape[c]) {
      put_pct(w, c);
    } else {
      *w.p++ = char(c);
    }
  }
}

// A string field and the tab after it.
inline void cf_str(Writer& w, std::string_view v) {
  if (v.empty()) {
    w.put('-');
  } else {
    cf_escape(w, v);
  }
  w.put('\t');
}

inline void cf_num(Writer& w, uint64_t v) {
  w.u64(v);
  w.put('\t');
}

inline void cf_opt(Writer& w, int64_t v) {  // negative -> "-"
  if (v < 0) {
    w.put('-');
  } else {
    w.u64(uint64_t(v));
  }
}

inline void cf_seconds(Writer& w, double v) {
  if (!put_seconds_ms(w, v)) w.put('-');
  w.put('\t');
}

// ---- JSON -----------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at p (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
size_t utf8_sequence_length(const char* p, const char* end) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(p[k]); };
  const unsigned char c = b(0);
  const size_t avail = size_t(end - p);
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

inline void put_u00(Writer& w, unsigned char c) {
  w.p[0] = '\\';
  w.p[1] = 'u';
  w.p[2] = '0';
  w.p[3] = '0';
  w.p[4] = kHexLower[c >> 4];
  w.p[5] = kHexLower[c & 15];
  w.p += 6;
}

// One byte (or UTF-8 sequence) at q that json_special_mask/kJsonSpecial flagged; returns
// where the input continues.
const char* json_special(Writer& w, const char* q, const char* e) {
  unsigned char c = static_cast<unsigned char>(*q);
  if (c == '"' || c == '\\') {
    w.p[0] = '\\';
    w.p[1] = char(c);
    w.p += 2;
    return q + 1;
  }
  if (c >= 0x80) {
    if (size_t len = utf8_sequence_length(q, e); len > 0) {
      w.put(std::string_view(q, len));
      return q + len;
    }
  }
  put_u00(w, c);  // control characters, DEL, and bytes that are not well-formed UTF-8
  return q + 1;
}

// Writes v as the inside of a JSON string (at most 6 bytes out per byte in).
// '"' and '\\' get a backslash; control characters and DEL are written as \u00XX; valid
// UTF-8 is copied as is. A byte that is not part of well-formed UTF-8 is written as \u00XX
// of the byte value, i.e. read as Latin-1: the line stays valid JSON and the original byte
// can still be recovered, at the price of being indistinguishable from a real U+00XX.
void json_escape(Writer& w, std::string_view v) {
  const char* s = v.data();
  const char* const e = s + v.size();
#if defined(__SSE2__)
  while (e - s >= 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w.p), x);  // keep only the safe prefix
    int mask = json_special_mask(x);
    if (mask == 0) {
      s += 16;
      w.p += 16;
      continue;
    }
    unsigned n = unsigned(__builtin_ctz(unsigned(mask)));
    w.p += n;
    s = json_special(w, s + n, e);
  }
#endif
  while (s < e) {
    if (kJsonSpecial[static_cast<unsigned char>(*s)]) {
      s = json_special(w, s, e);
    } else {
      *w.p++ = *s++;
    }
  }
}

// Keys are written with their separators, e.g. `,"client_ip":`; the first has no comma.
inline void json_str(Writer& w, std::string_view key, std::string_view v) {
  w.put(key);
  if (v.empty()) {
    w.put("null");
  } else {
    w.put('"');
    json_escape(w, v);
    w.put('"');
  }
}

inline void json_opt(Writer& w, std::string_view key, int64_t v) {  // negative -> null
  w.put(key);
  if (v < 0) {
    w.put("null");
  } else {
    w.u64(uint64_t(v));
  }
}

inline void json_seconds(Writer& w, std::string_view key, double v) {
  w.put(key);
  if (!put_seconds_ms(w, v)) w.put("null");
}

// ---- files ----------------------------------------------------------------------------

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;  // cannot happen for a regular file; avoid spinning
    data.remove_prefix(size_t(n));
  }
  return true;
}

// Opens path for appending; writes the CloudFront header when the file is empty.
int open_log(const std::string& path, Format format, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (error) *error = "cannot open access log " + path + ": " + std::strerror(errno);
    return -1;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    if (error) *error = "cannot stat access log " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (format == Format::CloudFront && st.st_size == 0 && !write_all(fd, kHeader)) {
    if (error) *error = "cannot write access log " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void append_cloudfront_escaped(std::string& out, std::string_view value) {
  append_bounded(out, 3 * value.size(), [&](Writer& w) { cf_escape(w, value); });
}

std::string_view cloudfront_header() { return kHeader; }

void format_cloudfront(const AccessRecord& r, std::string& out) {
  // Strings at most triple; everything else (dates, numbers at their widest, dashes, tabs)
  // is at most 216 bytes.
  append_bounded(out, 3 * string_bytes(r) + 512, [&](Writer& w) {
    const SplitTime t = split(r.end_time);
    w.year(t.civil.year);  // 1 date
    w.put('-');
    w.two(t.civil.month);
    w.put('-');
    w.two(t.civil.day);
    w.put('\t');
    w.two(t.civil.hour);  // 2 time
    w.put(':');
    w.two(t.civil.minute);
    w.put(':');
    w.two(t.civil.second);
    w.put('\t');
    cf_str(w, r.edge_location);  // 3
    cf_num(w, r.sc_bytes);       // 4
    cf_str(w, r.client_ip);      // 5
    cf_str(w, r.method);         // 6
    cf_str(w, r.host);           // 7 cs(Host)
    cf_str(w, r.uri_stem);       // 8
    if (r.status >= 0 && r.status <= 999) {
      w.three(r.status);  // 9; 0 -> "000"
    } else {
      w.put('-');
    }
    w.put('\t');
    cf_str(w, r.referer);               // 10
    cf_str(w, r.user_agent);            // 11
    cf_str(w, r.query);                 // 12
    cf_str(w, r.cookie);                // 13
    cf_str(w, r.result_type);           // 14
    cf_str(w, r.request_id);            // 15
    cf_str(w, r.host);                  // 16 x-host-header: we have one Host, the viewer's
    cf_str(w, r.protocol);              // 17
    cf_num(w, r.cs_bytes);              // 18
    cf_seconds(w, r.time_taken);        // 19
    cf_str(w, r.forwarded_for);         // 20
    cf_str(w, r.ssl_protocol);          // 21
    cf_str(w, r.ssl_cipher);            // 22
    cf_str(w, r.response_result_type);  // 23
    cf_str(w, r.protocol_version);      // 24
    w.put("-\t-\t");                    // 25 fle-status, 26 fle-encrypted-fields: no FLE
    if (r.client_port == 0) {           // 27
      w.put('-');
    } else {
      w.u64(r.client_port);
    }
    w.put('\t');
    cf_seconds(w, r.time_to_first_byte);  // 28
    cf_str(w, r.detailed_result_type);    // 29
    cf_str(w, r.content_type);            // 30
    cf_opt(w, r.content_length);          // 31
    w.put('\t');
    cf_opt(w, r.range_start);  // 32
    w.put('\t');
    cf_opt(w, r.range_end);  // 33
    w.put('\n');
  });
}

// The CloudFront fields under snake_case names, date and time joined into one ISO-8601 UTC
// timestamp with milliseconds, plus behavior and origin. Missing values are null; numbers
// are JSON numbers (status 0 stays 0).
void format_json(const AccessRecord& r, std::string& out) {
  // Strings at most 6x (\u00XX); keys, numbers and nulls are at most 767 bytes (all null,
  // every number at its widest).
  append_bounded(out, 6 * string_bytes(r) + 1024, [&](Writer& w) {
    const SplitTime t = split(r.end_time);
    w.put("{\"date\":\"");
    w.year(t.civil.year);
    w.put('-');
    w.two(t.civil.month);
    w.put('-');
    w.two(t.civil.day);
    w.put('T');
    w.two(t.civil.hour);
    w.put(':');
    w.two(t.civil.minute);
    w.put(':');
    w.two(t.civil.second);
    w.put('.');
    w.three(t.millis);
    w.put("Z\"");
    json_str(w, ",\"edge_location\":", r.edge_location);
    w.put(",\"sc_bytes\":");
    w.u64(r.sc_bytes);
    json_str(w, ",\"client_ip\":", r.client_ip);
    json_str(w, ",\"method\":", r.method);
    json_str(w, ",\"host\":", r.host);
    json_str(w, ",\"uri_stem\":", r.uri_stem);
    w.put(",\"status\":");
    w.i64(r.status);
    json_str(w, ",\"referer\":", r.referer);
    json_str(w, ",\"user_agent\":", r.user_agent);
    json_str(w, ",\"query\":", r.query);
    json_str(w, ",\"cookie\":", r.cookie);
    json_str(w, ",\"result_type\":", r.result_type);
    json_str(w, ",\"request_id\":", r.request_id);
    json_str(w, ",\"host_header\":", r.host);
    json_str(w, ",\"protocol\":", r.protocol);
    w.put(",\"cs_bytes\":");
    w.u64(r.cs_bytes);
    json_seconds(w, ",\"time_taken\":", r.time_taken);
    json_str(w, ",\"forwarded_for\":", r.forwarded_for);
    json_str(w, ",\"ssl_protocol\":", r.ssl_protocol);
    json_str(w, ",\"ssl_cipher\":", r.ssl_cipher);
    json_str(w, ",\"response_result_type\":", r.response_result_type);
    json_str(w, ",\"protocol_version\":", r.protocol_version);
    w.put(",\"fle_status\":null,\"fle_encrypted_fields\":null,\"client_port\":");
    if (r.client_port == 0) {
      w.put("null");
    } else {
      w.u64(r.client_port);
    }
    json_seconds(w, ",\"time_to_first_byte\":", r.time_to_first_byte);
    json_str(w, ",\"detailed_result_type\":", r.detailed_result_type);
    json_str(w, ",\"content_type\":", r.content_type);
    json_opt(w, ",\"content_length\":", r.content_length);
    json_opt(w, ",\"range_start\":", r.range_start);
    json_opt(w, ",\"range_end\":", r.range_end);
    json_str(w, ",\"behavior\":", r.behavior);
    json_str(w, ",\"origin\":", r.origin);
    w.put("}\n");
  });
}

// ---- LogFile --------------------------------------------------------------------------

LogFile::LogFile(std::string path, Format format) : path_(std::move(path)), format_(format) {}

LogFile::~LogFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool LogFile::open(std::string* error) { return reopen(error); }

bool LogFile::reopen(std::string* error) {
  int fd = open_log(path_, format_, error);
  if (fd < 0) return false;  // keep writing to the old descriptor, if any
  int old;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(fd_, fd);
  }
  // A writer that held the lock has finished its write(2) on `old` by now.
  if (old >= 0) ::close(old);
  return true;
}

void LogFile::write(std::string_view whole_lines) {
  if (whole_lines.empty()) return;
  std::lock_guard lock(mu_);
  if (fd_ < 0) return;
  // Errors (disk full, EIO) drop these lines: the request path never waits on the log.
  (void)write_all(fd_, whole_lines);
}

// ---- AccessLogWriter ------------------------------------------------------------------

AccessLogWriter::AccessLogWriter(std::shared_ptr<LogFile> file, size_t buffer_bytes)
    : file_(std::move(file)), limit_(buffer_bytes) {
  buf_.reserve(limit_ + 1024);
}

AccessLogWriter::~AccessLogWriter() { flush(); }

void AccessLogWriter::append(const AccessRecord& r) {
  if (!file_) return;
  if (file_->format() == Format::Json) {
    format_json(r, buf_);
  } else {
    format_cloudfront(r, buf_);
  }
  if (buf_.size() >= limit_) flush();
}

void AccessLogWriter::flush() {
  if (buf_.empty()) return;
  if (file_) file_->write(buf_);
  buf_.clear();
}

}  // namespace eg::logs
