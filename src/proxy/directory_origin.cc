#include "proxy/directory_origin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <optional>

#include "core/http_date.h"
#include "core/strings.h"

namespace eg::proxy {

namespace {

constexpr uint64_t kInlineBodyMax = 64 * 1024;  // larger bodies are returned as file_fd

// ---- responses -------------------------------------------------------------------------

void set_content_length(http::Response& r, uint64_t n) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  r.headers.set("Content-Length", std::string_view(buf, size_t(end - buf)));
  r.framing = http::BodyFraming::ContentLength;
  r.content_length = n;
}

// A response without a body (errors, redirects).
DirectoryResult empty_response(int status) {
  DirectoryResult res;
  res.response.status = status;
  set_content_length(res.response, 0);
  return res;
}

// ---- path resolution -------------------------------------------------------------------

// Owns a descriptor until released.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

enum class Outcome { Ok, NotFound, Forbidden, Error };

struct Opened {
  Fd fd;
  struct stat st {};
  std::string real;  // canonical path of what fd refers to
};

bool is_inside(std::string_view root, std::string_view real) {
  if (root == "/") return true;
  return real.size() >= root.size() && real.compare(0, root.size(), root) == 0 &&
         (real.size() == root.size() || real[root.size()] == '/');
}

std::optional<std::string> real_path(const std::string& p, int* err) {
  char* r = ::realpath(p.c_str(), nullptr);
  if (!r) {
    *err = errno;
    return std::nullopt;
  }
  std::string out(r);
  ::free(r);
  return out;
}

// Opens `candidate` only when it resolves (through any symlinks) to a regular file or a
// directory inside root. The check is made on what was actually opened: the canonical path
// is computed first, the canonical path is opened with O_NOFOLLOW (so a component swapped
// for a symlink in between fails), and /proc/self/fd confirms the result where available.
// O_NONBLOCK keeps a FIFO placed in the folder from blocking the worker in open().
Outcome open_inside(std::string_view root, const std::string& candidate, Opened& out) {
  int err = 0;
  auto real = real_path(candidate, &err);
  if (!real) {
    if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) return Outcome::NotFound;
    if (err == EACCES || err == ELOOP) return Outcome::Forbidden;
    return Outcome::Error;
  }
  if (!is_inside(root, *real)) {
    // The configured root should be canonical; if it is not, compare with what it means.
    auto real_root = real_path(std::string(root), &err);
    if (!real_root || !is_inside(*real_root, *real)) return Outcome::Forbidden;
  }
  int fd = ::open(real->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Outcome::NotFound;
    if (errno == EACCES || errno == ELOOP || errno == EPERM) return Outcome::Forbidden;
    return Outcome::Error;
  }
  out.fd.reset(fd);
  if (::fstat(fd, &out.st) != 0) return Outcome::Error;
  if (!S_ISREG(out.st.st_mode) && !S_ISDIR(out.st.st_mode)) return Outcome::Forbidden;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  char link[PATH_MAX + 1];
  ssize_t n = ::readlink(proc, link, PATH_MAX);
  if (n > 0 && std::string_view(link, size_t(n)) != *real) return Outcome::Forbidden;
  out.real = std::move(*real);
  return Outcome::Ok;
}

DirectoryResult from_outcome(Outcome o) {
  switch (o) {
    case Outcome::NotFound:
      return empty_response(404);
    case Outcome::Forbidden:
      return empty_response(403);
    default:
      return empty_response(500);
  }
}

// ---- validators ------------------------------------------------------------------------

std::string make_etag(const struct stat& st) {
  uint64_t ns = uint64_t(st.st_mtim.tv_sec) * 1'000'000'000u + uint64_t(st.st_mtim.tv_nsec);
  char a[16], b[16];  // 16 hex digits hold any uint64
  auto ea = std::to_chars(a, a + sizeof a, ns, 16).ptr;
  auto eb = std::to_chars(b, b + sizeof b, uint64_t(st.st_size), 16).ptr;
  std::string tag;
  tag.reserve(36);
  tag.push_back('"');
  tag.append(a, ea);
  tag.push_back('-');
  tag.append(b, eb);
  tag.push_back('"');
  return tag;
}

// Does any entity-tag in the (possibly repeated) list header `name` match `etag`?
// "*" matches any current representation. Strong comparison never matches a weak tag;
// weak comparison ignores the W/ prefix. A malformed element ends that header's list.
bool etag_list_matches(const http::Headers& headers, std::string_view name, std::string_view etag,
                       bool strong) {
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    std::string_view v = trim(h.value);
    if (v == "*") return true;
    size_t i = 0;
    while (i < v.size()) {
      if (v[i] == ',' || v[i] == ' ' || v[i] == '\t') {
        ++i;
        continue;
      }
      bool weak = false;
      if (v.substr(i, 2) == "W/") {
        weak = true;
        i += 2;
      }
      if (i >= v.size() || v[i] != '"') break;
      size_t close = v.find('"', i + 1);
      if (close == std::string_view::npos) break;
      std::string_view tag = v.substr(i, close - i + 1);
      if (tag == etag && !(strong && weak)) return true;
      i = close + 1;
    }
  }
  return false;
}

// ---- ranges ----------------------------------------------------------------------------

struct RangeSpec {
  enum Kind { Ignore, Unsatisfiable, Single } kind = Ignore;
  uint64_t first = 0, last = 0;
};

// Digits only; saturates instead of overflowing (a huge first-pos is simply unsatisfiable).
bool parse_pos(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = unsigned(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return true;
}

// RFC 9110 §14.1.2. Anything unparsable, another unit, or more than one range -> Ignore
// (the whole representation is sent).
RangeSpec parse_range(std::string_view v, uint64_t size) {
  RangeSpec r;
  v = trim(v);
  if (v.size() < 6 || !iequals(v.substr(0, 6), "bytes=")) return r;
  std::string_view one;
  int count = 0;
  for (std::string_view el : split(v.substr(6), ',')) {
    el = trim(el);
    if (el.empty()) continue;  // empty list elements are allowed
    if (++count > 1) return r;
    one = el;
  }
  if (count == 0) return r;
  size_t dash = one.find('-');
  if (dash == std::string_view::npos) return r;
  std::string_view a = one.substr(0, dash), b = one.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last n bytes
    uint64_t n;
    if (!parse_pos(b, n)) return r;
    if (n == 0 || size == 0) {
      r.kind = RangeSpec::Unsatisfiable;
      return r;
    }
    first = n >= size ? 0 : size - n;
    last = size - 1;
  } else {
    if (!parse_pos(a, first)) return r;
    if (b.empty()) {
      last = UINT64_MAX;
    } else if (!parse_pos(b, last) || last < first) {
      return r;
    }
    if (first >= size) {
      r.kind = RangeSpec::Unsatisfiable;
      return r;
    }
    if (last >= size) last = size - 1;
  }
  r.kind = RangeSpec::Single;
  r.first = first;
  r.last = last;
  return r;
}

// If-Range (RFC 9110 §13.1.5): an entity-tag must match strongly; a date must equal
// Last-Modified exactly.
bool if_range_matches(std::string_view v, std::string_view etag, std::time_t mtime) {
  v = trim(v);
  if (v.starts_with("W/")) return false;
  if (v.starts_with("\"")) return v == etag;
  auto d = parse_http_date(v);
  return d && *d == mtime;
}

// ---- bodies ----------------------------------------------------------------------------

bool read_exact(int fd, uint64_t offset, uint64_t length, std::string& out) {
  out.resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, off_t(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;  // the file shrank under us
    done += uint64_t(n);
  }
  return true;
}

DirectoryResult serve_file(Opened& file, bool head, std::string_view type_path,
                           const http::Headers& req) {
  const uint64_t size = uint64_t(file.st.st_size);
  const std::time_t mtime = file.st.st_mtim.tv_sec;
  const std::string etag = make_etag(file.st);
  const std::string last_modified = format_http_date(mtime);

  DirectoryResult res;
  http::Response& resp = res.response;
  auto validators = [&] {
    resp.headers.add("ETag", etag);
    resp.headers.add("Last-Modified", last_modified);
  };

  // Preconditions in the order of RFC 9110 §13.2.2.
  if (req.contains("If-Match")) {
    if (!etag_list_matches(req, "If-Match", etag, /*strong=*/true)) return empty_response(412);
  } else if (const std::string* ius = req.find("If-Unmodified-Since")) {
    auto d = parse_http_date(*ius);
    if (d && mtime > *d) return empty_response(412);
  }
  bool not_modified = false;
  if (req.contains("If-None-Match")) {
    not_modified = etag_list_matches(req, "If-None-Match", etag, /*strong=*/false);
  } else if (const std::string* ims = req.find("If-Modified-Since")) {
    auto d = parse_http_date(*ims);
    not_modified = d && mtime <= *d;
  }
  if (not_modified) {
    resp.status = 304;
    validators();
    resp.framing = http::BodyFraming::None;
    return res;
  }

  // Range (also on HEAD, as S3 does: the headers are those a GET would get).
  RangeSpec range;
  if (req.count("Range") == 1) {
    const std::string* if_range = req.find("If-Range");
    if (!if_range || if_range_matches(*if_range, etag, mtime))
      range = parse_range(*req.find("Range"), size);
  }
  if (range.kind == RangeSpec::Unsatisfiable) {
    res = empty_response(416);
    resp.headers.add("Content-Range", "bytes */" + std::to_string(size));
    resp.headers.add("Accept-Ranges", "bytes");
    validators();
    return res;
  }

  uint64_t offset = 0, length = size;
  resp.status = 200;
  resp.headers.add("Content-Type", content_type_for(type_path));
  if (range.kind == RangeSpec::Single) {
    resp.status = 206;
    offset = range.first;
    length = range.last - range.first + 1;
  }
  set_content_length(resp, length);
  resp.headers.add("Accept-Ranges", "bytes");
  validators();
  if (range.kind == RangeSpec::Single) {
    resp.headers.add("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                          std::to_string(range.last) + "/" + std::to_string(size));
  }

  if (head || length == 0) return res;  // no body; the descriptor closes with `file`
  if (length > kInlineBodyMax) {
    ::fcntl(file.fd.get(), F_SETFL, 0);  // drop O_NONBLOCK: the caller gets a plain fd
    res.file_fd = file.fd.release();
    res.offset = offset;
    res.length = length;
    return res;
  }
  if (!read_exact(file.fd.get(), offset, length, resp.body)) return empty_response(500);
  return res;
}

// The path percent-encoded as received, with any run of leading slashes collapsed to one,
// so that a redirect can never become a scheme-relative "//host/" URL.
std::string redirect_to_directory(std::string_view path) {
  size_t i = 0;
  while (i + 1 < path.size() && path[i + 1] == '/') ++i;
  std::string loc(path.substr(i));
  loc.push_back('/');
  return loc;
}

}  // namespace

DirectoryResult serve_directory(const DirectoryOriginConfig& cfg, std::string_view method,
                                std::string_view path, const http::Headers& request_headers) {
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    DirectoryResult res = empty_response(405);
    res.response.headers.add("Allow", "GET, HEAD");
    return res;
  }
  if (path.empty() || path.front() != '/') return empty_response(400);
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return empty_response(400);  // the parser should not let these in
  }
  auto decoded = percent_decode(path);
  if (!decoded) return empty_response(400);
  const std::string& p = *decoded;
  if (p.find('\0') != std::string::npos || p.find('\\') != std::string::npos)
    return empty_response(403);
  for (std::string_view seg : split(std::string_view(p).substr(1), '/'))
    if (seg == "." || seg == "..") return empty_response(403);

  std::string_view root = cfg.root;
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (root.empty() || root.front() != '/') return empty_response(500);

  std::string candidate = root == "/" ? p : std::string(root) + p;
  Opened file;
  if (Outcome o = open_inside(root, candidate, file); o != Outcome::Ok) return from_outcome(o);

  if (S_ISDIR(file.st.st_mode)) {
    if (p.back() != '/') {
      DirectoryResult res = empty_response(301);
      res.response.headers.add("Location", redirect_to_directory(path));
      return res;
    }
    if (cfg.index_document.empty()) return empty_response(404);
    Opened index;
    Outcome o = open_inside(root, file.real + "/" + cfg.index_document, index);
    if (o != Outcome::Ok) return from_outcome(o);
    if (!S_ISREG(index.st.st_mode)) return empty_response(404);
    return serve_file(index, head, cfg.index_document, request_headers);
  }
  if (p.back() == '/') return empty_response(404);  // a file named like a folder
  return serve_file(file, head, p, request_headers);
}

std::string_view content_type_for(std::string_view path) {
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"xml", "application/xml"},
      {"xhtml", "application/xhtml+xml"},
      {"rss", "application/rss+xml"},
      {"atom", "application/atom+xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"bmp", "image/bmp"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"eot", "application/vnd.ms-fontobject"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"mp4", "video/mp4"},
      {"m4v", "video/mp4"},
      {"webm", "video/webm"},
      {"ogv", "video/ogg"},
      {"mov", "video/quicktime"},
      {"m3u8", "application/vnd.apple.mpegurl"},
      {"mpd", "application/dash+xml"},
      {"mp3", "audio/mpeg"},
      {"m4a", "audio/mp4"},
      {"ogg", "audio/ogg"},
      {"oga", "audio/ogg"},
      {"wav", "audio/wav"},
      {"flac", "audio/flac"},
      {"yaml", "application/yaml"},
      {"yml", "application/yaml"},
      {"pem", "application/x-pem-file"},
  };
  constexpr std::string_view kDefault = "application/octet-stream";
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size()) return kDefault;
  std::string_view ext = name.substr(dot + 1);
  if (ext.size() > 16) return kDefault;
  for (const Entry& e : kTypes)
    if (iequals(e.ext, ext)) return e.type;
  return kDefault;
}

}  // namespace eg::proxy
