#include "logs/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace eg::logs {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

system_clock::time_point at_ms(int64_t ms_since_epoch) {
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(milliseconds(ms_since_epoch)));
}

std::vector<std::string> fields_of(std::string line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  if (!line.empty() && line.back() == '\n') line.pop_back();
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = line.find('\t', start);
    out.push_back(line.substr(start, p == std::string::npos ? p : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::string cf_escaped(std::string_view v) {
  std::string out;
  append_cloudfront_escaped(out, v);
  return out;
}

AccessRecord full_record() {
  AccessRecord r;
  r.end_time = at_ms(1709251199LL * 1000 + 987);  // 2024-02-29 23:59:59.987 UTC
  r.edge_location = "EG1";
  r.sc_bytes = 12345;
  r.client_ip = "192.0.2.10";
  r.client_port = 54321;
  r.method = "GET";
  r.host = "www.example.com";
  r.uri_stem = "/images/cat.jpg";
  r.status = 200;
  r.referer = "https://ref.example/";
  r.user_agent = "Mozilla/5.0 (X11; Linux)";
  r.query = "a=1&b=2";
  r.cookie = "session=abc";
  r.result_type = "Miss";
  r.request_id = "req-0001";
  r.protocol = "https";
  r.cs_bytes = 321;
  r.time_taken = 0.082;
  r.forwarded_for = "198.51.100.7";
  r.ssl_protocol = "TLSv1.3";
  r.ssl_cipher = "TLS_AES_128_GCM_SHA256";
  r.response_result_type = "Miss";
  r.protocol_version = "HTTP/1.1";
  r.time_to_first_byte = 0.0405;
  r.detailed_result_type = "Miss";
  r.content_type = "image/jpeg";
  r.content_length = 12000;
  r.range_start = 0;
  r.range_end = 11999;
  r.behavior = "/images/*";
  r.origin = "site";
  return r;
}

// ---- CloudFront format -----------------------------------------------------------------

TEST(AccessLogCloudFront, HeaderLines) {
  std::string_view h = cloudfront_header();
  ASSERT_TRUE(h.starts_with("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes "));
  ASSERT_EQ(h.back(), '\n');
  auto second = h.substr(h.find('\n') + 1);
  EXPECT_EQ(std::count(h.begin(), h.end(), '\n'), 2);
  // 33 field names after "#Fields:"
  std::istringstream names(std::string(second.substr(strlen("#Fields:"))));
  std::vector<std::string> v;
  for (std::string n; names >> n;) v.push_back(n);
  ASSERT_EQ(v.size(), 33u);
  EXPECT_EQ(v[6], "cs(Host)");
  EXPECT_EQ(v[15], "x-host-header");
  EXPECT_EQ(v[32], "sc-range-end");
}

TEST(AccessLogCloudFront, EveryField) {
  std::string line;
  format_cloudfront(full_record(), line);
  auto f = fields_of(line);
  ASSERT_EQ(f.size(), 33u);
  const char* want[33] = {"2024-02-29",
                          "23:59:59",
                          "EG1",
                          "12345",
                          "192.0.2.10",
                          "GET",
                          "www.example.com",
                          "/images/cat.jpg",
                          "200",
                          "https://ref.example/",
                          "Mozilla/5.0%20(X11;%20Linux)",
                          "a=1&b=2",
                          "session=abc",
                          "Miss",
                          "req-0001",
                          "www.example.com",
                          "https",
                          "321",
                          "0.082",
                          "198.51.100.7",
                          "TLSv1.3",
                          "TLS_AES_128_GCM_SHA256",
                          "Miss",
                          "HTTP/1.1",
                          "-",
                          "-",
                          "54321",
                          "0.041",
                          "Miss",
                          "image/jpeg",
                          "12000",
                          "0",
                          "11999"};
  for (size_t i = 0; i < 33; ++i) EXPECT_EQ(f[i], want[i]) << "field " << i + 1;
}

TEST(AccessLogCloudFront, MissingValuesAreDashes) {
  AccessRecord r;
  r.end_time = at_ms(0);
  std::string line;
  format_cloudfront(r, line);
  auto f = fields_of(line);
  ASSERT_EQ(f.size(), 33u);
  EXPECT_EQ(f[0], "1970-01-01");
  EXPECT_EQ(f[1], "00:00:00");
  EXPECT_EQ(f[3], "0");    // sc-bytes
  EXPECT_EQ(f[8], "000");  // status 0: viewer left before any response
  EXPECT_EQ(f[17], "0");   // cs-bytes
  EXPECT_EQ(f[18], "0.000");
  EXPECT_EQ(f[27], "0.000");
  for (int i : {2,  4,  5,  6,  7,  9,  10, 11, 12, 13, 14, 15, 16,
                19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32})
    EXPECT_EQ(f[i], "-") << "field " << i + 1;
}

TEST(AccessLogCloudFront, StatusAlwaysThreeDigits) {
  AccessRecord r;
  for (auto [status, want] : std::vector<std::pair<int, std::string>>{
           {0, "000"}, {7, "007"}, {99, "099"}, {404, "404"}, {-1, "-"}, {1000, "-"}}) {
    r.status = status;
    std::string line;
    format_cloudfront(r, line);
    EXPECT_EQ(fields_of(line)[8], want);
  }
}

TEST(AccessLogCloudFront, SecondsWithMillisecondPrecision) {
  AccessRecord r;
  for (auto [v, want] : std::vector<std::pair<double, std::string>>{
           {0.0, "0.000"},
           {0.0004, "0.000"},
           {0.0006, "0.001"},
           {1.5, "1.500"},
           {12.3456, "12.346"},
           {59.9999, "60.000"},
           {3600.25, "3600.250"},
           {-1.0, "-"},
           {std::numeric_limits<double>::quiet_NaN(), "-"},
           {std::numeric_limits<double>::infinity(), "-"}}) {
    r.time_taken = v;
    r.time_to_first_byte = v;
    std::string line;
    format_cloudfront(r, line);
    auto f = fields_of(line);
    EXPECT_EQ(f[18], want) << v;
    EXPECT_EQ(f[27], want) << v;
  }
}

TEST(AccessLogCloudFront, ExtremeValues) {
  AccessRecord r;
  r.sc_bytes = r.cs_bytes = std::numeric_limits<uint64_t>::max();
  r.status = std::numeric_limits<int>::min();
  r.client_port = 65535;
  r.time_taken = r.time_to_first_byte = 1e300;
  r.content_length = r.range_start = r.range_end = std::numeric_limits<int64_t>::max();
  for (auto tp : {system_clock::time_point::min(), system_clock::time_point::max()}) {
    r.end_time = tp;
    std::string line;
    format_cloudfront(r, line);
    auto f = fields_of(line);
    ASSERT_EQ(f.size(), 33u);
    EXPECT_EQ(f[3], "18446744073709551615");
    EXPECT_EQ(f[8], "-");
    EXPECT_EQ(f[26], "65535");
    EXPECT_EQ(f[30], "9223372036854775807");
    std::string json;
    format_json(r, json);
    auto j = nlohmann::json::parse(json);
    EXPECT_EQ(j["sc_bytes"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(j["status"], std::numeric_limits<int>::min());
  }
  // Long values take the path for lines larger than the stack buffer.
  std::string big(100000, '"');
  r.user_agent = big;
  r.cookie = big;
  std::string line;
  format_cloudfront(r, line);
  EXPECT_EQ(fields_of(line)[10].size(), 300000u);
  std::string json;
  format_json(r, json);
  EXPECT_EQ(nlohmann::json::parse(json)["cookie"].get<std::string>(), big);
}

TEST(AccessLogCloudFront, DateTimeIsUtc) {
  AccessRecord r;
  r.end_time = at_ms(784111777LL * 1000 + 999);  // 1994-11-06 08:49:37.999
  std::string line;
  format_cloudfront(r, line);
  auto f = fields_of(line);
  EXPECT_EQ(f[0], "1994-11-06");
  EXPECT_EQ(f[1], "08:49:37");  // truncated, not rounded

  r.end_time = at_ms(-1);  // before the epoch: floor, not truncation toward zero
  line.clear();
  format_cloudfront(r, line);
  f = fields_of(line);
  EXPECT_EQ(f[0], "1969-12-31");
  EXPECT_EQ(f[1], "23:59:59");
}

TEST(AccessLogCloudFront, EscapesEverySpecialCharacter) {
  for (char c : std::string_view("<>\"#%{}|\\^~[]'`")) {
    char want[4];
    snprintf(want, sizeof want, "%%%02X", static_cast<unsigned char>(c));
    EXPECT_EQ(cf_escaped(std::string(1, c)), want) << c;
  }
  for (int c = 0; c <= 32; ++c) {
    char want[4];
    snprintf(want, sizeof want, "%%%02X", c);
    EXPECT_EQ(cf_escaped(std::string(1, char(c))), want) << c;
  }
  for (int c = 127; c <= 255; ++c) {
    char want[4];
    snprintf(want, sizeof want, "%%%02X", c);
    EXPECT_EQ(cf_escaped(std::string(1, char(c))), want) << c;
  }
  // Everything else is kept as is.
  std::string plain;
  for (int c = 33; c < 127; ++c)
    if (std::string_view("<>\"#%{}|\\^~[]'`").find(char(c)) == std::string_view::npos)
      plain.push_back(char(c));
  EXPECT_EQ(cf_escaped(plain), plain);
  EXPECT_EQ(cf_escaped("a b\tc\nd"), "a%20b%09c%0Ad");
  EXPECT_EQ(cf_escaped("/a%20b"), "/a%2520b");  // '%' itself is escaped, like CloudFront
  EXPECT_EQ(cf_escaped("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(cf_escaped(""), "");
}

// The escaper scans 16 bytes at a time where it can: every byte value at every position of
// strings around the block size must come out as the byte-by-byte definition says.
TEST(AccessLogCloudFront, EscaperMatchesReferenceAtEveryPosition) {
  auto reference = [](std::string_view v) {
    std::string out;
    for (unsigned char c : v) {
      bool esc = c <= 32 || c >= 127 ||
                 std::string_view("<>\"#%{}|\\^~[]'`").find(char(c)) != std::string_view::npos;
      if (esc) {
        char b[4];
        snprintf(b, sizeof b, "%%%02X", c);
        out += b;
      } else {
        out.push_back(char(c));
      }
    }
    return out;
  };
  for (size_t len : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49}) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int c = 0; c < 256; ++c) {
        std::string v(len, 'a');
        v[pos] = char(c);
        ASSERT_EQ(cf_escaped(v), reference(v)) << "len " << len << " pos " << pos << " byte " << c;
      }
    }
  }
}

TEST(AccessLogCloudFront, SpacesInUserAgent) {
  AccessRecord r;
  r.user_agent = "curl/8.0 (x86_64 Linux) \"quoted\"";
  std::string line;
  format_cloudfront(r, line);
  EXPECT_EQ(fields_of(line)[10], "curl/8.0%20(x86_64%20Linux)%20%22quoted%22");
}

TEST(AccessLogCloudFront, TabsAndNewlinesCannotBreakTheLine) {
  AccessRecord r;
  std::string evil = "a\tb\nc\rd e";
  r.uri_stem = evil;
  r.user_agent = evil;
  r.referer = evil;
  r.query = evil;
  r.cookie = evil;
  r.host = evil;
  std::string line;
  format_cloudfront(r, line);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 0);
  EXPECT_EQ(fields_of(line).size(), 33u);
}

TEST(AccessLogCloudFront, AppendsToTheCallersBuffer) {
  std::string buf = "previous\n";
  format_cloudfront(full_record(), buf);
  format_cloudfront(full_record(), buf);
  EXPECT_TRUE(buf.starts_with("previous\n2024-02-29\t"));
  EXPECT_EQ(std::count(buf.begin(), buf.end(), '\n'), 3);
}

// ---- JSON ------------------------------------------------------------------------------

nlohmann::json parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  return nlohmann::json::parse(line);  // throws (fails the test) on invalid JSON
}

TEST(AccessLogJson, EveryField) {
  std::string line;
  format_json(full_record(), line);
  auto j = parse_line(line);
  EXPECT_EQ(j.size(), 34u);  // 33 CloudFront fields with date+time joined, behavior, origin
  EXPECT_EQ(j["date"], "2024-02-29T23:59:59.987Z");
  EXPECT_EQ(j["edge_location"], "EG1");
  EXPECT_EQ(j["sc_bytes"], 12345);
  EXPECT_EQ(j["client_ip"], "192.0.2.10");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["host"], "www.example.com");
  EXPECT_EQ(j["uri_stem"], "/images/cat.jpg");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["referer"], "https://ref.example/");
  EXPECT_EQ(j["user_agent"], "Mozilla/5.0 (X11; Linux)");  // not %-encoded in JSON
  EXPECT_EQ(j["query"], "a=1&b=2");
  EXPECT_EQ(j["cookie"], "session=abc");
  EXPECT_EQ(j["result_type"], "Miss");
  EXPECT_EQ(j["request_id"], "req-0001");
  EXPECT_EQ(j["host_header"], "www.example.com");
  EXPECT_EQ(j["protocol"], "https");
  EXPECT_EQ(j["cs_bytes"], 321);
  EXPECT_DOUBLE_EQ(j["time_taken"].get<double>(), 0.082);
  EXPECT_EQ(j["forwarded_for"], "198.51.100.7");
  EXPECT_EQ(j["ssl_protocol"], "TLSv1.3");
  EXPECT_EQ(j["ssl_cipher"], "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(j["response_result_type"], "Miss");
  EXPECT_EQ(j["protocol_version"], "HTTP/1.1");
  EXPECT_TRUE(j["fle_status"].is_null());
  EXPECT_TRUE(j["fle_encrypted_fields"].is_null());
  EXPECT_EQ(j["client_port"], 54321);
  EXPECT_DOUBLE_EQ(j["time_to_first_byte"].get<double>(), 0.041);
  EXPECT_EQ(j["detailed_result_type"], "Miss");
  EXPECT_EQ(j["content_type"], "image/jpeg");
  EXPECT_EQ(j["content_length"], 12000);
  EXPECT_EQ(j["range_start"], 0);
  EXPECT_EQ(j["range_end"], 11999);
  EXPECT_EQ(j["behavior"], "/images/*");
  EXPECT_EQ(j["origin"], "site");
}

TEST(AccessLogJson, MissingValuesAreNull) {
  AccessRecord r;
  r.end_time = at_ms(-1);
  std::string line;
  format_json(r, line);
  auto j = parse_line(line);
  EXPECT_EQ(j["date"], "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(j["status"], 0);
  for (const char* k :
       {"edge_location", "client_ip", "method", "uri_stem", "referer", "query", "cookie",
        "client_port", "content_length", "range_start", "range_end", "behavior", "origin"})
    EXPECT_TRUE(j[k].is_null()) << k;
}

TEST(AccessLogJson, EscapingRoundTrips) {
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(char(c));
  all_controls += "\x7f\"\\/ plain";
  std::string utf8 =
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";  // é € 😀 U+10FFFF
  AccessRecord r;
  r.user_agent = all_controls;
  r.uri_stem = utf8;
  std::string line;
  format_json(r, line);
  auto j = parse_line(line);
  EXPECT_EQ(j["user_agent"].get<std::string>(), all_controls);
  EXPECT_EQ(j["uri_stem"].get<std::string>(), utf8);
  // Controls are \u00XX, not raw and not the short forms.
  EXPECT_NE(line.find(R"(\u0000\u0001)"), std::string::npos);
  EXPECT_NE(line.find(R"(\u000a)"), std::string::npos);
  EXPECT_NE(line.find(R"(\u007f\"\\/ plain)"), std::string::npos);
  // Valid UTF-8 is copied raw.
  EXPECT_NE(line.find(utf8), std::string::npos);
}

TEST(AccessLogJson, InvalidUtf8BytesBecomeEscapedBytes) {
  struct Case {
    std::string in;
    std::string escaped;
  };
  std::vector<Case> cases = {
      {"\xff", R"(\u00ff)"},
      {"a\xc3", R"(a\u00c3)"},                              // truncated sequence at the end
      {"\xc3(", R"(\u00c3()"},                              // bad continuation
      {"\xc0\xaf", R"(\u00c0\u00af)"},                      // overlong '/'
      {"\xe0\x80\xaf", R"(\u00e0\u0080\u00af)"},            // overlong 3-byte
      {"\xed\xa0\x80", R"(\u00ed\u00a0\u0080)"},            // UTF-16 surrogate
      {"\xf4\x90\x80\x80", R"(\u00f4\u0090\u0080\u0080)"},  // above U+10FFFF
      {"\x80", R"(\u0080)"},                                // lone continuation
  };
  for (const auto& c : cases) {
    AccessRecord r;
    r.referer = c.in;
    std::string line;
    format_json(r, line);
    EXPECT_NE(line.find("\"referer\":\"" + c.escaped + "\""), std::string::npos) << line;
    auto j = parse_line(line);  // still valid JSON
    // Each invalid byte reads back as the code point of the same value.
    std::string want;
    for (unsigned char b : c.in) {
      if (b < 0x80) {
        want.push_back(char(b));
      } else {
        want.push_back(char(0xC0 | (b >> 6)));
        want.push_back(char(0x80 | (b & 0x3F)));
      }
    }
    EXPECT_EQ(j["referer"].get<std::string>(), want);
  }
}

TEST(AccessLogJson, EscaperMatchesReferenceAtEveryPosition) {
  for (size_t len : {1, 15, 16, 17, 33}) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int c = 0; c < 256; ++c) {
        std::string v(len, 'a');
        v[pos] = char(c);
        std::string want = v.substr(0, pos);
        if (c == '"' || c == '\\') {
          want += '\\';
          want += char(c);
        } else if (c < 0x20 || c >= 0x7f) {
          char b[8];
          snprintf(b, sizeof b, "\\u%04x", c);
          want += b;
        } else {
          want += char(c);
        }
        want += v.substr(pos + 1);
        AccessRecord r;
        r.query = v;
        std::string line;
        format_json(r, line);
        ASSERT_NE(line.find(",\"query\":\"" + want + "\","), std::string::npos)
            << "len " << len << " pos " << pos << " byte " << c << "\n"
            << line;
      }
    }
  }
}

TEST(AccessLogJson, SecondsAreNumbers) {
  AccessRecord r;
  r.time_taken = 12.3456;
  r.time_to_first_byte = -3;
  std::string line;
  format_json(r, line);
  EXPECT_NE(line.find("\"time_taken\":12.346,"), std::string::npos);
  auto j = parse_line(line);
  EXPECT_TRUE(j["time_to_first_byte"].is_null());
}

// ---- files -----------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eg-log-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string cf_line(const AccessRecord& r) {
  std::string s;
  format_cloudfront(r, s);
  return s;
}

TEST(LogFile, NewFileGetsHeaderAndMode0640) {
  TempDir dir;
  mode_t old_mask = umask(022);
  LogFile f(dir / "access.log", Format::CloudFront);
  std::string err;
  ASSERT_TRUE(f.open(&err)) << err;
  umask(old_mask);
  f.write(cf_line(full_record()));
  EXPECT_EQ(slurp(dir / "access.log"), std::string(cloudfront_header()) + cf_line(full_record()));
  struct stat st;
  ASSERT_EQ(stat((dir / "access.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(LogFile, ExistingFileIsAppendedWithoutSecondHeader) {
  TempDir dir;
  {
    LogFile f(dir / "access.log", Format::CloudFront);
    ASSERT_TRUE(f.open(nullptr));
    f.write("one\n");
  }
  LogFile f(dir / "access.log", Format::CloudFront);
  ASSERT_TRUE(f.open(nullptr));
  f.write("two\n");
  EXPECT_EQ(slurp(dir / "access.log"), std::string(cloudfront_header()) + "one\ntwo\n");
}

TEST(LogFile, EmptyExistingFileGetsHeader) {
  TempDir dir;
  { std::ofstream(dir / "access.log"); }
  LogFile f(dir / "access.log", Format::CloudFront);
  ASSERT_TRUE(f.open(nullptr));
  EXPECT_EQ(slurp(dir / "access.log"), cloudfront_header());
}

TEST(LogFile, JsonHasNoHeader) {
  TempDir dir;
  LogFile f(dir / "access.json", Format::Json);
  ASSERT_TRUE(f.open(nullptr));
  f.write("{}\n");
  EXPECT_EQ(slurp(dir / "access.json"), "{}\n");
}

TEST(LogFile, MissingDirectoryIsAnError) {
  TempDir dir;
  LogFile f(dir / "no/such/dir/access.log", Format::CloudFront);
  std::string err;
  EXPECT_FALSE(f.open(&err));
  EXPECT_NE(err.find("no/such/dir/access.log"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir / "no"));
  f.write("dropped\n");  // no descriptor: a no-op, not a crash
}

TEST(LogFile, ReopenAfterRenameWritesToNewFileWithHeader) {
  TempDir dir;
  LogFile f(dir / "access.log", Format::CloudFront);
  ASSERT_TRUE(f.open(nullptr));
  f.write("before\n");
  std::filesystem::rename(dir / "access.log", dir / "access.log.1");
  f.write("still-old\n");  // logrotate moved it; we keep writing to the moved file
  std::string err;
  ASSERT_TRUE(f.reopen(&err)) << err;
  f.write("after\n");
  std::string h(cloudfront_header());
  EXPECT_EQ(slurp(dir / "access.log.1"), h + "before\nstill-old\n");
  EXPECT_EQ(slurp(dir / "access.log"), h + "after\n");
}

TEST(LogFile, FailedReopenKeepsTheOldDescriptor) {
  TempDir dir;
  std::filesystem::create_directory(dir / "logs");
  LogFile f(dir / "logs/access.log", Format::Json);
  ASSERT_TRUE(f.open(nullptr));
  f.write("a\n");
  std::filesystem::rename(dir / "logs/access.log", dir / "moved.log");
  std::filesystem::remove(dir / "logs");
  std::string err;
  EXPECT_FALSE(f.reopen(&err));
  EXPECT_FALSE(err.empty());
  f.write("b\n");
  EXPECT_EQ(slurp(dir / "moved.log"), "a\nb\n");
}

TEST(AccessLogWriter, BuffersUntilLimitAndFlushesOnDestruction) {
  TempDir dir;
  auto file = std::make_shared<LogFile>(dir / "access.log", Format::CloudFront);
  ASSERT_TRUE(file->open(nullptr));
  std::string header(cloudfront_header());
  std::string line = cf_line(full_record());
  {
    AccessLogWriter w(file, line.size() * 3);
    w.append(full_record());
    w.append(full_record());
    EXPECT_EQ(slurp(dir / "access.log"), header);  // still buffered
    w.append(full_record());                       // reaches the limit
    EXPECT_EQ(slurp(dir / "access.log"), header + line + line + line);
    w.append(full_record());
    w.flush();
    EXPECT_EQ(slurp(dir / "access.log"), header + line + line + line + line);
    w.append(full_record());
  }
  EXPECT_EQ(slurp(dir / "access.log"), header + line + line + line + line + line);
}

TEST(AccessLogWriter, UsesTheFilesFormat) {
  TempDir dir;
  auto file = std::make_shared<LogFile>(dir / "access.json", Format::Json);
  ASSERT_TRUE(file->open(nullptr));
  {
    AccessLogWriter w(file, 1 << 16);
    w.append(full_record());
  }
  std::string s = slurp(dir / "access.json");
  EXPECT_EQ(nlohmann::json::parse(s)["origin"], "site");
}

// 4 workers with small buffers, plus log rotation in the middle: every line in both files
// is whole, and every record appears exactly once.
TEST(AccessLogWriter, ConcurrentWritersProduceOnlyWholeLines) {
  TempDir dir;
  auto file = std::make_shared<LogFile>(dir / "access.log", Format::CloudFront);
  ASSERT_TRUE(file->open(nullptr));
  constexpr int kThreads = 4, kPerThread = 5000;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AccessLogWriter w(file, 4096 + 517 * t);  // odd sizes: flushes never line up
      std::string ua(size_t(t * 37 + 1), 'x');
      for (int i = 0; i < kPerThread; ++i) {
        AccessRecord r = full_record();
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        r.request_id = id;
        r.user_agent = std::string_view(ua).substr(0, size_t(i % 97) + 1);
        w.append(r);
      }
      w.flush();
      done++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::filesystem::rename(dir / "access.log", dir / "access.log.1");
  ASSERT_TRUE(file->reopen(nullptr));
  for (auto& th : threads) th.join();
  ASSERT_EQ(done.load(), kThreads);

  std::set<std::string> ids;
  size_t lines = 0;
  for (const char* name : {"access.log.1", "access.log"}) {
    std::istringstream in(slurp(dir / name));
    std::string l;
    ASSERT_TRUE(std::getline(in, l));
    EXPECT_EQ(l, "#Version: 1.0");
    ASSERT_TRUE(std::getline(in, l));
    EXPECT_TRUE(l.starts_with("#Fields: "));
    while (std::getline(in, l)) {
      auto f = fields_of(l + "\n");
      ASSERT_EQ(f.size(), 33u) << l;
      EXPECT_EQ(f[0], "2024-02-29");
      EXPECT_EQ(f[32], "11999");
      ids.insert(f[14]);
      ++lines;
    }
  }
  EXPECT_EQ(lines, size_t(kThreads * kPerThread));
  EXPECT_EQ(ids.size(), size_t(kThreads * kPerThread));
}

}  // namespace
}  // namespace eg::logs
