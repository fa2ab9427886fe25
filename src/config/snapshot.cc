#include "config/snapshot.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace eg::config {

const SecretVersion* Secret::current() const {
  for (const auto& v : versions)
    if (std::find(v.stages.begin(), v.stages.end(), "CURRENT") != v.stages.end()) return &v;
  return nullptr;
}

const SecretVersion* Secret::pending() const {
  for (const auto& v : versions)
    if (std::find(v.stages.begin(), v.stages.end(), "PENDING") != v.stages.end()) return &v;
  return nullptr;
}

bool AddressPrefix::contains(bool is_v6, const uint8_t* addr) const {
  if (is_v6 != v6) return false;
  size_t full = length / 8;
  if (std::memcmp(addr, bytes.data(), full) != 0) return false;
  unsigned rest = length % 8;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (addr[full] & mask) == bytes[full];
}

std::optional<AddressPrefix> parse_address_prefix(std::string_view text, std::string& why) {
  AddressPrefix p;
  std::string addr(text.substr(0, text.find('/')));
  p.v6 = addr.find(':') != std::string::npos;
  if (::inet_pton(p.v6 ? AF_INET6 : AF_INET, addr.c_str(), p.bytes.data()) != 1) {
    why = "'" + std::string(text) + "' is not an IPv4 or IPv6 address or prefix";
    return std::nullopt;
  }
  unsigned max = p.v6 ? 128 : 32;
  p.length = uint8_t(max);
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    unsigned n = 0;
    bool ok = !len.empty() && len.size() <= 3;
    for (char ch : len)
      ok = ok && ch >= '0' && ch <= '9' && (n = n * 10 + unsigned(ch - '0'), true);
    if (!ok || n > max) {
      why = "'" + std::string(text) + "': the prefix length must be 0-" + std::to_string(max);
      return std::nullopt;
    }
    p.length = uint8_t(n);
  }
  AddressPrefix masked = p;
  for (unsigned bit = p.length; bit < max; ++bit)
    masked.bytes[bit / 8] &= uint8_t(~(0x80 >> (bit % 8)));
  if (masked.bytes != p.bytes) {
    why = "'" + std::string(text) + "' has host bits set (the prefix is not its network address)";
    return std::nullopt;
  }
  return p;
}

const Origin* Snapshot::find_origin(std::string_view name) const {
  auto it = origin_index.find(std::string(name));
  if (it == origin_index.end() || it->second >= origins.size()) return nullptr;
  return &origins[it->second];
}

const CustomErrorResponse* Snapshot::custom_error(int status) const {
  for (const auto& e : custom_error_responses)
    if (e.error_code == status) return &e;
  return nullptr;
}

}  // namespace eg::config
