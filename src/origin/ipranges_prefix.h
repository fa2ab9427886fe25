// IPv4 and IPv6 prefixes (CIDR blocks) as ip-ranges.json lists them, and the normalisation
// that turns a selection into the smallest equivalent list a firewall can hold.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::origin {

enum class IpVersion : uint8_t { V4 = 4, V6 = 6 };

// An address is 128 bits (hi, lo); an IPv4 address lives in the low 32 bits of lo. Prefixes
// order by version, then address, then length (shorter first), so that a prefix comes right
// before the prefixes it contains.
struct Prefix {
  uint64_t hi = 0;
  uint64_t lo = 0;
  uint8_t length = 0;
  IpVersion version = IpVersion::V4;

  int max_length() const { return version == IpVersion::V4 ? 32 : 128; }
  bool host_bits_zero() const;
  Prefix with_host_bits_cleared() const;
  bool contains(const Prefix& other) const;  // same version, other inside (or equal)
  std::string to_string() const;             // "1.2.3.0/24", "2600:9000::/28"

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend auto operator<=>(const Prefix& a, const Prefix& b) {
    if (a.version != b.version) return a.version <=> b.version;
    if (a.hi != b.hi) return a.hi <=> b.hi;
    if (a.lo != b.lo) return a.lo <=> b.lo;
    return a.length <=> b.length;
  }
};

// Strict parsers: "a.b.c.d/len" (four decimal octets without leading zeros, len 0-32) and
// "x:x::x/len" (any form inet_pton accepts, len 0-128). Host bits may be set; the caller
// decides what to do about it. Without "/len" the text is not a prefix.
std::optional<Prefix> parse_ipv4_prefix(std::string_view text);
std::optional<Prefix> parse_ipv6_prefix(std::string_view text);
std::optional<Prefix> parse_prefix(std::string_view text);  // either version
// A bare address (no "/len") as a full-length prefix: /32 or /128.
std::optional<Prefix> parse_address(std::string_view text);

// The smallest list of prefixes covering exactly [first, last] (both addresses of the same
// version), as nft reports an interval that is not a single prefix.
std::vector<Prefix> range_to_prefixes(const Prefix& first, const Prefix& last);

// What normalisation changed, so that the output can say it.
struct NormaliseReport {
  size_t input = 0;
  size_t host_bits_cleared = 0;       // e.g. 1.2.3.4/24 became 1.2.3.0/24
  size_t duplicates = 0;              // listed more than once (after clearing host bits)
  size_t contained = 0;               // inside another listed prefix
  std::vector<std::string> examples;  // a few "1.2.3.4/24 -> 1.2.3.0/24" lines
  size_t output = 0;
};

// Sorts, clears host bits, drops duplicates and prefixes contained in another one. Adjacent
// prefixes are not merged into a shorter one: the output lists the published prefixes, so
// that a firewall entry can be traced back to the document.
std::vector<Prefix> normalise(std::vector<Prefix> prefixes, NormaliseReport* report = nullptr);

}  // namespace eg::origin
