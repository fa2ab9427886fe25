#include "origin/ipranges_fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "aws/http_client.h"

namespace eg::origin {

bool is_url(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

bool fetch_source(const std::string& source, const FetchOptions& options, std::string& body,
                  std::string& error) {
  if (is_url(source)) {
    aws::HttpClientRequest req;
    req.method = "GET";
    req.url = source;
    req.headers.push_back({"User-Agent", "edgeguard-ipranges"});
    aws::HttpClientOptions opts;
    opts.ca_file = options.ca_file;
    opts.max_response_bytes = options.max_bytes;
    aws::HttpResult r = aws::http_request(req, opts);
    if (!r.response) {
      error = "GET " + source + ": " + r.error;
      return false;
    }
    if (r.response->status != 200) {
      error = "GET " + source + ": status " + std::to_string(r.response->status);
      return false;
    }
    body = std::move(r.response->body);
    return true;
  }
  int fd = open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = source + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    error = source + ": not a regular file";
    return false;
  }
  if (uint64_t(st.st_size) > options.max_bytes) {
    close(fd);
    error = source + ": larger than " + std::to_string(options.max_bytes) + " bytes";
    return false;
  }
  body.resize(size_t(st.st_size));
  size_t got = 0;
  while (got < body.size()) {
    ssize_t n = read(fd, body.data() + got, body.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  close(fd);
  body.resize(got);
  return true;
}

bool write_file_atomically(const std::string& path, const std::string& content, unsigned mode,
                           std::string& error) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = tmp + ": " + strerror(errno);
    return false;
  }
  size_t done = 0;
  bool ok = true;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += size_t(n);
  }
  // fchmod, not the umask: the mode is part of the contract (the shield reads the file as
  // another user).
  ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(tmp.c_str());
    error = path + ": " + strerror(saved);
    return false;
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}

}  // namespace eg::origin
