#include "origin/firewall_nftables.h"

#include <gtest/gtest.h>

namespace eg::origin {
namespace {

DesiredState desired(std::vector<const char*> v4, std::vector<const char*> v6,
                     std::vector<PortRange> ports = {{80, 80}, {443, 443}}) {
  DesiredState d;
  d.ports = ports;
  AddressSet a{"ipv4", Scope::All, IpVersion::V4, {}, {}};
  for (auto p : v4) a.prefixes.push_back(*parse_prefix(p));
  AddressSet b{"ipv6", Scope::All, IpVersion::V6, {}, {}};
  for (auto p : v6) b.prefixes.push_back(*parse_prefix(p));
  a.prefixes = normalise(a.prefixes);
  b.prefixes = normalise(b.prefixes);
  d.sets = {a, b};
  return d;
}

// What `nft -j list table inet edgeguard` printed for a table edgeguard wrote (nft 1.0.6).
std::string listing(const std::string& v4_elems, const std::string& rules_ports = "80,443") {
  return R"({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
    {"table": {"family": "inet", "name": "edgeguard", "handle": 1}},
    {"set": {"family": "inet", "name": "allow_ipv4", "table": "edgeguard", "type": "ipv4_addr", "handle": 1, "flags": ["interval"], "elem": )" +
         v4_elems + R"(}},
    {"set": {"family": "inet", "name": "allow_ipv6", "table": "edgeguard", "type": "ipv6_addr", "handle": 2, "flags": ["interval"], "elem": [{"prefix": {"addr": "2600:9000::", "len": 28}}]}},
    {"chain": {"family": "inet", "table": "edgeguard", "name": "input", "handle": 3, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
    {"rule": {"family": "inet", "table": "edgeguard", "chain": "input", "handle": 4, "comment": "edgeguard: loopback", "expr": []}},
    {"rule": {"family": "inet", "table": "edgeguard", "chain": "input", "handle": 5, "comment": "edgeguard: established", "expr": []}},
    {"rule": {"family": "inet", "table": "edgeguard", "chain": "input", "handle": 6, "comment": "edgeguard: allow @allow_ipv4 on tcp )" +
         rules_ports + R"(", "expr": []}},
    {"rule": {"family": "inet", "table": "edgeguard", "chain": "input", "handle": 7, "comment": "edgeguard: allow @allow_ipv6 on tcp )" +
         rules_ports + R"(", "expr": []}},
    {"rule": {"family": "inet", "table": "edgeguard", "chain": "input", "handle": 8, "comment": "edgeguard: drop tcp )" +
         rules_ports + R"(", "expr": []}}]})";
}

TEST(Nftables, ParsesTheListing) {
  NftablesState s;
  std::string e;
  ASSERT_TRUE(parse_nft_listing(
      listing(
          R"([{"prefix": {"addr": "10.0.0.0", "len": 25}}, "10.1.2.3", {"range": ["10.2.0.1", "10.2.0.2"]}, {"elem": {"val": "10.3.0.1", "comment": "x"}}])"),
      s, e))
      << e;
  EXPECT_TRUE(s.table_exists);
  ASSERT_EQ(s.sets.size(), 2u);
  std::vector<std::string> got;
  for (const auto& p : s.sets[0].prefixes) got.push_back(p.to_string());
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.0/25", "10.1.2.3/32", "10.2.0.1/32",
                                           "10.2.0.2/32", "10.3.0.1/32"}));
  EXPECT_TRUE(s.sets[0].interval);
  EXPECT_TRUE(s.chain_exists);
  EXPECT_TRUE(s.chain_hook_ok);
  EXPECT_EQ(s.rule_comments.size(), 5u);
  EXPECT_FALSE(parse_nft_listing(listing(R"(["not an address"])"), s, e));
  EXPECT_NE(e.find("allow_ipv4"), std::string::npos);
  EXPECT_FALSE(parse_nft_listing("[]", s, e));
}

TEST(Nftables, FromNothingCreatesEverythingInOneScript) {
  auto p = plan_nftables("inet", "edgeguard", NftablesState{},
                         desired({"10.0.0.0/8", "11.0.0.0/8"}, {"2600:9000::/28"}));
  EXPECT_TRUE(p.plan.has_changes());
  EXPECT_EQ(p.plan.added(), 3u);
  const std::string& s = p.script;
  auto pos = [&](const char* t) {
    auto at = s.find(t);
    EXPECT_NE(at, std::string::npos) << t << "\n" << s;
    return at;
  };
  auto table = pos("add table inet edgeguard\n");
  auto set = pos("add set inet edgeguard allow_ipv4 { type ipv4_addr; flags interval; }");
  auto chain = pos(
      "add chain inet edgeguard input { type filter hook input priority filter; policy accept; }");
  auto rule =
      pos("add rule inet edgeguard input tcp dport { 80, 443 } ip saddr @allow_ipv4 accept comment "
          "\"edgeguard: allow @allow_ipv4 on tcp 80,443\"");
  pos("add rule inet edgeguard input tcp dport { 80, 443 } ip6 saddr @allow_ipv6 accept");
  pos("add rule inet edgeguard input iif \"lo\" accept");
  pos("add rule inet edgeguard input ct state established,related accept");
  auto drop = pos("add rule inet edgeguard input tcp dport { 80, 443 } drop");
  auto elems = pos("add element inet edgeguard allow_ipv4 { 10.0.0.0/8, 11.0.0.0/8 }");
  EXPECT_LT(table, set);
  EXPECT_LT(set, chain);
  EXPECT_LT(chain, rule);
  EXPECT_LT(rule, drop);
  EXPECT_LT(drop, elems);
}

TEST(Nftables, SameStateMeansNoScript) {
  NftablesState s;
  std::string e;
  ASSERT_TRUE(parse_nft_listing(listing(R"([{"prefix": {"addr": "10.0.0.0", "len": 8}}])"), s, e));
  auto p = plan_nftables("inet", "edgeguard", s, desired({"10.0.0.0/8"}, {"2600:9000::/28"}));
  EXPECT_FALSE(p.plan.has_changes());
  EXPECT_TRUE(p.script.empty()) << p.script;
}

TEST(Nftables, OnlyTheDifference) {
  NftablesState s;
  std::string e;
  ASSERT_TRUE(parse_nft_listing(
      listing(
          R"([{"prefix": {"addr": "10.0.0.0", "len": 8}}, {"prefix": {"addr": "12.0.0.0", "len": 8}}])"),
      s, e));
  auto p = plan_nftables("inet", "edgeguard", s,
                         desired({"10.0.0.0/8", "11.0.0.0/8"}, {"2600:9000::/28"}));
  EXPECT_EQ(p.script.find("add table"), std::string::npos);
  EXPECT_EQ(p.script.find("chain"), std::string::npos) << p.script;
  EXPECT_NE(p.script.find("delete element inet edgeguard allow_ipv4 { 12.0.0.0/8 }"),
            std::string::npos);
  EXPECT_NE(p.script.find("add element inet edgeguard allow_ipv4 { 11.0.0.0/8 }"),
            std::string::npos);
  ASSERT_EQ(p.plan.changes.size(), 2u);
  EXPECT_EQ(p.plan.changes[0].added, std::vector<std::string>{"11.0.0.0/8"});
  EXPECT_EQ(p.plan.changes[0].removed, std::vector<std::string>{"12.0.0.0/8"});
  EXPECT_FALSE(p.plan.changes[1].changes());
}

TEST(Nftables, OtherPortsRewriteTheChainAndStaleSetsGo) {
  NftablesState s;
  std::string e;
  ASSERT_TRUE(parse_nft_listing(listing(R"([{"prefix": {"addr": "10.0.0.0", "len": 8}}])"), s, e));
  auto d = desired({"10.0.0.0/8"}, {"2600:9000::/28"}, {{8443, 8443}});
  d.sets.pop_back();  // IPv4 only now
  auto p = plan_nftables("inet", "edgeguard", s, d);
  const std::string& x = p.script;
  auto flush = x.find("flush chain inet edgeguard input\n");
  auto del = x.find("delete set inet edgeguard allow_ipv6\n");
  auto rule = x.find("add rule inet edgeguard input tcp dport 8443 ip saddr @allow_ipv4 accept");
  ASSERT_NE(flush, std::string::npos) << x;
  ASSERT_NE(del, std::string::npos) << x;
  ASSERT_NE(rule, std::string::npos) << x;
  EXPECT_LT(flush, del);
  EXPECT_EQ(x.find("add chain"), std::string::npos);  // hooked right: kept, flushed
  EXPECT_EQ(p.plan.removed(), 1u);
}

}  // namespace
}  // namespace eg::origin
