#include "origin/ipranges_prefix.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace eg::origin {
namespace {

// Mask of the network bits for a prefix of `length` within a 128-bit (hi, lo) address.
void network_mask(int length, int max, uint64_t& mask_hi, uint64_t& mask_lo) {
  if (max == 32) {  // IPv4 sits in the low 32 bits of lo
    mask_hi = 0;
    mask_lo = length == 0 ? 0 : (~uint64_t(0) << (32 - length)) & 0xffffffffULL;
    return;
  }
  const int bits = length;
  if (bits >= 128) {
    mask_hi = mask_lo = ~uint64_t(0);
  } else if (bits >= 64) {
    mask_hi = ~uint64_t(0);
    mask_lo = bits == 64 ? 0 : ~uint64_t(0) << (128 - bits);
  } else {
    mask_hi = bits == 0 ? 0 : ~uint64_t(0) << (64 - bits);
    mask_lo = 0;
  }
}

std::optional<int> parse_length(std::string_view s, int max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

std::optional<uint32_t> parse_ipv4_address(std::string_view s) {
  uint32_t addr = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + (s[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0')) return std::nullopt;
    addr = (addr << 8) | v;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return addr;
}

std::optional<Prefix> parse_ipv6_address(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  unsigned char bytes[16];
  if (inet_pton(AF_INET6, buf, bytes) != 1) return std::nullopt;
  Prefix p;
  p.version = IpVersion::V6;
  for (int i = 0; i < 8; ++i) p.hi = (p.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) p.lo = (p.lo << 8) | bytes[i];
  p.length = 128;
  return p;
}

// The last address a prefix covers, as (hi, lo).
std::pair<uint64_t, uint64_t> last_address(const Prefix& p) {
  uint64_t mh, ml;
  network_mask(p.length, p.max_length(), mh, ml);
  if (p.version == IpVersion::V4) return {0, (p.lo & ml) | (~ml & 0xffffffffULL)};
  return {(p.hi & mh) | ~mh, (p.lo & ml) | ~ml};
}

}  // namespace

bool Prefix::host_bits_zero() const {
  uint64_t mh, ml;
  network_mask(length, max_length(), mh, ml);
  return (hi & ~mh) == 0 && (lo & ~ml) == 0;
}

Prefix Prefix::with_host_bits_cleared() const {
  uint64_t mh, ml;
  network_mask(length, max_length(), mh, ml);
  Prefix p = *this;
  p.hi &= mh;
  p.lo &= ml;
  return p;
}

bool Prefix::contains(const Prefix& other) const {
  if (version != other.version || other.length < length) return false;
  uint64_t mh, ml;
  network_mask(length, max_length(), mh, ml);
  return (other.hi & mh) == hi && (other.lo & ml) == lo;
}

std::string Prefix::to_string() const {
  char buf[64];
  if (version == IpVersion::V4) {
    uint32_t a = uint32_t(lo);
    int n = snprintf(buf, sizeof buf, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                     a & 255, unsigned(length));
    return std::string(buf, size_t(n));
  }
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) bytes[i] = uint8_t(hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) bytes[8 + i] = uint8_t(lo >> (56 - 8 * i));
  inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  std::string out(buf);
  out += '/';
  out += std::to_string(length);
  return out;
}

std::optional<Prefix> parse_ipv4_prefix(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = parse_ipv4_address(text.substr(0, slash));
  auto len = parse_length(text.substr(slash + 1), 32);
  if (!addr || !len) return std::nullopt;
  Prefix p;
  p.lo = *addr;
  p.length = uint8_t(*len);
  return p;
}

std::optional<Prefix> parse_ipv6_prefix(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto p = parse_ipv6_address(text.substr(0, slash));
  auto len = parse_length(text.substr(slash + 1), 128);
  if (!p || !len) return std::nullopt;
  p->length = uint8_t(*len);
  return p;
}

std::optional<Prefix> parse_prefix(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return parse_ipv6_prefix(text);
  return parse_ipv4_prefix(text);
}

std::optional<Prefix> parse_address(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return parse_ipv6_address(text);
  auto a = parse_ipv4_address(text);
  if (!a) return std::nullopt;
  Prefix p;
  p.lo = *a;
  p.length = 32;
  return p;
}

std::vector<Prefix> range_to_prefixes(const Prefix& first, const Prefix& last) {
  std::vector<Prefix> out;
  if (first.version != last.version) return out;
  using Address = std::pair<uint64_t, uint64_t>;
  const Address end{last.hi, last.lo};
  Address at{first.hi, first.lo};
  while (at <= end) {
    // The largest aligned block that starts at `at` and ends at or before `end`.
    Prefix block{at.first, at.second, uint8_t(first.max_length()), first.version};
    while (block.length > 0) {
      Prefix wider = block;
      --wider.length;
      if (!wider.host_bits_zero() || last_address(wider) > end) break;
      block = wider;
    }
    out.push_back(block);
    Address block_end = last_address(block);
    if (block_end >= end) break;
    at = block_end;
    if (++at.second == 0) ++at.first;
  }
  return out;
}

std::vector<Prefix> normalise(std::vector<Prefix> prefixes, NormaliseReport* report) {
  NormaliseReport local;
  NormaliseReport& r = report ? *report : local;
  r = NormaliseReport{};
  r.input = prefixes.size();
  for (auto& p : prefixes) {
    if (!p.host_bits_zero()) {
      Prefix cleared = p.with_host_bits_cleared();
      ++r.host_bits_cleared;
      if (r.examples.size() < 5)
        r.examples.push_back(p.to_string() + " has host bits set; used as " + cleared.to_string());
      p = cleared;
    }
  }
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<Prefix> out;
  out.reserve(prefixes.size());
  for (const auto& p : prefixes) {
    // Sorted by address then length, prefixes nest or are disjoint: the last kept prefix is
    // the only one that can contain this one.
    if (!out.empty()) {
      const Prefix& last = out.back();
      if (last == p) {
        ++r.duplicates;
        continue;
      }
      if (last.contains(p)) {
        ++r.contained;
        if (r.examples.size() < 5)
          r.examples.push_back(p.to_string() + " is inside " + last.to_string());
        continue;
      }
    }
    out.push_back(p);
  }
  r.output = out.size();
  return out;
}

}  // namespace eg::origin
