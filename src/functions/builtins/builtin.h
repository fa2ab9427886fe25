// What every native builtin shares: a base class that exposes the builtin's declared
// counters to /stats, the small answers builtins give (401, 403, redirects), a request-path
// setter and an injectable clock (tests move time instead of sleeping).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "functions/function.h"
#include "http/message.h"

namespace eg::functions::builtins {

struct MetricValue {
  std::string_view name;  // "allowed", "denied", ...
  uint64_t value = 0;
};

// A native builtin. The admin /stats code finds one with dynamic_cast from Function and
// reads metrics(); counters are relaxed atomics (RequestCounter for those bumped on every
// request).
class BuiltinFunction : public Function {
 public:
  virtual std::vector<MetricValue> metrics() const = 0;
};

inline void bump(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}
inline uint64_t read(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

// A small index of the calling thread (0, 1, ... in the order threads first ask), for state a
// builtin keeps per thread so that requests on different workers write no shared line.
// Inline, with a constant-initialized thread_local: one TLS load once assigned.
size_t next_thread_slot();
inline thread_local size_t t_thread_slot_plus_one = 0;
inline size_t thread_slot() {
  if (t_thread_slot_plus_one == 0) t_thread_slot_plus_one = next_thread_slot() + 1;
  return t_thread_slot_plus_one - 1;
}

// A counter bumped on every request. A shared atomic costs a locked add per request and
// bounces its line between the workers; here each thread adds to a line of its own with a
// plain load and store, and read() sums the lines.
class RequestCounter {
 public:
  void add() {
    const size_t slot = thread_slot();
    if (slot >= kLines) {
      overflow_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::atomic<uint64_t>& n = lines_[slot].n;
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t sum() const {
    uint64_t total = overflow_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kLines; ++i) total += lines_[i].n.load(std::memory_order_relaxed);
    return total;
  }

 private:
  static constexpr size_t kLines = 64;  // threads past it share overflow_
  struct alignas(64) Line {
    std::atomic<uint64_t> n{0};
  };
  std::unique_ptr<Line[]> lines_ = std::make_unique<Line[]>(kLines);
  std::atomic<uint64_t> overflow_{0};
};
inline void bump(RequestCounter& counter) { counter.add(); }
inline uint64_t read(const RequestCounter& counter) { return counter.sum(); }

// Milliseconds on a monotonic clock. A builtin takes a Clock so tests can move time.
using Clock = int64_t (*)();
int64_t steady_now_ms();

// status, Content-Type: text/plain; charset=utf-8, the body, Content-Length framing.
http::Response text_response(int status, std::string_view body);
// status with a Location header and an empty body.
http::Response redirect_response(int status, std::string_view location);
// The same, with the request's query string (when it has one) appended to `location`.
http::Response redirect_keeping_query(int status, std::string location, const http::Request& req);

// Replaces the request's path and rebuilds its target in origin-form (path?query).
void set_request_path(http::Request& req, std::string_view path);
// The same as set_request_path(req, path.substr(0, keep) + a + b) (keep <= path size; a and b
// not inside req), edited in place when the target is path?query: no new path string, the
// query moved rather than copied again.
void edit_request_path(http::Request& req, size_t keep, std::string_view a,
                       std::string_view b = {});

// True when the last segment of the path has a '.' (a file name with an extension).
bool last_segment_has_extension(std::string_view path);

}  // namespace eg::functions::builtins
