#include "core/request_id.h"

#include <cstdint>
#include <random>

namespace eg {
namespace {

struct Xoshiro256 {
  uint64_t s[4];
  Xoshiro256() {
    std::random_device rd;
    for (auto& x : s) x = (uint64_t(rd()) << 32) ^ rd();
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string new_request_id() {
  std::string id(kRequestIdLength, '\0');
  new_request_id(id.data());
  return id;
}

void new_request_id(char* out) {
  thread_local Xoshiro256 rng;
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < kRequestIdLength; ++i) {
    char& c = out[i];
    if (left < 6) {
      bits = rng.next();
      left = 64;
    }
    c = kAlphabet[bits & 63];
    bits >>= 6;
    left -= 6;
  }
}

std::string format_uuid(const unsigned char* b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

std::string new_uuid() {
  thread_local Xoshiro256 rng;
  unsigned char b[16];
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = rng.next();
    for (int i = 0; i < 8; ++i) b[half * 8 + i] = static_cast<unsigned char>(bits >> (8 * i));
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return format_uuid(b);
}

}  // namespace eg
