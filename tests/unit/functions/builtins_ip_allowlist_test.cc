#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "builtins_support.h"
#include "functions/builtins/ip_allowlist.h"
#include "waf/ip_address.h"

namespace eg::functions::test {
namespace {

using builtins::IpAllowlist;
using builtins::IpAllowlistOptions;
using builtins::OptionReader;

std::atomic<int64_t> g_now_ms = 5'000'000;  // read by other threads in one test
int64_t fake_now() { return g_now_ms.load(); }

std::unique_ptr<IpAllowlist> make_with_clock(std::string_view options_json,
                                             const std::filesystem::path& base) {
  std::string error;
  const nlohmann::json options = nlohmann::json::parse(options_json);
  OptionReader reader("ip-allowlist", options, base, error);
  IpAllowlistOptions parsed;
  parse_ip_allowlist_options(reader, parsed);
  EXPECT_TRUE(reader.ok()) << error;
  return std::make_unique<IpAllowlist>(std::move(parsed), &fake_now);
}

// 0: allowed (no answer), else the answer's status.
int status_for(Function& f, std::string_view client_ip,
               std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
  auto req = request("/", headers);
  RequestResult r = f.on_request_now(viewer(client_ip), req);
  return r.answer ? r.answer->status : 0;
}

TEST(BuiltinIpAllowlist, InlineCidrsAllowInsideAndForbidOutside) {
  auto f = make("ip-allowlist", EventType::ViewerRequest,
                R"({"cidrs": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]})");
  EXPECT_EQ(status_for(*f, "203.0.113.9"), 0);
  EXPECT_EQ(status_for(*f, "::ffff:203.0.113.9"), 0);
  EXPECT_EQ(status_for(*f, "198.51.100.7"), 0);
  EXPECT_EQ(status_for(*f, "2001:db8:ffff::1"), 0);
  EXPECT_EQ(status_for(*f, "198.51.100.8"), 403);
  EXPECT_EQ(status_for(*f, "2001:db9::1"), 403);

  auto req = request("/a?b=c", {{"Host", "example.com"}, {"X-Forwarded-For", "203.0.113.9"}});
  RequestResult r = f->on_request_now(viewer("192.0.2.1"), req);
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, 403);
  EXPECT_EQ(r.answer->body, "Forbidden");
  EXPECT_EQ(*r.answer->headers.find("Content-Type"), "text/plain; charset=utf-8");

  // An allowed request passes on unchanged.
  auto allowed = request("/a?b=c", {{"Host", "example.com"}});
  r = f->on_request_now(viewer("203.0.113.200"), allowed);
  EXPECT_FALSE(r.answer);
  EXPECT_FALSE(r.failure);
  EXPECT_EQ(allowed.target, "/a?b=c");
  ASSERT_EQ(allowed.headers.size(), 1u);
}

TEST(BuiltinIpAllowlist, FileWithCommentsAndBlankLines) {
  TempDir dir("ip-allowlist-file");
  dir.write("allow.txt", "# office\n10.0.0.0/8   # whole net\r\n\n  2001:db8:42::/48\n192.0.2.1\n");
  auto f = make("ip-allowlist", EventType::ViewerRequest, R"({"file": "allow.txt"})", dir.path);
  EXPECT_EQ(status_for(*f, "10.200.0.1"), 0);
  EXPECT_EQ(status_for(*f, "2001:db8:42::9"), 0);
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 0);
  EXPECT_EQ(status_for(*f, "192.0.2.2"), 403);
  EXPECT_EQ(status_for(*f, "11.0.0.1"), 403);
}

TEST(BuiltinIpAllowlist, SecurityGroupsTakeOnlyRulesLettingTcp80Or443Through) {
  auto f = make("ip-allowlist", EventType::ViewerRequest,
                R"({"security_groups": "security_groups.json"})");
  EXPECT_EQ(status_for(*f, "203.0.113.5"), 0);     // tcp 443
  EXPECT_EQ(status_for(*f, "2001:db8:1::5"), 0);   // tcp 443, Ipv6Ranges
  EXPECT_EQ(status_for(*f, "100.64.3.4"), 0);      // protocol "6", ports 0-1024
  EXPECT_EQ(status_for(*f, "10.1.2.3"), 0);        // protocol "-1": all traffic
  EXPECT_EQ(status_for(*f, "198.51.100.5"), 403);  // tcp 22 only
  EXPECT_EQ(status_for(*f, "192.0.2.5"), 403);     // udp only

  auto ssh = make("ip-allowlist", EventType::ViewerRequest,
                  R"({"security_groups": "security_groups.json", "ports": [22]})");
  EXPECT_EQ(status_for(*ssh, "198.51.100.5"), 0);
  EXPECT_EQ(status_for(*ssh, "203.0.113.5"), 403);
}

TEST(BuiltinIpAllowlist, ClientAddressFromXForwardedFor) {
  auto first = make("ip-allowlist", EventType::ViewerRequest,
                    R"({"cidrs": ["203.0.113.0/24"], "client_ip": "x-forwarded-for-first"})");
  auto last = make("ip-allowlist", EventType::ViewerRequest,
                   R"({"cidrs": ["203.0.113.0/24"], "client_ip": "x-forwarded-for-last"})");
  const std::pair<std::string_view, std::string_view> xff = {"X-Forwarded-For",
                                                             "203.0.113.1:5555, 192.0.2.1"};
  EXPECT_EQ(status_for(*first, "192.0.2.99", {xff}), 0);
  EXPECT_EQ(status_for(*last, "192.0.2.99", {xff}), 403);
  EXPECT_EQ(status_for(*last, "192.0.2.99", {{"x-forwarded-for", "192.0.2.1, [::1]:80"}}), 403);
  EXPECT_EQ(status_for(*last, "192.0.2.99", {{"X-Forwarded-For", "192.0.2.1,203.0.113.4"}}), 0);
  // Without the header, the connection's address; an unparsable entry is denied.
  EXPECT_EQ(status_for(*first, "203.0.113.50"), 0);
  EXPECT_EQ(status_for(*first, "203.0.113.50", {{"X-Forwarded-For", "unknown"}}), 403);
}

TEST(BuiltinIpAllowlist, TtlRereadPicksUpAChangedFile) {
  TempDir dir("ip-allowlist-ttl");
  dir.write("allow.txt", "192.0.2.0/24\n");
  auto f = make_with_clock(R"({"file": "allow.txt", "ttl": 600})", dir.path);
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 0);
  EXPECT_EQ(status_for(*f, "198.51.100.1"), 403);

  dir.write("allow.txt", "198.51.100.0/24\n");
  g_now_ms += 599'000;
  EXPECT_EQ(status_for(*f, "198.51.100.1"), 403);  // not yet due
  g_now_ms += 2'000;
  EXPECT_EQ(status_for(*f, "198.51.100.1"), 0);
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 403);
  EXPECT_EQ(f->counters().reloads.load(), 1u);
}

// Each thread reads the list through a view of its own: a list re-read on one thread must
// reach threads that already hold a view, and threads past the views (64) too.
TEST(BuiltinIpAllowlist, RereadListReachesEveryThread) {
  TempDir dir("ip-allowlist-threads");
  dir.write("allow.txt", "192.0.2.0/24\n");
  auto f = make_with_clock(R"({"file": "allow.txt", "ttl": 600})", dir.path);
  auto on_threads = [&](std::string_view ip, int threads) {
    std::vector<int> statuses(size_t(threads), -1);
    for (int i = 0; i < threads; ++i)
      std::thread([&, i] { statuses[size_t(i)] = status_for(*f, ip); }).join();
    return statuses;
  };
  std::vector<std::thread> keep;
  // Three threads that stay alive across the re-read, each asked before and after it.
  std::vector<int> before(3, -1), after(3, -1);
  int asked = 0;
  bool reread = false;
  std::mutex m;
  std::condition_variable cv;
  for (int i = 0; i < 3; ++i)
    keep.emplace_back([&, i] {
      before[size_t(i)] = status_for(*f, "198.51.100.1");
      std::unique_lock lock(m);
      ++asked;
      cv.notify_all();
      cv.wait(lock, [&] { return reread; });
      lock.unlock();
      after[size_t(i)] = status_for(*f, "198.51.100.1");
    });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return asked == 3; });
  }
  EXPECT_EQ(on_threads("198.51.100.1", 70), std::vector<int>(70, 403));

  dir.write("allow.txt", "198.51.100.0/24\n");
  g_now_ms += 601'000;
  EXPECT_EQ(status_for(*f, "198.51.100.1"), 0);  // re-read here, on the test's thread
  EXPECT_EQ(f->counters().reloads.load(), 1u);
  {
    std::lock_guard lock(m);
    reread = true;
  }
  cv.notify_all();
  for (auto& t : keep) t.join();
  EXPECT_EQ(before, std::vector<int>(3, 403));
  EXPECT_EQ(after, std::vector<int>(3, 0));
  EXPECT_EQ(on_threads("198.51.100.1", 70), std::vector<int>(70, 0));
  EXPECT_EQ(on_threads("192.0.2.1", 3), std::vector<int>(3, 403));
}

// The proxy passes the connection's address parsed once (Context::client_address); without
// it the text form is parsed.
TEST(BuiltinIpAllowlist, UsesTheParsedClientAddressWhenGiven) {
  auto f = make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": ["10.0.0.0/8"]})");
  const waf::IpAddress inside = *waf::parse_ip("10.1.2.3");
  const waf::IpAddress outside = *waf::parse_ip("11.1.2.3");
  auto req = request("/");
  Context c = viewer("10.1.2.3");
  c.client_address = &inside;
  EXPECT_FALSE(f->on_request_now(c, req).answer);
  c.client_address = &outside;
  ASSERT_TRUE(f->on_request_now(c, req).answer);
  EXPECT_EQ(f->on_request_now(c, req).answer->status, 403);
  c.client_address = nullptr;
  EXPECT_FALSE(f->on_request_now(c, req).answer);
}

TEST(BuiltinIpAllowlist, BrokenRereadKeepsTheLastGoodList) {
  TempDir dir("ip-allowlist-broken");
  dir.write("sg.json", R"({"SecurityGroups": [{"IpPermissions": [{"IpProtocol": "tcp",
      "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.0.2.0/24"}]}]}]})");
  auto f = make_with_clock(R"({"security_groups": "sg.json", "ttl": 60})", dir.path);
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 0);

  dir.write("sg.json", R"({"SecurityGroups": [{"IpPermissions": [)");
  g_now_ms += 61'000;
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 0);
  EXPECT_EQ(f->counters().reload_failures.load(), 1u);
  std::filesystem::remove(dir.path / "sg.json");
  g_now_ms += 61'000;
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 0);
  EXPECT_EQ(f->counters().reload_failures.load(), 2u);
  EXPECT_EQ(f->counters().reloads.load(), 0u);

  dir.write("sg.json", R"({"SecurityGroups": []})");
  g_now_ms += 61'000;
  EXPECT_EQ(status_for(*f, "192.0.2.1"), 403);
  EXPECT_EQ(f->counters().reloads.load(), 1u);
}

TEST(BuiltinIpAllowlist, FirstLoadFailuresAreConfigErrors) {
  TempDir dir("ip-allowlist-errors");
  std::string error;
  dir.write("allow.txt", "10.0.0.0/8\n10.0.0.0/33\n");
  EXPECT_FALSE(try_make("ip-allowlist", EventType::ViewerRequest, R"({"file": "allow.txt"})", error,
                        dir.path));
  EXPECT_EQ(error, "ip-allowlist: file: file " + (dir.path / "allow.txt").string() +
                       " line 2: \"10.0.0.0/33\": the prefix length must be 0 to 32");

  try_make("ip-allowlist", EventType::ViewerRequest, R"({"file": "nope.txt"})", error, dir.path);
  EXPECT_NE(error.find("ip-allowlist: file: cannot read file"), std::string::npos) << error;

  dir.write("sg.json", "{\"SecurityGroups\": [");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"security_groups": "sg.json"})", error,
           dir.path);
  EXPECT_NE(error.find("ip-allowlist: security_groups: file "), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;

  dir.write("sg.json", R"({"SecurityGroups": [{"IpPermissions": [{"IpProtocol": "tcp",
      "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.300/8"}]}]}]})");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"security_groups": "sg.json"})", error,
           dir.path);
  EXPECT_NE(error.find("SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: \"10.0.0.300/8\""),
            std::string::npos)
      << error;

  dir.write("sg.json", R"([{"GroupId": "sg-1"}])");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"security_groups": "sg.json"})", error,
           dir.path);
  EXPECT_NE(error.find("expected {\"SecurityGroups\": [...]}"), std::string::npos) << error;

  try_make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": ["10.0.0.0/8", "bogus"]})",
           error);
  EXPECT_EQ(error,
            "ip-allowlist: cidrs: item 2: \"bogus\" is not an IPv4 or IPv6 address or CIDR prefix");
  try_make("ip-allowlist", EventType::ViewerRequest, R"({"ttl": 5})", error);
  EXPECT_EQ(error, "ip-allowlist: needs cidrs, file or security_groups");
  try_make("ip-allowlist", EventType::ViewerRequest,
           R"({"cidrs": "10.0.0.0/8", "client_ip": "x-real-ip"})", error);
  EXPECT_NE(error.find("ip-allowlist: client_ip: expected connection"), std::string::npos);
}

TEST(BuiltinIpAllowlist, AnUnparsableConnectionAddressIs500) {
  auto f = make("ip-allowlist", EventType::ViewerRequest, R"({"cidrs": ["10.0.0.0/8"]})");
  EXPECT_EQ(status_for(*f, ""), 500);
  EXPECT_EQ(status_for(*f, "not-an-ip"), 500);
}

}  // namespace
}  // namespace eg::functions::test
