#include "origin/ipranges_prefix.h"

#include <gtest/gtest.h>

namespace eg::origin {
namespace {

std::string str(const std::optional<Prefix>& p) { return p ? p->to_string() : "(none)"; }

std::vector<std::string> strs(const std::vector<Prefix>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.to_string());
  return out;
}

Prefix P(const char* text) {
  auto p = parse_prefix(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(Prefix{});
}

TEST(IprangesPrefix, ParsesIpv4Strictly) {
  EXPECT_EQ(str(parse_ipv4_prefix("13.32.0.0/15")), "13.32.0.0/15");
  EXPECT_EQ(str(parse_ipv4_prefix("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(str(parse_ipv4_prefix("255.255.255.255/32")), "255.255.255.255/32");
  for (const char* bad : {"1.2.3/24", "1.2.3.4", "1.2.3.4/", "1.2.3.4/33", "1.2.3.256/24",
                          "01.2.3.4/8", "1.2.3.4/08", "1.2.3.4.5/8", " 1.2.3.4/8", "1.2.3.4/8 ",
                          "1..3.4/8", "a.b.c.d/8", "1.2.3.4/-1", "2600:9000::/28", ""}) {
    EXPECT_FALSE(parse_ipv4_prefix(bad)) << bad;
  }
}

TEST(IprangesPrefix, ParsesIpv6) {
  EXPECT_EQ(str(parse_ipv6_prefix("2600:9000::/28")), "2600:9000::/28");
  EXPECT_EQ(str(parse_ipv6_prefix("2600:1F18:7fff:F800::/56")), "2600:1f18:7fff:f800::/56");
  EXPECT_EQ(str(parse_ipv6_prefix("::/0")), "::/0");
  EXPECT_EQ(str(parse_ipv6_prefix("::ffff:1.2.3.4/128")), "::ffff:1.2.3.4/128");
  for (const char* bad : {"2600:9000::", "2600:9000::/129", "2600:9000:::/28", "1.2.3.0/24",
                          "2600:9000::/", "g::/8"}) {
    EXPECT_FALSE(parse_ipv6_prefix(bad)) << bad;
  }
}

TEST(IprangesPrefix, HostBitsAndContainment) {
  EXPECT_TRUE(P("10.0.0.0/8").host_bits_zero());
  EXPECT_FALSE(P("10.0.0.1/8").host_bits_zero());
  EXPECT_EQ(P("10.1.2.3/8").with_host_bits_cleared().to_string(), "10.0.0.0/8");
  EXPECT_EQ(P("2600:9000:1::/28").with_host_bits_cleared().to_string(), "2600:9000::/28");
  EXPECT_EQ(P("2600::1/127").with_host_bits_cleared().to_string(), "2600::/127");
  EXPECT_EQ(P("2600::ff/0").with_host_bits_cleared().to_string(), "::/0");
  EXPECT_TRUE(P("10.0.0.0/8").contains(P("10.200.0.0/16")));
  EXPECT_TRUE(P("10.0.0.0/8").contains(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.0.0.0/16").contains(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.0.0.0/8").contains(P("11.0.0.0/16")));
  EXPECT_TRUE(P("0.0.0.0/0").contains(P("1.2.3.4/32")));
  EXPECT_FALSE(P("0.0.0.0/0").contains(P("::/0")));
  EXPECT_TRUE(P("2600:9000::/28").contains(P("2600:9000:2000::/36")));
  EXPECT_FALSE(P("2600:9000::/28").contains(P("2600:9010::/36")));
}

TEST(IprangesPrefix, NormaliseMergesDuplicatesAndContainedAndSaysSo) {
  NormaliseReport r;
  auto out = normalise(
      {P("10.0.1.0/24"), P("10.0.0.0/16"), P("10.0.1.0/24"), P("9.0.0.5/24"), P("9.0.0.0/24"),
       P("2600::/16"), P("2600:1::/32"), P("11.0.0.0/24"), P("11.0.1.0/24")},
      &r);
  EXPECT_EQ(strs(out), (std::vector<std::string>{"9.0.0.0/24", "10.0.0.0/16", "11.0.0.0/24",
                                                 "11.0.1.0/24", "2600::/16"}));
  EXPECT_EQ(r.input, 9u);
  EXPECT_EQ(r.host_bits_cleared, 1u);
  EXPECT_EQ(r.duplicates, 1u);  // 9.0.0.0/24, once its host bits are cleared
  EXPECT_EQ(r.contained, 3u);   // 10.0.1.0/24 twice, 2600:1::/32
  EXPECT_EQ(r.output, 5u);
  EXPECT_FALSE(r.examples.empty());
}

TEST(IprangesPrefix, RangeToPrefixes) {
  auto a = parse_address("10.0.0.0"), b = parse_address("10.0.1.255");
  EXPECT_EQ(strs(range_to_prefixes(*a, *b)), (std::vector<std::string>{"10.0.0.0/23"}));
  a = parse_address("10.0.0.1");
  b = parse_address("10.0.0.6");
  EXPECT_EQ(strs(range_to_prefixes(*a, *b)),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  a = parse_address("0.0.0.0");
  b = parse_address("255.255.255.255");
  EXPECT_EQ(strs(range_to_prefixes(*a, *b)), (std::vector<std::string>{"0.0.0.0/0"}));
  a = parse_address("2600::");
  b = parse_address("2600::ffff:ffff:ffff:ffff");
  EXPECT_EQ(strs(range_to_prefixes(*a, *b)), (std::vector<std::string>{"2600::/64"}));
  a = parse_address("::");
  b = parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(strs(range_to_prefixes(*a, *b)), (std::vector<std::string>{"::/0"}));
}

}  // namespace
}  // namespace eg::origin
