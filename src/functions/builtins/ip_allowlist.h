// ip-allowlist (viewer-request; scenario S2): only clients whose address falls inside the
// listed ranges get through; others get 403 "Forbidden" (text/plain). An allowed request
// passes on unchanged.
//
//   viewer-request: {builtin: ip-allowlist, security_groups: sg.json, ttl: 600}
//
// Options (at least one of cidrs, file, security_groups; the lists are joined):
//   cidrs            inline IPv4/IPv6 CIDRs or addresses
//   file             one CIDR or address per line, '#' starts a comment
//   security_groups  `aws ec2 describe-security-groups` output: the IpRanges and Ipv6Ranges
//                    of rules that let TCP reach one of `ports`. A rule of protocol "-1" (all
//                    traffic) counts, since it lets TCP 80/443 through as well; UDP, ICMP and
//                    rules on other ports (22) do not. UserIdGroupPairs and PrefixListIds
//                    name no addresses and are ignored.
//   ports            the ports a security group rule must cover: [80, 443]
//   ttl              seconds after which the files are read again (600; 0: read once). A
//                    failed re-read keeps the last good list and is logged.
//   client_ip        connection (default) | x-forwarded-for-first | x-forwarded-for-last.
//                    The first entry is what the client claims (anyone can send it); the last
//                    is what the proxy in front of edgeguard saw. Without the header the
//                    connection's address is used; an unparsable entry is denied.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "functions/builtins/builtin.h"
#include "functions/builtins/options.h"
#include "waf/ip_address.h"
#include "waf/ip_set.h"

namespace eg::functions::builtins {

struct IpAllowlistOptions {
  enum class ClientIp : uint8_t { Connection, ForwardedForFirst, ForwardedForLast };
  std::vector<waf::IpPrefix> cidrs;
  std::filesystem::path file;             // empty: none
  std::filesystem::path security_groups;  // empty: none
  std::vector<uint16_t> ports = {80, 443};
  int64_t ttl_s = 600;
  ClientIp client_ip = ClientIp::Connection;
  std::vector<waf::IpPrefix> loaded;  // cidrs + the files as read at config load
};

void parse_ip_allowlist_options(OptionReader& r, IpAllowlistOptions& out);

// cidrs + file + security_groups, read now. false with the cause in `error`.
bool load_allowlist(const IpAllowlistOptions& o, std::vector<waf::IpPrefix>& out,
                    std::string& error);

struct IpAllowlistMetrics {
  RequestCounter allowed;
  RequestCounter denied;
  std::atomic<uint64_t> errors{0};  // answered 500
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};
};

class IpAllowlist final : public BuiltinFunction {
 public:
  explicit IpAllowlist(IpAllowlistOptions options, Clock now = steady_now_ms);

  std::string_view name() const override { return "builtin ip-allowlist"; }
  RequestResult on_request_now(const Context& c, http::Request& req) override;
  std::vector<MetricValue> metrics() const override;
  const IpAllowlistMetrics& counters() const { return metrics_; }

 private:
  void reload_if_due();
  const waf::IpSetMatcher& current_matcher(std::shared_ptr<const waf::IpSetMatcher>& hold);

  IpAllowlistOptions options_;
  Clock now_;
  bool has_files_ = false;
  // Swapped whole on reload; a request holds the matcher it started with. Loading it costs a
  // lock and two reference-count updates on a line every worker shares, so requests read it
  // through their thread's view and load it only when `generation_` says it changed.
  std::atomic<std::shared_ptr<const waf::IpSetMatcher>> matcher_;
  std::atomic<uint64_t> generation_{1};
  struct ThreadView {
    uint64_t generation = 0;  // 0: not loaded yet
    std::shared_ptr<const waf::IpSetMatcher> matcher;
  };
  // Indexed by thread_slot(); threads past the end load matcher_ each time.
  static constexpr size_t kThreadViews = 64;
  std::unique_ptr<ThreadView[]> views_;
  std::atomic<int64_t> next_reload_ms_{0};
  std::atomic<bool> reloading_{false};
  IpAllowlistMetrics metrics_;
};

}  // namespace eg::functions::builtins
