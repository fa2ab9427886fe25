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

}  // namespace eg
