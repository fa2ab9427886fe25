// An IPv4 or IPv6 address in binary form, the one shape every address-keyed part of the
// engine uses (IP sets, geo, rate keys). IPv4 is kept as itself, not IPv4-mapped IPv6:
// AWS IP sets are one family each, and a v4 client never matches a v6 set.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eg::waf {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // v4: bytes[0..3]
  uint32_t v4_value() const {       // host order, for v4 only
    return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
  }
  bool operator==(const IpAddress&) const = default;
};

// "192.0.2.1", "2001:db8::1", "[2001:db8::1]"; "::ffff:192.0.2.1" becomes the v4 address.
std::optional<IpAddress> parse_ip(std::string_view text);
std::string to_string(const IpAddress& a);

struct IpPrefix {
  IpAddress address;  // bits beyond `length` are zero
  uint8_t length = 0;
};

// "192.0.2.0/24", "2001:db8::/32"; a bare address is a /32 or /128; host bits beyond the
// length are cleared. On failure, `error` says what is wrong with the text.
struct PrefixParse {
  std::optional<IpPrefix> prefix;
  std::string error;
};
PrefixParse parse_prefix(std::string_view text);

}  // namespace eg::waf
