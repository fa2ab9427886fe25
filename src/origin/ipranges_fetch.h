// Reads a document from a file or an http(s) URL (blocking: the CLI and the SNS endpoint's
// own thread, never a gateway event loop).
#pragma once
#include <string>

namespace eg::origin {

struct FetchOptions {
  std::string ca_file;  // PEM bundle for https; empty: the system store
  size_t max_bytes = 64u << 20;
};

bool is_url(const std::string& source);
// GET for a URL (200 required), a plain read for a file. error says what failed and where.
bool fetch_source(const std::string& source, const FetchOptions& options, std::string& body,
                  std::string& error);
// Writes `content` to `path` through a temporary file in the same folder (fsync, chmod
// `mode`, rename), so that a reader sees the old file or the new one, never a mix.
bool write_file_atomically(const std::string& path, const std::string& content, unsigned mode,
                           std::string& error);

}  // namespace eg::origin
