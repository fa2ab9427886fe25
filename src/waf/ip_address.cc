#include "waf/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace eg::waf {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    return a;
  }
  a.v6 = true;
  return a;
}

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

PrefixParse parse_prefix(std::string_view text) {
  PrefixParse r;
  auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  auto ip = parse_ip(addr);
  if (!ip || addr.front() == '[') {
    r.error = "\"" + std::string(text) + "\" is not an IPv4 or IPv6 address or CIDR prefix";
    return r;
  }
  // "::ffff:a.b.c.d/n" would change family under the length; keep such prefixes as written.
  const unsigned max = ip->v6 ? 128 : 32;
  unsigned length = max;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), length);
    if (len.empty() || ec != std::errc() || p != len.data() + len.size() || length > max) {
      r.error =
          "\"" + std::string(text) + "\": the prefix length must be 0 to " + std::to_string(max);
      return r;
    }
  }
  // Host bits beyond the length are cleared, not refused: "192.0.2.44/24" means 192.0.2.0/24.
  IpPrefix prefix{*ip, uint8_t(length)};
  for (unsigned bit = length; bit < max; ++bit)
    prefix.address.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
  r.prefix = prefix;
  return r;
}

}  // namespace eg::waf
