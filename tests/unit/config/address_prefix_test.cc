#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "config/snapshot.h"

namespace eg::config {
namespace {

bool contains(const AddressPrefix& p, const char* addr) {
  uint8_t bytes[16];
  bool v6 = std::string_view(addr).find(':') != std::string_view::npos;
  EXPECT_EQ(::inet_pton(v6 ? AF_INET6 : AF_INET, addr, bytes), 1) << addr;
  return p.contains(v6, bytes);
}

AddressPrefix parse(std::string_view text) {
  std::string why;
  auto p = parse_address_prefix(text, why);
  EXPECT_TRUE(p.has_value()) << text << ": " << why;
  return p.value_or(AddressPrefix{});
}

TEST(AddressPrefix, MatchesByPrefixLength) {
  auto p = parse("10.20.0.0/14");
  EXPECT_TRUE(contains(p, "10.20.0.1"));
  EXPECT_TRUE(contains(p, "10.23.255.255"));
  EXPECT_FALSE(contains(p, "10.24.0.0"));
  EXPECT_FALSE(contains(p, "::ffff:10.20.0.1"));  // an IPv6 address never matches an IPv4 prefix
}

TEST(AddressPrefix, BareAddressesAndEdges) {
  EXPECT_TRUE(contains(parse("192.0.2.7"), "192.0.2.7"));
  EXPECT_FALSE(contains(parse("192.0.2.7"), "192.0.2.8"));
  EXPECT_TRUE(contains(parse("0.0.0.0/0"), "203.0.113.9"));
  auto v6 = parse("2600:9000:2000::/37");
  EXPECT_TRUE(contains(v6, "2600:9000:27ff:ffff::1"));
  EXPECT_FALSE(contains(v6, "2600:9000:2800::"));
  EXPECT_TRUE(contains(parse("::/0"), "::1"));
}

TEST(AddressPrefix, RefusesWithAReason) {
  std::string why;
  EXPECT_FALSE(parse_address_prefix("10.0.0.1/8", why));
  EXPECT_NE(why.find("host bits set"), std::string::npos) << why;
  EXPECT_FALSE(parse_address_prefix("10.0.0.0/33", why));
  EXPECT_NE(why.find("0-32"), std::string::npos) << why;
  EXPECT_FALSE(parse_address_prefix("2001:db8::/129", why));
  EXPECT_NE(why.find("0-128"), std::string::npos) << why;
  EXPECT_FALSE(parse_address_prefix("10.0.0.0/", why));
  EXPECT_FALSE(parse_address_prefix("example.com", why));
  EXPECT_NE(why.find("not an IPv4 or IPv6"), std::string::npos) << why;
  EXPECT_FALSE(parse_address_prefix("10.0.0.0/8x", why));
}

}  // namespace
}  // namespace eg::config
