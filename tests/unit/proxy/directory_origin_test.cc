#include "proxy/directory_origin.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>

#include "core/http_date.h"

namespace eg::proxy {
namespace {

namespace fs = std::filesystem;

constexpr std::time_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr long kMtimeNs = 123456789;

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

void set_mtime(const std::string& path, std::time_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char('a' + (i * 7 + i / 251) % 26);
  return s;
}

// <tmp>/root is served; <tmp> also holds files that must stay unreachable.
class DirectoryOriginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "eg-dir-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    base_ = fs::canonical(tmpl).string();
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/a");
    fs::create_directories(root_ + "/nested/deeper");
    fs::create_directories(base_ + "/root-evil");
    write_file(base_ + "/secret.txt", "outside");
    write_file(base_ + "/root-evil/secret.txt", "sibling with the same prefix");
    write_file(root_ + "/index.html", "<h1>home</h1>");
    write_file(root_ + "/hello.txt", "hello world");
    write_file(root_ + "/a/index.html", "<h1>a</h1>");
    write_file(root_ + "/a/b.txt", "bee");
    write_file(root_ + "/space name.txt", "spaced");
    write_file(root_ + "/%2e%2e", "a file literally named %2e%2e");
    write_file(root_ + "/empty.txt", "");
    write_file(root_ + "/style.CSS", "body{}");
    write_file(root_ + "/big.bin", pattern(200 * 1024));
    write_file(root_ + "/exact64k.bin", pattern(64 * 1024));
    write_file(root_ + "/over64k.bin", pattern(64 * 1024 + 1));
    fs::create_symlink("hello.txt", root_ + "/link_inside");
    fs::create_symlink(root_ + "/hello.txt", root_ + "/link_abs_inside");
    fs::create_symlink("a", root_ + "/dirlink_inside");
    fs::create_symlink("/etc", root_ + "/etc_link");
    fs::create_symlink("/etc/passwd", root_ + "/passwd_link");
    fs::create_symlink("../secret.txt", root_ + "/outside_rel");
    fs::create_symlink("../root-evil/secret.txt", root_ + "/evil");
    fs::create_symlink("../root-evil", root_ + "/evil_dir");
    fs::create_symlink("loop2", root_ + "/loop1");
    fs::create_symlink("loop1", root_ + "/loop2");
    ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0644), 0);
    set_mtime(root_ + "/hello.txt", kMtime, kMtimeNs);
    cfg_.root = root_;
    cfg_.index_document = "index.html";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  DirectoryResult get(std::string_view path,
                      std::initializer_list<std::pair<const char*, const char*>> headers = {},
                      std::string_view method = "GET") {
    http::Headers h;
    for (auto& [n, v] : headers) h.add(n, v);
    DirectoryResult r = serve_directory(cfg_, method, path, h);
    if (r.file_fd >= 0) fds_to_close_.push_back(r.file_fd);
    return r;
  }

  static std::string header(const DirectoryResult& r, std::string_view name) {
    const std::string* v = r.response.headers.find(name);
    return v ? *v : "<absent>";
  }

  std::string hello_etag() const {
    char buf[64];
    snprintf(buf, sizeof buf, "\"%llx-b\"",
             (unsigned long long)(uint64_t(kMtime) * 1000000000ull + kMtimeNs));
    return buf;
  }

  ~DirectoryOriginTest() override {
    for (int fd : fds_to_close_) close(fd);
  }

  std::string base_, root_;
  DirectoryOriginConfig cfg_;
  std::vector<int> fds_to_close_;
};

// ---- basics ----------------------------------------------------------------------------

TEST_F(DirectoryOriginTest, ServesAFileWithAllHeaders) {
  auto r = get("/hello.txt");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "hello world");
  EXPECT_EQ(r.file_fd, -1);
  EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(header(r, "Content-Length"), "11");
  EXPECT_EQ(header(r, "ETag"), hello_etag());
  EXPECT_EQ(header(r, "Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(header(r, "Accept-Ranges"), "bytes");
  EXPECT_EQ(header(r, "Content-Range"), "<absent>");
  EXPECT_EQ(r.response.framing, http::BodyFraming::ContentLength);
  EXPECT_EQ(r.response.content_length, 11u);
}

TEST_F(DirectoryOriginTest, HeadHasSameHeadersAndNoBody) {
  auto g = get("/hello.txt");
  auto h = get("/hello.txt", {}, "HEAD");
  EXPECT_EQ(h.response.status, 200);
  EXPECT_TRUE(h.response.body.empty());
  EXPECT_EQ(h.file_fd, -1);
  for (const char* n : {"Content-Type", "Content-Length", "ETag", "Last-Modified", "Accept-Ranges"})
    EXPECT_EQ(header(h, n), header(g, n)) << n;

  auto big = get("/big.bin", {}, "HEAD");
  EXPECT_EQ(big.response.status, 200);
  EXPECT_EQ(header(big, "Content-Length"), std::to_string(200 * 1024));
  EXPECT_EQ(big.file_fd, -1);
  EXPECT_TRUE(big.response.body.empty());
}

TEST_F(DirectoryOriginTest, OnlyGetAndHead) {
  for (const char* m : {"POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH"}) {
    auto r = get("/hello.txt", {}, m);
    EXPECT_EQ(r.response.status, 405) << m;
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD") << m;
    EXPECT_EQ(header(r, "Content-Length"), "0") << m;
    EXPECT_TRUE(r.response.body.empty());
  }
}

TEST_F(DirectoryOriginTest, MissingIs404) {
  EXPECT_EQ(get("/nope.txt").response.status, 404);
  EXPECT_EQ(get("/a/nope/deeper.txt").response.status, 404);
  EXPECT_EQ(get("/hello.txt/").response.status, 404);  // a file is not a folder
  EXPECT_EQ(get("/hello.txt/x").response.status, 404);
  EXPECT_EQ(get("/" + std::string(5000, 'x')).response.status, 404);
}

TEST_F(DirectoryOriginTest, PercentDecodedOnce) {
  auto r = get("/space%20name.txt");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "spaced");
  EXPECT_EQ(get("/hell%6F.txt").response.body, "hello world");
  // %252e%252e decodes (once) to the literal name "%2e%2e": a file, not a parent.
  auto lit = get("/%252e%252e");
  EXPECT_EQ(lit.response.status, 200);
  EXPECT_EQ(lit.response.body, "a file literally named %2e%2e");
  EXPECT_EQ(get("/a%2fb.txt").response.body, "bee");  // %2f is a '/' like any other
  EXPECT_EQ(get("/%zz").response.status, 400);
  EXPECT_EQ(get("/abc%4").response.status, 400);
  EXPECT_EQ(get("relative.txt").response.status, 400);
  EXPECT_EQ(get("").response.status, 400);
}

// ---- directories -----------------------------------------------------------------------

TEST_F(DirectoryOriginTest, IndexDocument) {
  auto r = get("/");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "<h1>home</h1>");
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
  auto a = get("/a/");
  EXPECT_EQ(a.response.status, 200);
  EXPECT_EQ(a.response.body, "<h1>a</h1>");
  EXPECT_EQ(get("/dirlink_inside/").response.body, "<h1>a</h1>");
  EXPECT_EQ(get("/nested/").response.status, 404);
  EXPECT_EQ(get("/nested/deeper/").response.status, 404);
  cfg_.index_document = "";
  EXPECT_EQ(get("/a/").response.status, 404);
}

TEST_F(DirectoryOriginTest, DirectoryWithoutSlashRedirects) {
  auto r = get("/a");
  EXPECT_EQ(r.response.status, 301);
  EXPECT_EQ(header(r, "Location"), "/a/");
  EXPECT_EQ(header(r, "Content-Length"), "0");
  EXPECT_EQ(header(get("/nested/deeper"), "Location"), "/nested/deeper/");
  EXPECT_EQ(header(get("/dirlink_inside"), "Location"), "/dirlink_inside/");
  EXPECT_EQ(header(get("/%61"), "Location"), "/%61/");  // as received, still encoded
  EXPECT_EQ(get("/a", {}, "HEAD").response.status, 301);
}

TEST_F(DirectoryOriginTest, RedirectIsNeverSchemeRelative) {
  // "//a" must not become Location: //a/ (a redirect to the host "a").
  auto r = get("//a");
  EXPECT_EQ(r.response.status, 301);
  EXPECT_EQ(header(r, "Location"), "/a/");
  EXPECT_EQ(header(get("///a"), "Location"), "/a/");
}

// ---- no way out of the root ------------------------------------------------------------

TEST_F(DirectoryOriginTest, TraversalAttemptsAre403) {
  for (const char* p : {"/../etc/passwd",
                        "/..",
                        "/../",
                        "/%2e%2e/etc/passwd",
                        "/%2e%2e/",
                        "/%2E%2E/%2E%2E/etc/passwd",
                        "/a/%2E%2E/%2e%2e/",
                        "/a/%2E%2E/%2e%2e/secret.txt",
                        "/a/../hello.txt",
                        "/..%2f..%2f",
                        "/..%2f..%2fetc%2fpasswd",
                        "/a%2f..%2f..%2fsecret.txt",
                        "/%2e%2e%2fsecret.txt",
                        "/./hello.txt",
                        "/a/.",
                        "/a/./b.txt",
                        "/%2e/hello.txt",
                        "/a/..",
                        "/a%00b",
                        "/hello.txt%00.png",
                        "/a%5cb",
                        "/a%5C..%5Csecret.txt",
                        "/a\\b",
                        "/..\\secret.txt"}) {
    auto r = get(p);
    EXPECT_EQ(r.response.status, 403) << p;
    EXPECT_TRUE(r.response.body.empty()) << p;
    EXPECT_EQ(r.file_fd, -1) << p;
  }
}

TEST_F(DirectoryOriginTest, SymlinksOutsideAre403) {
  for (const char* p : {"/etc_link/passwd", "/etc_link/", "/etc_link", "/passwd_link",
                        "/outside_rel", "/evil", "/evil_dir/secret.txt", "/evil_dir/"}) {
    auto r = get(p);
    EXPECT_EQ(r.response.status, 403) << p;
    EXPECT_EQ(r.file_fd, -1) << p;
  }
  EXPECT_EQ(get("/loop1").response.status, 403);
}

TEST_F(DirectoryOriginTest, SymlinksInsideAreServed) {
  auto r = get("/link_inside");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.body, "hello world");
  EXPECT_EQ(get("/link_abs_inside").response.body, "hello world");
  EXPECT_EQ(get("/dirlink_inside/b.txt").response.body, "bee");
}

TEST_F(DirectoryOriginTest, SpecialFilesAreNotOpened) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/fifo").response.status, 403);  // and does not block on open()
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(DirectoryOriginTest, IndexDocumentOutsideIsRefused) {
  fs::create_directories(root_ + "/trap");
  fs::create_symlink("../../secret.txt", root_ + "/trap/index.html");
  EXPECT_EQ(get("/trap/").response.status, 403);
}

TEST_F(DirectoryOriginTest, RootWithTrailingSlashOrSymlink) {
  cfg_.root = root_ + "/";
  EXPECT_EQ(get("/hello.txt").response.status, 200);
  EXPECT_EQ(get("/outside_rel").response.status, 403);
  // A root that is itself a symlink (not canonical) still works and still confines.
  fs::create_symlink(root_, base_ + "/rootlink");
  cfg_.root = base_ + "/rootlink";
  EXPECT_EQ(get("/hello.txt").response.body, "hello world");
  EXPECT_EQ(get("/outside_rel").response.status, 403);
  EXPECT_EQ(get("/evil").response.status, 403);
}

// ---- content types ---------------------------------------------------------------------

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/x/INDEX.HTM"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("/data.json"), "application/json");
  EXPECT_EQ(content_type_for("/img/logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("/img/a.PNG"), "image/png");
  EXPECT_EQ(content_type_for("/img/a.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_for("/f.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("/m.wasm"), "application/wasm");
  EXPECT_EQ(content_type_for("/doc.pdf"), "application/pdf");
  EXPECT_EQ(content_type_for("/v.mp4"), "video/mp4");
  EXPECT_EQ(content_type_for("/noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/file."), "application/octet-stream");
  EXPECT_EQ(content_type_for("/a.html/readme"), "application/octet-stream");
  EXPECT_EQ(content_type_for("/x.unknownext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("archive.tar.gz"), "application/gzip");
}

TEST_F(DirectoryOriginTest, ContentTypeOfServedFiles) {
  EXPECT_EQ(header(get("/style.CSS"), "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(header(get("/big.bin", {}, "HEAD"), "Content-Type"), "application/octet-stream");
}

// ---- conditional requests --------------------------------------------------------------

TEST_F(DirectoryOriginTest, IfNoneMatch) {
  std::string etag = hello_etag();
  std::string weak = "W/" + etag;
  std::string list = "\"nope\", " + weak + ", \"other\"";
  for (const std::string& v : {etag, weak, list, std::string("*")}) {
    auto r = get("/hello.txt", {{"If-None-Match", v.c_str()}});
    EXPECT_EQ(r.response.status, 304) << v;
    EXPECT_TRUE(r.response.body.empty());
    EXPECT_EQ(header(r, "ETag"), etag);
    EXPECT_EQ(header(r, "Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(header(r, "Content-Length"), "<absent>");
  }
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"nope\""}}).response.status, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "garbage"}}).response.status, 200);
  // Repeated header lines form one list.
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"x\""}, {"If-None-Match", etag.c_str()}})
                .response.status,
            304);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"nope\""},
                               {"If-Modified-Since", "Sun, 06 Nov 2050 08:49:37 GMT"}})
                .response.status,
            200);
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", etag.c_str()}}, "HEAD").response.status, 304);
}

TEST_F(DirectoryOriginTest, IfModifiedSince) {
  EXPECT_EQ(
      get("/hello.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).response.status,
      304);
  EXPECT_EQ(
      get("/hello.txt", {{"If-Modified-Since", "Sunday, 06-Nov-94 08:49:38 GMT"}}).response.status,
      304);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "Sun Nov  6 08:49:36 1994"}}).response.status,
            200);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "yesterday"}}).response.status, 200);
}

TEST_F(DirectoryOriginTest, IfMatch) {
  std::string etag = hello_etag();
  EXPECT_EQ(get("/hello.txt", {{"If-Match", etag.c_str()}}).response.status, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "*"}}).response.status, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-Match", ("\"a\", " + etag).c_str()}}).response.status, 200);
  auto r = get("/hello.txt", {{"If-Match", "\"nope\""}});
  EXPECT_EQ(r.response.status, 412);
  EXPECT_TRUE(r.response.body.empty());
  // Strong comparison: a weak tag never matches.
  EXPECT_EQ(get("/hello.txt", {{"If-Match", ("W/" + etag).c_str()}}).response.status, 412);
  // If-Match beats If-None-Match's 304.
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "\"nope\""}, {"If-None-Match", etag.c_str()}})
                .response.status,
            412);
}

TEST_F(DirectoryOriginTest, IfUnmodifiedSince) {
  EXPECT_EQ(
      get("/hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).response.status,
      412);
  EXPECT_EQ(
      get("/hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).response.status,
      200);
  EXPECT_EQ(get("/hello.txt", {{"If-Unmodified-Since", "not a date"}}).response.status, 200);
  // Ignored when If-Match is present.
  EXPECT_EQ(get("/hello.txt", {{"If-Match", hello_etag().c_str()},
                               {"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}})
                .response.status,
            200);
}

// ---- ranges ----------------------------------------------------------------------------

struct RangeCase {
  const char* range;
  int status;
  const char* body;
  const char* content_range;
};

TEST_F(DirectoryOriginTest, SingleRanges) {
  for (const RangeCase& c : std::initializer_list<RangeCase>{
           {"bytes=0-4", 206, "hello", "bytes 0-4/11"},
           {"bytes=6-", 206, "world", "bytes 6-10/11"},
           {"bytes=-5", 206, "world", "bytes 6-10/11"},
           {"bytes=-100", 206, "hello world", "bytes 0-10/11"},
           {"bytes=5-100", 206, " world", "bytes 5-10/11"},
           {"bytes=10-10", 206, "d", "bytes 10-10/11"},
           {"BYTES=0-0", 206, "h", "bytes 0-0/11"},
           {"bytes=0-4,", 206, "hello", "bytes 0-4/11"},
           {"bytes=0-99999999999999999999999", 206, "hello world", "bytes 0-10/11"},
           {"bytes=0-1,3-4", 200, "hello world", "<absent>"},  // several ranges: whole file
           {"bytes=0-1, 100-200", 200, "hello world", "<absent>"},
           {"bytes=5-2", 200, "hello world", "<absent>"},  // invalid: ignored
           {"bytes=abc", 200, "hello world", "<absent>"},
           {"bytes=1", 200, "hello world", "<absent>"},
           {"bytes=", 200, "hello world", "<absent>"},
           {"bytes = 0-1", 200, "hello world", "<absent>"},
           {"items=0-1", 200, "hello world", "<absent>"},
           {"bytes=-", 200, "hello world", "<absent>"},
       }) {
    auto r = get("/hello.txt", {{"Range", c.range}});
    EXPECT_EQ(r.response.status, c.status) << c.range;
    EXPECT_EQ(r.response.body, c.body) << c.range;
    EXPECT_EQ(header(r, "Content-Range"), c.content_range) << c.range;
    EXPECT_EQ(header(r, "Content-Length"), std::to_string(strlen(c.body))) << c.range;
  }
}

TEST_F(DirectoryOriginTest, UnsatisfiableRange) {
  for (const char* range :
       {"bytes=11-", "bytes=11-20", "bytes=-0", "bytes=99999999999999999999-"}) {
    auto r = get("/hello.txt", {{"Range", range}});
    EXPECT_EQ(r.response.status, 416) << range;
    EXPECT_EQ(header(r, "Content-Range"), "bytes */11") << range;
    EXPECT_TRUE(r.response.body.empty());
    EXPECT_EQ(r.file_fd, -1);
  }
  auto e = get("/empty.txt", {{"Range", "bytes=0-"}});
  EXPECT_EQ(e.response.status, 416);
  EXPECT_EQ(header(e, "Content-Range"), "bytes */0");
  auto plain = get("/empty.txt");
  EXPECT_EQ(plain.response.status, 200);
  EXPECT_EQ(header(plain, "Content-Length"), "0");
}

TEST_F(DirectoryOriginTest, IfRange) {
  std::string etag = hello_etag();
  auto ok = get("/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", etag.c_str()}});
  EXPECT_EQ(ok.response.status, 206);
  EXPECT_EQ(ok.response.body, "hello");
  auto by_date =
      get("/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  EXPECT_EQ(by_date.response.status, 206);
  for (std::string v : {std::string("\"old\""), "W/" + etag,
                        std::string("Sun, 06 Nov 1994 08:49:38 GMT"), std::string("junk")}) {
    auto r = get("/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", v.c_str()}});
    EXPECT_EQ(r.response.status, 200) << v;
    EXPECT_EQ(r.response.body, "hello world") << v;
  }
  // A stale If-Range turns even an unsatisfiable range into the whole file.
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes=50-"}, {"If-Range", "\"old\""}}).response.status,
            200);
}

TEST_F(DirectoryOriginTest, HeadWithRange) {
  auto r = get("/hello.txt", {{"Range", "bytes=0-4"}}, "HEAD");
  EXPECT_EQ(r.response.status, 206);
  EXPECT_EQ(header(r, "Content-Length"), "5");
  EXPECT_EQ(header(r, "Content-Range"), "bytes 0-4/11");
  EXPECT_TRUE(r.response.body.empty());
}

// ---- large bodies ----------------------------------------------------------------------

std::string read_fd(int fd, uint64_t offset, uint64_t length) {
  std::string s(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, s.data() + done, length - done, off_t(offset + done));
    if (n <= 0) break;
    done += uint64_t(n);
  }
  s.resize(done);
  return s;
}

TEST_F(DirectoryOriginTest, LargeFileIsReturnedAsDescriptor) {
  const std::string content = pattern(200 * 1024);
  auto r = get("/big.bin");
  EXPECT_EQ(r.response.status, 200);
  ASSERT_GE(r.file_fd, 0);
  EXPECT_TRUE(r.response.body.empty());
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, content.size());
  EXPECT_EQ(header(r, "Content-Length"), std::to_string(content.size()));
  EXPECT_EQ(read_fd(r.file_fd, r.offset, r.length), content);
  int fdflags = fcntl(r.file_fd, F_GETFD);
  EXPECT_TRUE(fdflags & FD_CLOEXEC);
  int flflags = fcntl(r.file_fd, F_GETFL);
  EXPECT_EQ(flflags & O_ACCMODE, O_RDONLY);
  EXPECT_FALSE(flflags & O_NONBLOCK);
}

TEST_F(DirectoryOriginTest, LargeRangeIsReturnedAsDescriptorWithOffset) {
  const std::string content = pattern(200 * 1024);
  auto r = get("/big.bin", {{"Range", "bytes=100000-199999"}});
  EXPECT_EQ(r.response.status, 206);
  ASSERT_GE(r.file_fd, 0);
  EXPECT_EQ(r.offset, 100000u);
  EXPECT_EQ(r.length, 100000u);
  EXPECT_EQ(header(r, "Content-Range"), "bytes 100000-199999/204800");
  EXPECT_EQ(header(r, "Content-Length"), "100000");
  EXPECT_EQ(read_fd(r.file_fd, r.offset, r.length), content.substr(100000, 100000));

  // A small range of a large file is read into the body.
  auto small = get("/big.bin", {{"Range", "bytes=-10"}});
  EXPECT_EQ(small.response.status, 206);
  EXPECT_EQ(small.file_fd, -1);
  EXPECT_EQ(small.response.body, content.substr(content.size() - 10));
}

TEST_F(DirectoryOriginTest, SixtyFourKiBThreshold) {
  auto exact = get("/exact64k.bin");
  EXPECT_EQ(exact.file_fd, -1);
  EXPECT_EQ(exact.response.body, pattern(64 * 1024));
  auto over = get("/over64k.bin");
  ASSERT_GE(over.file_fd, 0);
  EXPECT_TRUE(over.response.body.empty());
  EXPECT_EQ(over.length, 64u * 1024 + 1);
}

size_t open_fd_count() {
  size_t n = 0;
  for (auto& e : fs::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

TEST_F(DirectoryOriginTest, NoDescriptorLeaks) {
  if (!fs::exists("/proc/self/fd")) GTEST_SKIP() << "no /proc";
  size_t before = open_fd_count();
  for (int i = 0; i < 3; ++i) {
    for (const char* p : {"/hello.txt", "/", "/a", "/a/", "/nested/", "/nope", "/etc_link/passwd",
                          "/outside_rel", "/fifo", "/trap/", "/big.bin", "/empty.txt"}) {
      for (const char* m : {"GET", "HEAD"}) {
        http::Headers h;
        DirectoryResult r = serve_directory(cfg_, m, p, h);
        if (r.file_fd >= 0) close(r.file_fd);
        h.add("If-None-Match", "*");
        serve_directory(cfg_, m, p, h);
        http::Headers range;
        range.add("Range", "bytes=9999999-");
        serve_directory(cfg_, m, p, range);
      }
    }
  }
  EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
}  // namespace eg::proxy
