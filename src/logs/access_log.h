// Access logs: one record per request, CloudFront standard format (aws-formats.md §5) or
// JSON lines. Each worker formats into its own buffer; full buffers are written with one
// write(2) to a file opened O_APPEND, so lines from workers never interleave.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace eg::logs {

// Everything one log line needs. Strings are views valid only during append().
struct AccessRecord {
  std::chrono::system_clock::time_point end_time;  // when the response was finished
  std::string_view edge_location;
  uint64_t sc_bytes = 0;        // bytes sent to the viewer incl. headers
  std::string_view client_ip;
  uint16_t client_port = 0;
  std::string_view method;
  std::string_view host;        // cs(Host): the Host the viewer sent
  std::string_view uri_stem;    // path without query
  int status = 0;               // 0 -> "000": viewer left before any response
  std::string_view referer;     // empty -> "-"
  std::string_view user_agent;
  std::string_view query;       // without '?'; empty -> "-"
  std::string_view cookie;      // empty -> "-" (only when cookie logging is on)
  std::string_view result_type; // Hit, Miss, Error, Redirect, ...
  std::string_view request_id;
  std::string_view protocol;    // http / https
  uint64_t cs_bytes = 0;        // bytes received from the viewer incl. headers
  double time_taken = 0;        // seconds
  std::string_view forwarded_for;  // X-Forwarded-For received from the viewer
  std::string_view ssl_protocol;   // TLSv1.3, or empty
  std::string_view ssl_cipher;
  std::string_view response_result_type;
  std::string_view protocol_version;  // HTTP/1.1
  double time_to_first_byte = 0;
  std::string_view detailed_result_type;
  std::string_view content_type;
  int64_t content_length = -1;  // -1 -> "-"
  int64_t range_start = -1;
  int64_t range_end = -1;
  std::string_view behavior;    // JSON only: the behavior's path pattern
  std::string_view origin;      // JSON only: the origin name
};

enum class Format : uint8_t { CloudFront, Json };

// RFC 1738-style escaping of one CloudFront field (bytes 0-32, >=127 and <>"#%{}|\^~[]'`).
void append_cloudfront_escaped(std::string& out, std::string_view value);
// One line, with its trailing '\n'.
void format_cloudfront(const AccessRecord& r, std::string& out);
void format_json(const AccessRecord& r, std::string& out);
// "#Version: 1.0\n#Fields: date time ...\n"
std::string_view cloudfront_header();

// The open log file, shared by all workers. reopen() (SIGUSR1) swaps in a new descriptor;
// writers holding the old one finish their write first.
class LogFile {
 public:
  LogFile(std::string path, Format format);
  ~LogFile();
  bool open(std::string* error);    // opens (creating the file and its header if new)
  bool reopen(std::string* error);  // after logrotate moved the file
  void write(std::string_view whole_lines);
  Format format() const { return format_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Format format_;
  std::mutex mu_;  // guards fd_ swaps only; write() holds it for one write(2)
  int fd_ = -1;
};

// Per-worker buffer in front of a LogFile. Not thread safe: one per worker.
class AccessLogWriter {
 public:
  AccessLogWriter(std::shared_ptr<LogFile> file, size_t buffer_bytes);
  ~AccessLogWriter();  // flushes
  void append(const AccessRecord& r);
  void flush();  // called by the worker's timer and on shutdown
  const std::shared_ptr<LogFile>& file() const { return file_; }

 private:
  std::shared_ptr<LogFile> file_;
  size_t limit_;
  std::string buf_;
};

}  // namespace eg::logs
