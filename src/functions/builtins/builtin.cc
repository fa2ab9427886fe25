#include "functions/builtins/builtin.h"

#include <chrono>

namespace eg::functions::builtins {

size_t next_thread_slot() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

http::Response text_response(int status, std::string_view body) {
  http::Response r;
  r.status = status;
  r.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.body = body;
  r.framing = http::BodyFraming::ContentLength;
  r.content_length = r.body.size();
  return r;
}

http::Response redirect_response(int status, std::string_view location) {
  http::Response r;
  r.status = status;
  r.headers.add("Location", location);
  r.framing = http::BodyFraming::ContentLength;
  r.content_length = 0;
  return r;
}

http::Response redirect_keeping_query(int status, std::string location, const http::Request& req) {
  if (req.has_query) {
    location += '?';
    location += req.query;
  }
  return redirect_response(status, location);
}

void set_request_path(http::Request& req, std::string_view path) {
  req.path.assign(path);
  req.target.assign(path);
  if (req.has_query) {
    req.target += '?';
    req.target += req.query;
  }
}

void edit_request_path(http::Request& req, size_t keep, std::string_view a, std::string_view b) {
  const size_t old_size = req.path.size();
  const std::string_view target = req.target;
  const bool origin_form =
      target.size() == old_size + (req.has_query ? 1 + req.query.size() : 0) &&
      target.starts_with(req.path) &&
      (!req.has_query || (target[old_size] == '?' && target.substr(old_size + 1) == req.query));
  if (!origin_form) {
    req.path.resize(keep);
    req.path.append(a).append(b);
    set_request_path(req, std::string(req.path));
    return;
  }
  req.path.resize(keep);
  req.path.append(a).append(b);
  req.target.replace(keep, old_size - keep, req.path, keep, req.path.size() - keep);
}

bool last_segment_has_extension(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') != std::string_view::npos;
}

}  // namespace eg::functions::builtins
