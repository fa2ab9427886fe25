#include "logs/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

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

// Bytes a CloudFront field writes as %XX: 0-32, >=127 and <>"#%{}|\^~[]'`.
constexpr std::array<bool, 256> make_cf_escape_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c <= 32 || c >= 127;
  for (char c : std::string_view("<>\"#%{}|\\^~[]'`")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kCfEscape = make_cf_escape_table();

void append_uint(std::string& out, uint64_t v) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, size_t(end - buf));
}

void append_int(std::string& out, int64_t v) {
  char buf[21];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, size_t(end - buf));
}

void append_2digits(std::string& out, int v) {
  out.push_back(char('0' + v / 10));
  out.push_back(char('0' + v % 10));
}

// Seconds with millisecond precision ("0.082"), rounded half away from zero. False when the
// value cannot be a duration (negative, NaN, infinite), so the caller writes its "missing".
bool append_seconds_ms(std::string& out, double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return false;
  constexpr double kMaxMs = 9.0e18;  // fits int64
  double ms_d = std::round(seconds * 1000.0);
  uint64_t ms = ms_d >= kMaxMs ? uint64_t(kMaxMs) : uint64_t(ms_d);
  append_uint(out, ms / 1000);
  out.push_back('.');
  unsigned frac = unsigned(ms % 1000);
  out.push_back(char('0' + frac / 100));
  out.push_back(char('0' + frac / 10 % 10));
  out.push_back(char('0' + frac % 10));
  return true;
}

void append_year(std::string& out, int64_t year) {
  if (year >= 0 && year <= 9999) {
    append_2digits(out, int(year / 100));
    append_2digits(out, int(year % 100));
  } else {
    append_int(out, year);  // only for clocks that reach beyond 0000-9999
  }
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

// ---- CloudFront fields ---------------------------------------------------------------

inline void cf_tab(std::string& out) { out.push_back('\t'); }

inline void cf_str(std::string& out, std::string_view v) {
  if (v.empty()) {
    out.push_back('-');
  } else {
    append_cloudfront_escaped(out, v);
  }
}

inline void cf_opt_int(std::string& out, int64_t v) {
  if (v < 0) {
    out.push_back('-');
  } else {
    append_uint(out, uint64_t(v));
  }
}

inline void cf_seconds(std::string& out, double v) {
  if (!append_seconds_ms(out, v)) out.push_back('-');
}

// ---- JSON -----------------------------------------------------------------------------

// Bytes that cannot be copied into a JSON string as they are: controls, '"', '\\', DEL and
// everything >= 0x80 (which goes through the UTF-8 check).
constexpr std::array<bool, 256> make_json_special_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
  return t;
}
constexpr std::array<bool, 256> kJsonSpecial = make_json_special_table();

void append_u00(std::string& out, unsigned char c) {
  char e[6] = {'\\', 'u', '0', '0', kHexLower[c >> 4], kHexLower[c & 15]};
  out.append(e, 6);
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t avail = s.size() - i;
  auto cont = [&](size_t k) { return (b(i + k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Appends v as the inside of a JSON string. Runs of plain ASCII are copied in one append.
// '"' and '\\' get a backslash; control characters (and DEL) are written as \u00XX; valid
// UTF-8 is copied as is. A byte that is not part of well-formed UTF-8 is written as \u00XX
// of the byte value, i.e. read as Latin-1: the line stays valid JSON and the original byte
// can still be recovered, at the price of being indistinguishable from a real U+00XX.
void append_json_escaped(std::string& out, std::string_view v) {
  size_t i = 0, n = v.size();
  while (i < n) {
    size_t run = i;
    while (run < n && !kJsonSpecial[static_cast<unsigned char>(v[run])]) ++run;
    if (run > i) out.append(v.data() + i, run - i);
    if (run == n) break;
    unsigned char c = static_cast<unsigned char>(v[run]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(char(c));
      i = run + 1;
    } else if (c < 0x80) {  // control characters and DEL
      append_u00(out, c);
      i = run + 1;
    } else if (size_t len = utf8_sequence_length(v, run); len > 0) {
      out.append(v.data() + run, len);
      i = run + len;
    } else {
      append_u00(out, c);
      i = run + 1;
    }
  }
}

// Keys are written with their separators, e.g. `,"client_ip":`; the first has no comma.
inline void json_str(std::string& out, std::string_view key, std::string_view v) {
  out.append(key);
  if (v.empty()) {
    out.append("null");
  } else {
    out.push_back('"');
    append_json_escaped(out, v);
    out.push_back('"');
  }
}

inline void json_uint(std::string& out, std::string_view key, uint64_t v) {
  out.append(key);
  append_uint(out, v);
}

inline void json_opt_int(std::string& out, std::string_view key, int64_t v) {
  out.append(key);
  if (v < 0) {
    out.append("null");
  } else {
    append_uint(out, uint64_t(v));
  }
}

inline void json_seconds(std::string& out, std::string_view key, double v) {
  out.append(key);
  if (!append_seconds_ms(out, v)) out.append("null");
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
  size_t i = 0, n = value.size();
  while (i < n) {
    size_t run = i;
    while (run < n && !kCfEscape[static_cast<unsigned char>(value[run])]) ++run;
    if (run > i) out.append(value.data() + i, run - i);
    if (run == n) break;
    unsigned char c = static_cast<unsigned char>(value[run]);
    char e[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    out.append(e, 3);
    i = run + 1;
  }
}

std::string_view cloudfront_header() { return kHeader; }

void format_cloudfront(const AccessRecord& r, std::string& out) {
  SplitTime t = split(r.end_time);
  // 1 date, 2 time
  append_year(out, t.civil.year);
  out.push_back('-');
  append_2digits(out, t.civil.month);
  out.push_back('-');
  append_2digits(out, t.civil.day);
  cf_tab(out);
  append_2digits(out, t.civil.hour);
  out.push_back(':');
  append_2digits(out, t.civil.minute);
  out.push_back(':');
  append_2digits(out, t.civil.second);
  cf_tab(out);
  cf_str(out, r.edge_location);  // 3
  cf_tab(out);
  append_uint(out, r.sc_bytes);  // 4
  cf_tab(out);
  cf_str(out, r.client_ip);  // 5
  cf_tab(out);
  cf_str(out, r.method);  // 6
  cf_tab(out);
  cf_str(out, r.host);  // 7 cs(Host)
  cf_tab(out);
  cf_str(out, r.uri_stem);  // 8
  cf_tab(out);
  if (r.status >= 0 && r.status <= 999) {  // 9; 0 -> "000"
    out.push_back(char('0' + r.status / 100));
    append_2digits(out, r.status % 100);
  } else {
    out.push_back('-');
  }
  cf_tab(out);
  cf_str(out, r.referer);  // 10
  cf_tab(out);
  cf_str(out, r.user_agent);  // 11
  cf_tab(out);
  cf_str(out, r.query);  // 12
  cf_tab(out);
  cf_str(out, r.cookie);  // 13
  cf_tab(out);
  cf_str(out, r.result_type);  // 14
  cf_tab(out);
  cf_str(out, r.request_id);  // 15
  cf_tab(out);
  cf_str(out, r.host);  // 16 x-host-header: we have one Host, the viewer's
  cf_tab(out);
  cf_str(out, r.protocol);  // 17
  cf_tab(out);
  append_uint(out, r.cs_bytes);  // 18
  cf_tab(out);
  cf_seconds(out, r.time_taken);  // 19
  cf_tab(out);
  cf_str(out, r.forwarded_for);  // 20
  cf_tab(out);
  cf_str(out, r.ssl_protocol);  // 21
  cf_tab(out);
  cf_str(out, r.ssl_cipher);  // 22
  cf_tab(out);
  cf_str(out, r.response_result_type);  // 23
  cf_tab(out);
  cf_str(out, r.protocol_version);  // 24
  out.append("\t-\t-\t");           // 25 fle-status, 26 fle-encrypted-fields: no FLE here
  if (r.client_port == 0) {         // 27
    out.push_back('-');
  } else {
    append_uint(out, r.client_port);
  }
  cf_tab(out);
  cf_seconds(out, r.time_to_first_byte);  // 28
  cf_tab(out);
  cf_str(out, r.detailed_result_type);  // 29
  cf_tab(out);
  cf_str(out, r.content_type);  // 30
  cf_tab(out);
  cf_opt_int(out, r.content_length);  // 31
  cf_tab(out);
  cf_opt_int(out, r.range_start);  // 32
  cf_tab(out);
  cf_opt_int(out, r.range_end);  // 33
  out.push_back('\n');
}

// The CloudFront fields under snake_case names, date and time joined into one ISO-8601 UTC
// timestamp with milliseconds, plus behavior and origin. Missing values are null; numbers
// are JSON numbers (status 0 stays 0).
void format_json(const AccessRecord& r, std::string& out) {
  SplitTime t = split(r.end_time);
  out.append("{\"date\":\"");
  append_year(out, t.civil.year);
  out.push_back('-');
  append_2digits(out, t.civil.month);
  out.push_back('-');
  append_2digits(out, t.civil.day);
  out.push_back('T');
  append_2digits(out, t.civil.hour);
  out.push_back(':');
  append_2digits(out, t.civil.minute);
  out.push_back(':');
  append_2digits(out, t.civil.second);
  out.push_back('.');
  out.push_back(char('0' + t.millis / 100));
  append_2digits(out, t.millis % 100);
  out.append("Z\"");
  json_str(out, ",\"edge_location\":", r.edge_location);
  json_uint(out, ",\"sc_bytes\":", r.sc_bytes);
  json_str(out, ",\"client_ip\":", r.client_ip);
  json_str(out, ",\"method\":", r.method);
  json_str(out, ",\"host\":", r.host);
  json_str(out, ",\"uri_stem\":", r.uri_stem);
  out.append(",\"status\":");
  append_int(out, r.status);
  json_str(out, ",\"referer\":", r.referer);
  json_str(out, ",\"user_agent\":", r.user_agent);
  json_str(out, ",\"query\":", r.query);
  json_str(out, ",\"cookie\":", r.cookie);
  json_str(out, ",\"result_type\":", r.result_type);
  json_str(out, ",\"request_id\":", r.request_id);
  json_str(out, ",\"host_header\":", r.host);
  json_str(out, ",\"protocol\":", r.protocol);
  json_uint(out, ",\"cs_bytes\":", r.cs_bytes);
  json_seconds(out, ",\"time_taken\":", r.time_taken);
  json_str(out, ",\"forwarded_for\":", r.forwarded_for);
  json_str(out, ",\"ssl_protocol\":", r.ssl_protocol);
  json_str(out, ",\"ssl_cipher\":", r.ssl_cipher);
  json_str(out, ",\"response_result_type\":", r.response_result_type);
  json_str(out, ",\"protocol_version\":", r.protocol_version);
  out.append(",\"fle_status\":null,\"fle_encrypted_fields\":null");
  out.append(",\"client_port\":");
  if (r.client_port == 0) {
    out.append("null");
  } else {
    append_uint(out, r.client_port);
  }
  json_seconds(out, ",\"time_to_first_byte\":", r.time_to_first_byte);
  json_str(out, ",\"detailed_result_type\":", r.detailed_result_type);
  json_str(out, ",\"content_type\":", r.content_type);
  json_opt_int(out, ",\"content_length\":", r.content_length);
  json_opt_int(out, ",\"range_start\":", r.range_start);
  json_opt_int(out, ",\"range_end\":", r.range_end);
  json_str(out, ",\"behavior\":", r.behavior);
  json_str(out, ",\"origin\":", r.origin);
  out.append("}\n");
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
