#include <fmt/core.h>
#include <gtest/gtest.h>

#include "origin/firewall_ec2_groups.h"
#include "origin/firewall_ec2_shapes.h"
#include "origin/firewall_ec2_xml.h"

namespace eg::origin {
namespace {

// n IPv4 /24s from 10.0.0.0 (offset start), m IPv6 /48s.
DesiredState desired(int n, int m = 0, std::vector<PortRange> ports = {{443, 443}}, int start = 0) {
  DesiredState d;
  d.ports = ports;
  AddressSet v4{"ipv4", Scope::All, IpVersion::V4, {}, {}};
  for (int i = start; i < start + n; ++i)
    v4.prefixes.push_back(*parse_prefix(fmt::format("10.{}.{}.0/24", i / 256, i % 256)));
  AddressSet v6{"ipv6", Scope::All, IpVersion::V6, {}, {}};
  for (int i = 0; i < m; ++i)
    v6.prefixes.push_back(*parse_prefix(fmt::format("2600:{:x}::/48", i + 1)));
  v4.prefixes = normalise(v4.prefixes);
  v6.prefixes = normalise(v6.prefixes);
  d.sets = {v4, v6};
  return d;
}

// Applies a plan to an in-memory picture of the groups, as the fake EC2 would.
std::vector<Ec2Group> applied(std::vector<Ec2Group> groups, const Ec2GroupPlan& plan) {
  int next_id = 100;
  for (const auto& c : plan.groups) {
    Ec2Group* g = nullptr;
    for (auto& x : groups)
      if (x.id == c.group_id) g = &x;
    if (c.create) {
      groups.push_back(Ec2Group{fmt::format("sg-{}", next_id++), c.name, c.scope, c.index, {}, 0});
      g = &groups.back();
    }
    EXPECT_TRUE(g) << c.group_id;
    if (!g) continue;
    if (c.adopt) {
      g->scope = c.scope;
      g->index = c.index;
    }
    for (const auto& r : c.revoke) std::erase(g->rules, r);
    for (const auto& r : c.authorize) g->rules.push_back(r);
    std::sort(g->rules.begin(), g->rules.end());
  }
  return groups;
}

size_t total(const std::vector<Ec2Group>& groups) {
  size_t n = 0;
  for (const auto& g : groups) n += g.rules.size();
  return n;
}

size_t changes(const Ec2GroupPlan& p) {
  size_t n = 0;
  for (const auto& g : p.groups) n += g.authorize.size() + g.revoke.size() + g.create + g.adopt;
  return n;
}

TEST(Ec2Groups, SplitsAcrossAsManyGroupsAsTheLimitNeeds) {
  auto plan = plan_ec2_groups({}, desired(130), 60, "web");
  ASSERT_EQ(plan.groups.size(), 3u);
  EXPECT_EQ(plan.groups[0].authorize.size(), 60u);
  EXPECT_EQ(plan.groups[1].authorize.size(), 60u);
  EXPECT_EQ(plan.groups[2].authorize.size(), 10u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(plan.groups[i].create);
    EXPECT_EQ(plan.groups[i].index, i + 1);
    EXPECT_EQ(plan.groups[i].name, fmt::format("web-all-{}", i + 1));
    EXPECT_EQ(plan.groups[i].scope, "all");
  }
  auto groups = applied({}, plan);
  EXPECT_EQ(total(groups), 130u);
  // Idempotent: the same desired state again changes nothing.
  EXPECT_EQ(changes(plan_ec2_groups(groups, desired(130), 60, "web")), 0u);
}

TEST(Ec2Groups, PortsMultiplyRulesAndIpv6HasItsOwnQuota) {
  auto plan = plan_ec2_groups({}, desired(40, 50, {{80, 80}, {443, 443}}), 60, "web");
  // 80 IPv4 rules -> 2 groups; 100 IPv6 rules -> 2 groups; they share the groups.
  ASSERT_EQ(plan.groups.size(), 2u);
  auto groups = applied({}, plan);
  for (const auto& g : groups) {
    size_t v4 = 0, v6 = 0;
    for (const auto& r : g.rules) (r.prefix.version == IpVersion::V4 ? v4 : v6)++;
    EXPECT_LE(v4, 60u);
    EXPECT_LE(v6, 60u);
  }
  EXPECT_EQ(total(groups), 180u);
}

TEST(Ec2Groups, ShrinkEmptiesGroupsAndGrowthRefillsThemFirst) {
  auto groups = applied({}, plan_ec2_groups({}, desired(130), 60, "web"));
  // Shrink to the first 50 prefixes: only revocations, groups kept.
  auto shrink = plan_ec2_groups(groups, desired(50), 60, "web");
  size_t authorized = 0, revoked = 0;
  for (const auto& g : shrink.groups) {
    authorized += g.authorize.size();
    revoked += g.revoke.size();
    EXPECT_FALSE(g.create);
  }
  EXPECT_EQ(authorized, 0u);
  EXPECT_EQ(revoked, 80u);
  groups = applied(groups, shrink);
  EXPECT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].rules.size(), 50u);
  EXPECT_TRUE(groups[1].rules.empty());
  EXPECT_TRUE(groups[2].rules.empty());
  // Grow to 200 others: old rules revoked, new ones fill groups 1..3 then group 4.
  auto grow = plan_ec2_groups(groups, desired(200, 0, {{443, 443}}, 1000), 60, "web");
  groups = applied(groups, grow);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[3].name, "web-all-4");
  EXPECT_EQ(total(groups), 200u);
  for (const auto& g : groups) EXPECT_LE(g.rules.size(), 60u);
}

TEST(Ec2Groups, KeptRulesStayWhereTheyAre) {
  auto groups = applied({}, plan_ec2_groups({}, desired(100), 60, "web"));
  auto one_more = plan_ec2_groups(groups, desired(101), 60, "web");
  EXPECT_EQ(changes(one_more), 1u);  // one authorize, in group 2 (it has room)
  EXPECT_EQ(one_more.groups[1].authorize.size(), 1u);
}

TEST(Ec2Groups, SpareGroupsAreAdoptedBeforeNewOnesAreMade) {
  Ec2Group spare{"sg-spare", "made-by-hand", "", 0, {}, 0};
  Ec2Rule manual{"tcp", 22, 22, *parse_prefix("192.0.2.0/24")};
  spare.rules.push_back(manual);
  auto plan = plan_ec2_groups({spare}, desired(70), 60, "web");
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_TRUE(plan.groups[0].adopt);
  EXPECT_EQ(plan.groups[0].group_id, "sg-spare");
  EXPECT_EQ(plan.groups[0].index, 1);
  EXPECT_EQ(plan.groups[0].revoke, std::vector<Ec2Rule>{manual});
  EXPECT_TRUE(plan.groups[1].create);
  EXPECT_EQ(plan.groups[1].index, 2);
  // Not needed: left alone.
  auto small =
      plan_ec2_groups({Ec2Group{"sg-a", "a", "all", 1, {}, 0}, spare}, desired(10), 60, "web");
  ASSERT_EQ(small.groups.size(), 2u);
  EXPECT_FALSE(small.groups[1].adopt);
  EXPECT_TRUE(small.groups[1].revoke.empty());
}

TEST(Ec2Groups, GroupsOfAScopeNoLongerWantedAreReusedOrEmptied) {
  DesiredState split = desired(10);
  split.sets[0].name = "global_ipv4";
  split.sets[0].scope = Scope::Global;
  split.sets[1].name = "global_ipv6";
  split.sets[1].scope = Scope::Global;
  auto groups = applied({}, plan_ec2_groups({}, split, 60, "web"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].scope, "global");
  // Now unsplit: the global group is adopted as all #1 and keeps the rules still wanted.
  auto plan = plan_ec2_groups(groups, desired(12), 60, "web");
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_TRUE(plan.groups[0].adopt);
  EXPECT_EQ(plan.groups[0].scope, "all");
  EXPECT_EQ(plan.groups[0].authorize.size(), 2u);
  EXPECT_TRUE(plan.groups[0].revoke.empty());
}

TEST(Ec2Groups, OtherRulesTakeRoomAndALoweredLimitKeepsWhatIsThere) {
  Ec2Group g{"sg-1", "web-all-1", "all", 1, {}, 55};  // 55 group references
  auto plan = plan_ec2_groups({g}, desired(10), 60, "web");
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(plan.groups[0].authorize.size(), 5u);
  EXPECT_EQ(plan.groups[1].authorize.size(), 5u);
  auto groups = applied({}, plan_ec2_groups({}, desired(60), 60, "web"));
  EXPECT_EQ(changes(plan_ec2_groups(groups, desired(60), 20, "web")), 0u);
}

const char* kDescribe = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>1d62eae0-acdd-481d-88c9-EXAMPLE</requestId>
    <securityGroupInfo>
        <item>
            <ownerId>123456789012</ownerId>
            <groupId>sg-0a1b2c3d4e5f67890</groupId>
            <groupName>web-all-1</groupName>
            <groupDescription>edgeguard</groupDescription>
            <vpcId>vpc-1a2b3c4d</vpcId>
            <ipPermissions>
                <item>
                    <ipProtocol>tcp</ipProtocol>
                    <fromPort>443</fromPort>
                    <toPort>443</toPort>
                    <groups/>
                    <ipRanges>
                        <item><cidrIp>13.32.0.0/15</cidrIp><description>a &amp; b</description></item>
                        <item><cidrIp>52.46.0.0/18</cidrIp></item>
                    </ipRanges>
                    <ipv6Ranges>
                        <item><cidrIpv6>2600:9000::/28</cidrIpv6></item>
                    </ipv6Ranges>
                    <prefixListIds/>
                </item>
                <item>
                    <ipProtocol>-1</ipProtocol>
                    <groups><item><groupId>sg-other</groupId><userId>123456789012</userId></item></groups>
                    <ipRanges/>
                </item>
            </ipPermissions>
            <ipPermissionsEgress>
                <item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>
            </ipPermissionsEgress>
            <tagSet>
                <item><key>edgeguard:ipranges</key><value>web</value></item>
                <item><key>edgeguard:set</key><value>all</value></item>
                <item><key>edgeguard:index</key><value>1</value></item>
            </tagSet>
        </item>
    </securityGroupInfo>
    <nextToken>page-2</nextToken>
</DescribeSecurityGroupsResponse>)";

TEST(Ec2Shapes, ReadsDescribeSecurityGroups) {
  XmlElement root;
  std::string e;
  ASSERT_TRUE(parse_xml(kDescribe, root, e)) << e;
  std::vector<Ec2Group> groups;
  std::string token;
  ASSERT_TRUE(parse_describe_security_groups(root, groups, token, e)) << e;
  EXPECT_EQ(token, "page-2");
  ASSERT_EQ(groups.size(), 1u);
  const Ec2Group& g = groups[0];
  EXPECT_EQ(g.id, "sg-0a1b2c3d4e5f67890");
  EXPECT_EQ(g.name, "web-all-1");
  EXPECT_EQ(g.scope, "all");
  EXPECT_EQ(g.index, 1);
  ASSERT_EQ(g.rules.size(), 3u);  // egress rules are not ingress rules
  EXPECT_EQ(g.rules[0].to_string(), "tcp 443 from 13.32.0.0/15");
  EXPECT_EQ(g.rules[2].to_string(), "tcp 443 from 2600:9000::/28");
  EXPECT_EQ(g.other_rules, 1u);
}

TEST(Ec2Shapes, ReadsTheErrorShape) {
  XmlElement root;
  std::string e;
  ASSERT_TRUE(parse_xml(
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidPermission.Duplicate</Code><Message>the specified rule "peer: 1.2.3.0/24, TCP, from port: 443, to port: 443, ALLOW" already exists</Message></Error></Errors><RequestID>ee4c3bd5-EXAMPLE</RequestID></Response>)",
      root, e));
  EXPECT_EQ(ec2_error_of(root).rfind("InvalidPermission.Duplicate: the specified rule", 0), 0u);
  ASSERT_TRUE(parse_xml("<DescribeSecurityGroupsResponse/>", root, e));
  EXPECT_EQ(ec2_error_of(root), "");
}

TEST(Ec2Shapes, IpPermissionParams) {
  std::vector<Ec2Rule> rules = {{"tcp", 80, 80, *parse_prefix("1.2.3.0/24")},
                                {"tcp", 443, 443, *parse_prefix("1.2.3.0/24")},
                                {"tcp", 443, 443, *parse_prefix("2600::/28")},
                                {"-1", -1, -1, *parse_prefix("9.9.9.0/24")}};
  auto p = ip_permission_params(rules);
  std::vector<std::string> flat;
  for (const auto& [k, v] : p) flat.push_back(k + "=" + v);
  EXPECT_EQ(flat,
            (std::vector<std::string>{
                "IpPermissions.1.IpProtocol=-1", "IpPermissions.1.IpRanges.1.CidrIp=9.9.9.0/24",
                "IpPermissions.2.IpProtocol=tcp", "IpPermissions.2.FromPort=80",
                "IpPermissions.2.ToPort=80", "IpPermissions.2.IpRanges.1.CidrIp=1.2.3.0/24",
                "IpPermissions.3.IpProtocol=tcp", "IpPermissions.3.FromPort=443",
                "IpPermissions.3.ToPort=443", "IpPermissions.3.IpRanges.1.CidrIp=1.2.3.0/24",
                "IpPermissions.3.Ipv6Ranges.1.CidrIpv6=2600::/28"}));
}

TEST(Xml, EntitiesCdataCommentsAndErrors) {
  XmlElement root;
  std::string e;
  ASSERT_TRUE(parse_xml(
      "<?xml version=\"1.0\"?><!-- c --><a x='1' y=\"2\"><b>&lt;&amp;&#65;&#x42;&quot;</b>"
      "<c><![CDATA[<raw>]]></c><ns:d/></a>",
      root, e))
      << e;
  EXPECT_EQ(root.name, "a");
  EXPECT_EQ(root.child_text("b"), "<&AB\"");
  EXPECT_EQ(root.child_text("c"), "<raw>");
  EXPECT_TRUE(root.child("d"));
  for (const char* bad : {"", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#0;</a>", "<a/><b/>",
                          "<!DOCTYPE a><a/>", "<a><!DOCTYPE x></a>", "<a x=1/>", "text"}) {
    EXPECT_FALSE(parse_xml(bad, root, e)) << bad;
    EXPECT_FALSE(e.empty());
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(parse_xml(deep, root, e));
  EXPECT_NE(e.find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace eg::origin
