#include "origin/ipranges_selection.h"

#include <gtest/gtest.h>

namespace eg::origin {
namespace {

Document doc() {
  auto r = parse_document(R"({"syncToken": "1", "createDate": "2026-08-22-15-17-05",
    "prefixes": [
      {"ip_prefix": "120.52.22.96/27", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING"},
      {"ip_prefix": "15.158.0.0/16", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"},
      {"ip_prefix": "15.158.1.0/24", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"},
      {"ip_prefix": "15.158.0.0/16", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"},
      {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON"},
      {"ip_prefix": "13.32.0.1/15", "region": "GLOBAL", "service": "CLOUDFRONT"},
      {"ip_prefix": "64.252.64.0/18", "region": "eu-west-1", "service": "CLOUDFRONT_ORIGIN_FACING"}
    ],
    "ipv6_prefixes": [
      {"ipv6_prefix": "2600:9000::/28", "region": "GLOBAL", "service": "CLOUDFRONT"},
      {"ipv6_prefix": "2600:9000:2000::/36", "region": "us-east-1", "service": "CLOUDFRONT_ORIGIN_FACING"}
    ]})");
  EXPECT_TRUE(r.document);
  return *r.document;
}

std::vector<PortRange> web() { return {{80, 80}, {443, 443}}; }

std::vector<std::string> strs(const AddressSet* s) {
  std::vector<std::string> out;
  if (s)
    for (const auto& p : s->prefixes) out.push_back(p.to_string());
  return out;
}

TEST(IprangesSelection, DefaultsToCloudFrontOriginFacingBothVersions) {
  auto r = select_ranges(doc(), {}, web());
  ASSERT_TRUE(r.state);
  const auto& d = *r.state;
  ASSERT_EQ(d.sets.size(), 2u);
  EXPECT_EQ(strs(d.find("ipv4")),
            (std::vector<std::string>{"15.158.0.0/16", "64.252.64.0/18", "120.52.22.96/27"}));
  EXPECT_EQ(strs(d.find("ipv6")), (std::vector<std::string>{"2600:9000:2000::/36"}));
  EXPECT_EQ(d.selected_entries, 6u);
  EXPECT_EQ(d.find("ipv4")->normalisation.duplicates, 1u);
  EXPECT_EQ(d.find("ipv4")->normalisation.contained, 1u);
  EXPECT_NE(d.description.find("CLOUDFRONT_ORIGIN_FACING"), std::string::npos);
  EXPECT_NE(d.description.find("tcp ports 80,443"), std::string::npos);
}

TEST(IprangesSelection, ServicesRegionsVersions) {
  Selection s;
  s.services = {"CLOUDFRONT"};
  s.ipv6 = false;
  auto r = select_ranges(doc(), s, web());
  ASSERT_TRUE(r.state);
  ASSERT_EQ(r.state->sets.size(), 1u);
  EXPECT_EQ(strs(r.state->find("ipv4")), (std::vector<std::string>{"13.32.0.0/15"}));
  EXPECT_EQ(r.state->find("ipv4")->normalisation.host_bits_cleared, 1u);

  s = Selection{};
  s.regions = {"us-east-1"};
  r = select_ranges(doc(), s, web());
  ASSERT_TRUE(r.state);
  EXPECT_EQ(strs(r.state->find("ipv4")),
            (std::vector<std::string>{"15.158.0.0/16", "120.52.22.96/27"}));  // GLOBAL stays
  s.include_global = false;
  r = select_ranges(doc(), s, web());
  EXPECT_EQ(strs(r.state->find("ipv4")), (std::vector<std::string>{"15.158.0.0/16"}));

  s = Selection{};
  s.services = {"all"};
  r = select_ranges(doc(), s, web());
  ASSERT_TRUE(r.state);
  EXPECT_EQ(r.state->services.size(), 3u);
  EXPECT_EQ(r.state->find("ipv6")->prefixes.size(), 1u);  // 2600:9000:2000::/36 inside /28
}

TEST(IprangesSelection, GlobalAndRegionalApart) {
  Selection s;
  s.split_global = true;
  auto r = select_ranges(doc(), s, web());
  ASSERT_TRUE(r.state);
  std::vector<std::string> names;
  for (const auto& set : r.state->sets) names.push_back(set.name);
  EXPECT_EQ(names, (std::vector<std::string>{"global_ipv4", "global_ipv6", "regional_ipv4",
                                             "regional_ipv6"}));
  EXPECT_EQ(strs(r.state->find("global_ipv4")), (std::vector<std::string>{"120.52.22.96/27"}));
  EXPECT_EQ(strs(r.state->find("regional_ipv4")),
            (std::vector<std::string>{"15.158.0.0/16", "64.252.64.0/18"}));
  EXPECT_TRUE(r.state->find("global_ipv6")->prefixes.empty());
}

TEST(IprangesSelection, UnknownNamesAreErrors) {
  Selection s;
  s.services = {"CLOUDFRONT_ORIGIN_FACNG"};
  s.regions = {"us-east-9"};
  auto r = select_ranges(doc(), s, web());
  EXPECT_FALSE(r.state);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("service CLOUDFRONT_ORIGIN_FACNG is not in the document"),
            std::string::npos);
  EXPECT_NE(r.errors[0].find("CLOUDFRONT_ORIGIN_FACING"), std::string::npos);  // listed
  EXPECT_NE(r.errors[1].find("region us-east-9"), std::string::npos);
}

TEST(IprangesSelection, Ports) {
  std::string e;
  auto p = parse_ports("443, 80,8000-8080", &e);
  ASSERT_TRUE(p) << e;
  EXPECT_EQ(ports_to_string(*p), "80,443,8000-8080");
  for (const char* bad : {"", "0", "65536", "80,80", "90-80", "8000-8080,8010", "http", "80,"}) {
    EXPECT_FALSE(parse_ports(bad, &e)) << bad;
    EXPECT_EQ(e.rfind("ports: ", 0), 0u);
  }
}

}  // namespace
}  // namespace eg::origin
