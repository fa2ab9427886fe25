#include "origin/firewall_shield.h"

#include <gtest/gtest.h>

namespace eg::origin {
namespace {

TEST(ShieldFile, RendersAndReadsBack) {
  DesiredState d;
  d.description = "services CLOUDFRONT_ORIGIN_FACING; every region";
  d.document_line = "document syncToken 1";
  d.sets = {AddressSet{"ipv4", Scope::All, IpVersion::V4, {*parse_prefix("10.0.0.0/8")}, {}},
            AddressSet{"ipv6", Scope::All, IpVersion::V6, {*parse_prefix("2600:9000::/28")}, {}}};
  std::string text = render_shield_file(d);
  EXPECT_NE(text.find("\n10.0.0.0/8\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# document syncToken 1\n"), std::string::npos);
  std::vector<Prefix> back;
  std::string e;
  ASSERT_TRUE(parse_shield_file(text, "f", back, e)) << e;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].to_string(), "2600:9000::/28");
}

TEST(ShieldFile, CommentsBlankLinesAddressesAndErrors) {
  std::vector<Prefix> out;
  std::string e;
  ASSERT_TRUE(parse_shield_file("# c\n\n  10.0.0.1  # one host\r\n10.0.0.0/8\n", "f", out, e)) << e;
  ASSERT_EQ(out.size(), 1u);  // the host is inside the /8
  EXPECT_FALSE(parse_shield_file("10.0.0.0/8\n10.0.0/8\n", "/etc/shield.txt", out, e));
  EXPECT_EQ(e, "/etc/shield.txt:2: \"10.0.0/8\" is not an address or CIDR prefix");
}

}  // namespace
}  // namespace eg::origin
