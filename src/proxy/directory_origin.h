// The local-directory origin: a folder served the way a storage bucket website serves it.
// Pure request -> response logic (no sockets) so it is unit tested alone.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"

namespace eg::proxy {

struct DirectoryOriginConfig {
  std::string root;            // absolute, canonical path of the folder
  std::string index_document;  // "index.html"; served for paths ending in '/'
};

// What to send. When file_fd >= 0 the body is file bytes [offset, offset+length) and the
// caller streams them, then closes the descriptor; otherwise the body is response.body.
struct DirectoryResult {
  http::Response response;  // status, headers incl. Content-Type, Content-Length, ETag,
                            // Last-Modified, Accept-Ranges, Content-Range as applicable
  int file_fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Serves `path` (the origin-request path, percent-encoded as received, without query).
// - Only GET and HEAD (405 with Allow otherwise). HEAD: same headers, no body.
// - The path is percent-decoded once; a decoded NUL, backslash, or any ".." or "." segment,
//   and any resolved file outside root (symlinks are followed only when they stay inside),
//   answers 403 — never a file outside root. (403 like S3 for a key it will not serve.)
// - Missing file: 404. A directory without trailing '/': 301 to path + '/'. Path ending
//   in '/': the index document of that folder (404 if it has none).
// - Content-Type from the extension (common web types; application/octet-stream else).
// - ETag: "<hex mtime ns>-<hex size>"; Last-Modified from mtime (IMF-fixdate).
// - If-None-Match (list, weak compare, *) -> 304; else If-Modified-Since -> 304.
//   If-Match / If-Unmodified-Since failing -> 412.
// - Range: a single bytes range (a-b, a-, -n) -> 206 with Content-Range; unsatisfiable ->
//   416 with Content-Range: bytes */size; several ranges or an If-Range that does not
//   match -> the whole file with 200. Bodies above 64 KiB are returned as file_fd.
DirectoryResult serve_directory(const DirectoryOriginConfig& cfg, std::string_view method,
                                std::string_view path, const http::Headers& request_headers);

std::string_view content_type_for(std::string_view path);

}  // namespace eg::proxy
