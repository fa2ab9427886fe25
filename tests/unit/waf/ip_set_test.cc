#include "waf/ip_set.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace eg::waf {
namespace {

IpAddress ip(const std::string& text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

std::vector<IpPrefix> prefixes(std::initializer_list<const char*> texts) {
  std::vector<IpPrefix> out;
  for (const char* t : texts) {
    PrefixParse p = parse_prefix(t);
    EXPECT_TRUE(p.prefix) << t << ": " << p.error;
    if (p.prefix) out.push_back(*p.prefix);
  }
  return out;
}

IpSetMatcher matcher(std::initializer_list<const char*> texts) {
  auto list = prefixes(texts);
  return IpSetMatcher(list);
}

TEST(IpSetMatcher, EmptySetContainsNothing) {
  IpSetMatcher empty;
  EXPECT_FALSE(empty.contains(ip("0.0.0.0")));
  EXPECT_FALSE(empty.contains(ip("255.255.255.255")));
  EXPECT_FALSE(empty.contains(ip("::")));
  EXPECT_FALSE(empty.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_EQ(empty.size(), 0u);

  IpSetMatcher from_empty_list{std::span<const IpPrefix>{}};
  EXPECT_FALSE(from_empty_list.contains(ip("10.0.0.1")));
  EXPECT_FALSE(from_empty_list.contains(ip("2001:db8::1")));
}

TEST(IpSetMatcher, V4PrefixBoundaries) {
  auto set = matcher({"192.0.2.0/24", "198.51.100.64/26"});
  EXPECT_FALSE(set.contains(ip("192.0.1.255")));
  EXPECT_TRUE(set.contains(ip("192.0.2.0")));
  EXPECT_TRUE(set.contains(ip("192.0.2.77")));
  EXPECT_TRUE(set.contains(ip("192.0.2.255")));
  EXPECT_FALSE(set.contains(ip("192.0.3.0")));

  EXPECT_FALSE(set.contains(ip("198.51.100.63")));
  EXPECT_TRUE(set.contains(ip("198.51.100.64")));
  EXPECT_TRUE(set.contains(ip("198.51.100.127")));
  EXPECT_FALSE(set.contains(ip("198.51.100.128")));
  EXPECT_EQ(set.size(), 2u);
}

TEST(IpSetMatcher, V6PrefixBoundaries) {
  auto set = matcher({"2001:db8:abcd::/48", "2001:db8:0:0:8000::/65"});
  EXPECT_FALSE(set.contains(ip("2001:db8:abcc:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(set.contains(ip("2001:db8:abcd::")));
  EXPECT_TRUE(set.contains(ip("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(set.contains(ip("2001:db8:abce::")));

  // A /65 splits the second 64 bits: the boundary falls inside the low word.
  EXPECT_FALSE(set.contains(ip("2001:db8::7fff:ffff:ffff:ffff")));
  EXPECT_TRUE(set.contains(ip("2001:db8::8000:0:0:0")));
  EXPECT_TRUE(set.contains(ip("2001:db8::ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(set.contains(ip("2001:db8:0:1::")));
}

TEST(IpSetMatcher, HostPrefixesMatchOneAddress) {
  auto set = matcher({"203.0.113.7/32", "2001:db8::42/128", "203.0.113.9"});
  EXPECT_TRUE(set.contains(ip("203.0.113.7")));
  EXPECT_FALSE(set.contains(ip("203.0.113.6")));
  EXPECT_FALSE(set.contains(ip("203.0.113.8")));
  EXPECT_TRUE(set.contains(ip("203.0.113.9")));
  EXPECT_FALSE(set.contains(ip("203.0.113.10")));
  EXPECT_TRUE(set.contains(ip("2001:db8::42")));
  EXPECT_FALSE(set.contains(ip("2001:db8::41")));
  EXPECT_FALSE(set.contains(ip("2001:db8::43")));
}

TEST(IpSetMatcher, EdgesOfTheAddressSpace) {
  auto set = matcher({"0.0.0.0/32", "255.255.255.255/32", "::/128",
                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"});
  EXPECT_TRUE(set.contains(ip("0.0.0.0")));
  EXPECT_FALSE(set.contains(ip("0.0.0.1")));
  EXPECT_TRUE(set.contains(ip("255.255.255.255")));
  EXPECT_FALSE(set.contains(ip("255.255.255.254")));
  EXPECT_TRUE(set.contains(ip("::")));
  EXPECT_FALSE(set.contains(ip("::1")));
  EXPECT_TRUE(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(set.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")));
}

TEST(IpSetMatcher, ManyRangesCrowdedIntoOneCornerOfTheSpace) {
  // One prefix at the bottom of each family stretches the span the lookup table divides, so
  // the 128 host prefixes at the top all share one slice and must be told apart by search.
  std::vector<IpPrefix> list;
  list.push_back(*parse_prefix("0.0.0.0/32").prefix);
  list.push_back(*parse_prefix("::/128").prefix);
  auto top_v6 = [](int low_byte) {
    char text[64];
    std::snprintf(text, sizeof text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff%02x", low_byte);
    return std::string(text);
  };
  for (int i = 0; i < 256; i += 2) {
    list.push_back(*parse_prefix("255.255.255." + std::to_string(i)).prefix);
    list.push_back(*parse_prefix(top_v6(i)).prefix);
  }
  IpSetMatcher set(list);
  for (int i = 0; i < 256; ++i) {
    EXPECT_EQ(set.contains(ip("255.255.255." + std::to_string(i))), i % 2 == 0) << i;
    EXPECT_EQ(set.contains(ip(top_v6(i))), i % 2 == 0) << top_v6(i);
  }
  EXPECT_TRUE(set.contains(ip("0.0.0.0")));
  EXPECT_FALSE(set.contains(ip("128.0.0.0")));
  EXPECT_FALSE(set.contains(ip("8000::")));
}

TEST(IpSetMatcher, ZeroLengthPrefixMatchesItsWholeFamilyOnly) {
  auto v4_all = matcher({"0.0.0.0/0"});
  EXPECT_TRUE(v4_all.contains(ip("0.0.0.0")));
  EXPECT_TRUE(v4_all.contains(ip("128.0.0.1")));
  EXPECT_TRUE(v4_all.contains(ip("255.255.255.255")));
  EXPECT_FALSE(v4_all.contains(ip("::")));
  EXPECT_FALSE(v4_all.contains(ip("2001:db8::1")));

  auto v6_all = matcher({"::/0", "10.0.0.0/8"});
  EXPECT_TRUE(v6_all.contains(ip("::")));
  EXPECT_TRUE(v6_all.contains(ip("8000::")));
  EXPECT_TRUE(v6_all.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(v6_all.contains(ip("10.1.2.3")));
  EXPECT_FALSE(v6_all.contains(ip("11.0.0.0")));
}

TEST(IpSetMatcher, FamiliesNeverCrossMatch) {
  // 10.0.0.0/8 and ::a00:0/104 carry the same leading bits in their low 32 bits; ::/96 holds
  // the v6 addresses whose bytes look like a v4 address.
  auto v4_only = matcher({"10.0.0.0/8", "0.0.0.0/8"});
  EXPECT_TRUE(v4_only.contains(ip("10.0.0.1")));
  EXPECT_FALSE(v4_only.contains(ip("::a00:1")));
  EXPECT_FALSE(v4_only.contains(ip("::")));
  EXPECT_FALSE(v4_only.contains(ip("a00::1")));

  auto v6_only = matcher({"::/96", "a00::/8"});
  EXPECT_TRUE(v6_only.contains(ip("::a00:1")));
  EXPECT_FALSE(v6_only.contains(ip("10.0.0.1")));
  EXPECT_FALSE(v6_only.contains(ip("0.0.0.0")));
}

TEST(IpSetMatcher, OverlappingAndNestedPrefixesMergeWithoutLosingCoverage) {
  // Nested (/16 holding a /24 and a /32), overlapping duplicates, and adjacent /25s that join
  // into one range.
  auto set =
      matcher({"172.16.5.0/24", "172.16.0.0/16", "172.16.9.9/32", "172.16.0.0/16", "192.168.1.0/25",
               "192.168.1.128/25", "2001:db8::/32", "2001:db8:1::/48", "2001:db8::/32"});
  EXPECT_EQ(set.size(), 7u);  // the two repeated prefixes count once
  EXPECT_FALSE(set.contains(ip("172.15.255.255")));
  EXPECT_TRUE(set.contains(ip("172.16.0.0")));
  EXPECT_TRUE(set.contains(ip("172.16.5.1")));
  EXPECT_TRUE(set.contains(ip("172.16.9.9")));
  EXPECT_TRUE(set.contains(ip("172.16.255.255")));
  EXPECT_FALSE(set.contains(ip("172.17.0.0")));
  EXPECT_FALSE(set.contains(ip("192.168.0.255")));
  EXPECT_TRUE(set.contains(ip("192.168.1.127")));
  EXPECT_TRUE(set.contains(ip("192.168.1.128")));
  EXPECT_TRUE(set.contains(ip("192.168.1.255")));
  EXPECT_FALSE(set.contains(ip("192.168.2.0")));
  EXPECT_TRUE(set.contains(ip("2001:db8:1::5")));
  EXPECT_TRUE(set.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(set.contains(ip("2001:db9::")));
}

TEST(IpSetMatcher, StrayHostBitsAndOverlongLengthsAreTolerated) {
  // parse_prefix clears host bits, but a caller building IpPrefix by hand may not.
  IpPrefix dirty_v4{ip("192.0.2.200"), 24};
  IpPrefix overlong_v4{ip("198.51.100.1"), 200};
  IpPrefix dirty_v6{ip("2001:db8::ffff"), 112};
  std::vector<IpPrefix> list{dirty_v4, overlong_v4, dirty_v6};
  IpSetMatcher set(list);
  EXPECT_TRUE(set.contains(ip("192.0.2.0")));
  EXPECT_TRUE(set.contains(ip("192.0.2.255")));
  EXPECT_TRUE(set.contains(ip("198.51.100.1")));
  EXPECT_FALSE(set.contains(ip("198.51.100.2")));
  EXPECT_TRUE(set.contains(ip("2001:db8::")));
  EXPECT_TRUE(set.contains(ip("2001:db8::ffff")));
  EXPECT_FALSE(set.contains(ip("2001:db8::1:0")));
}

TEST(IpSetMatcher, MoveLeavesAnEmptyMatcherBehind) {
  auto set = matcher({"10.0.0.0/8"});
  IpSetMatcher moved = std::move(set);
  EXPECT_TRUE(moved.contains(ip("10.1.1.1")));
  EXPECT_FALSE(set.contains(ip("10.1.1.1")));  // NOLINT(bugprone-use-after-move): on purpose
  EXPECT_EQ(set.size(), 0u);
}

// The reference: a prefix holds an address when their leading `length` bits agree, checked
// one prefix after another as 64-bit words under a mask.
class LinearScan {
 public:
  explicit LinearScan(const std::vector<IpPrefix>& list) {
    for (const IpPrefix& p : list) {
      Masked m;
      words(p.address, m.high, m.low);
      unsigned length = p.address.v6 ? p.length : p.length + 96u;  // v4 sits in the low word
      m.high_mask = length >= 64 ? ~0ull : length == 0 ? 0 : ~0ull << (64 - length);
      m.low_mask = length >= 128 ? ~0ull : length <= 64 ? 0 : ~0ull << (128 - length);
      (p.address.v6 ? v6_ : v4_).push_back(m);
    }
  }
  bool contains(const IpAddress& a) const {
    uint64_t high, low;
    words(a, high, low);
    for (const Masked& m : a.v6 ? v6_ : v4_)
      if (((high ^ m.high) & m.high_mask) == 0 && ((low ^ m.low) & m.low_mask) == 0) return true;
    return false;
  }

 private:
  struct Masked {
    uint64_t high, low, high_mask, low_mask;
  };
  static void words(const IpAddress& a, uint64_t& high, uint64_t& low) {
    high = low = 0;
    if (!a.v6) {
      low = a.v4_value();
      return;
    }
    for (int i = 0; i < 8; ++i) high = high << 8 | a.bytes[i];
    for (int i = 8; i < 16; ++i) low = low << 8 | a.bytes[i];
  }
  std::vector<Masked> v4_, v6_;
};

TEST(IpSetMatcher, AgreesWithALinearScanOnRandomSets) {
  std::mt19937_64 rng(20240611);
  auto random_address = [&](bool v6) {
    IpAddress a;
    a.v6 = v6;
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) a.bytes[i] = uint8_t(rng());
    // Crowd some addresses into a few leading bytes so prefixes overlap and nest.
    if (rng() % 2) a.bytes[0] = uint8_t(rng() % 4);
    return a;
  };
  std::vector<IpPrefix> list;
  for (int i = 0; i < 10'000; ++i) {
    bool v6 = rng() % 10 < 3;
    unsigned length = v6 ? 16 + rng() % 113 : 8 + rng() % 25;
    // Mostly long v4 prefixes, as in real block lists; uniform lengths would cover nearly
    // all of the v4 space with /8s and leave no misses to check.
    if (!v6 && rng() % 4 != 0) length = 24 + rng() % 9;
    IpPrefix p{random_address(v6), uint8_t(length)};
    for (unsigned bit = p.length; bit < (v6 ? 128u : 32u); ++bit)
      p.address.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    list.push_back(p);
  }

  IpSetMatcher set(list);
  LinearScan reference(list);
  size_t hits_v4 = 0, misses_v4 = 0, hits_v6 = 0, misses_v6 = 0;
  for (int i = 0; i < 100'000; ++i) {
    bool v6 = rng() % 10 < 3;
    IpAddress a;
    if (rng() % 2) {
      // Near a prefix of the set: its first or last address, or one beyond either.
      const IpPrefix& p = list[rng() % list.size()];
      a = p.address;
      v6 = a.v6;
      unsigned width = v6 ? 128 : 32;
      if (rng() % 2)
        for (unsigned bit = p.length; bit < width; ++bit)
          a.bytes[bit / 8] |= uint8_t(0x80u >> (bit % 8));
      int nudge = int(rng() % 3) - 1;  // step one address down, none, or up
      size_t last = v6 ? 15 : 3;
      for (size_t byte = last + 1; byte-- > 0 && nudge != 0;) {
        uint8_t before = a.bytes[byte];
        a.bytes[byte] = uint8_t(before + nudge);
        if (!(nudge > 0 ? before == 0xff : before == 0x00)) break;  // no carry or borrow
      }
    } else {
      a = random_address(v6);
    }
    bool expected = reference.contains(a);
    ASSERT_EQ(set.contains(a), expected) << to_string(a);
    (a.v6 ? (expected ? hits_v6 : misses_v6) : (expected ? hits_v4 : misses_v4))++;
  }
  // The cross-check means something only if both outcomes occurred often in both families.
  EXPECT_GT(hits_v4, 5'000u);
  EXPECT_GT(misses_v4, 5'000u);
  EXPECT_GT(hits_v6, 2'000u);
  EXPECT_GT(misses_v6, 2'000u);
}

}  // namespace
}  // namespace eg::waf
