// IPSetReferenceStatement lookups (goal: >= 20 million lookups/s on one core with 100,000
// mixed prefixes). The set is 70% v4, 30% v6, with nested and overlapping prefixes; the
// lookups are mostly random addresses with a share drawn from inside the set, so both hits
// and misses are measured (the hit_share counter says how many hit).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "waf/ip_set.h"

namespace {

using eg::waf::IpAddress;
using eg::waf::IpPrefix;
using eg::waf::IpSetMatcher;

constexpr size_t kPrefixes = 100'000;
constexpr size_t kLookups = 1 << 16;  // cycled through; larger than L1, as real traffic is

IpAddress random_address(std::mt19937_64& rng, bool v6) {
  IpAddress a;
  a.v6 = v6;
  for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) a.bytes[i] = uint8_t(rng());
  return a;
}

void clear_host_bits(IpPrefix& p) {
  for (unsigned bit = p.length; bit < (p.address.v6 ? 128u : 32u); ++bit)
    p.address.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
}

// v4 lengths /8-/32 weighted towards long prefixes (the weight halves every two bits
// shorter), as block lists are mostly /24-/32: uniform lengths would put thousands of /8s in
// the set and make every v4 address a hit. v6 lengths are uniform /16-/128. One prefix
// in ten is carved out of an earlier one, so nesting and overlap are part of the load.
std::vector<IpPrefix> make_prefixes(std::mt19937_64& rng) {
  std::vector<double> weights;
  for (int length = 8; length <= 32; ++length) weights.push_back(std::exp2((length - 32) / 2.0));
  std::discrete_distribution<int> v4_length(weights.begin(), weights.end());
  std::vector<IpPrefix> out;
  out.reserve(kPrefixes);
  while (out.size() < kPrefixes) {
    bool v6 = rng() % 10 < 3;
    IpPrefix p{random_address(rng, v6), uint8_t(v6 ? 16 + rng() % 113 : 8 + v4_length(rng))};
    if (!out.empty() && rng() % 10 == 0) {
      const IpPrefix& outer = out[rng() % out.size()];
      unsigned width = outer.address.v6 ? 128 : 32;
      if (outer.length < width) {
        p = {random_address(rng, outer.address.v6),
             uint8_t(outer.length + 1 + rng() % (width - outer.length))};
        for (unsigned byte = 0; byte < outer.length / 8; ++byte)
          p.address.bytes[byte] = outer.address.bytes[byte];
        if (outer.length % 8) {
          uint8_t keep = uint8_t(0xff00 >> (outer.length % 8));
          size_t b = outer.length / 8;
          p.address.bytes[b] =
              uint8_t((outer.address.bytes[b] & keep) | (p.address.bytes[b] & ~keep));
        }
      }
    }
    clear_host_bits(p);
    out.push_back(p);
  }
  return out;
}

// One lookup in five is an address inside a random prefix of the set (of the lookup's
// family); the rest are random addresses.
std::vector<IpAddress> make_lookups(std::mt19937_64& rng, const std::vector<IpPrefix>& set,
                                    int families /* 4, 6 or 46 */) {
  std::vector<IpPrefix> by_family[2];
  for (const IpPrefix& p : set) by_family[p.address.v6].push_back(p);
  std::vector<IpAddress> out;
  out.reserve(kLookups);
  while (out.size() < kLookups) {
    bool v6 = families == 6 || (families == 46 && rng() % 10 < 3);
    IpAddress a = random_address(rng, v6);
    if (rng() % 5 == 0) {
      const IpPrefix& p = by_family[v6][rng() % by_family[v6].size()];
      for (unsigned bit = 0; bit < p.length; ++bit) {
        uint8_t mask = uint8_t(0x80u >> (bit % 8));
        a.bytes[bit / 8] = uint8_t((a.bytes[bit / 8] & ~mask) | (p.address.bytes[bit / 8] & mask));
      }
    }
    out.push_back(a);
  }
  return out;
}

void run_lookups(benchmark::State& state, int families) {
  std::mt19937_64 rng(42);
  std::vector<IpPrefix> prefixes = make_prefixes(rng);
  IpSetMatcher set(prefixes);
  std::vector<IpAddress> lookups = make_lookups(rng, prefixes, families);
  size_t hits = 0, i = 0;
  for (auto _ : state) {
    hits += set.contains(lookups[i]);
    i = (i + 1) & (kLookups - 1);
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["hit_share"] = double(hits) / double(state.iterations());
  state.counters["memory_bytes"] = double(set.memory_bytes());
  state.counters["prefixes"] = double(set.size());
}

void BM_IpSetLookupMixed(benchmark::State& state) { run_lookups(state, 46); }
void BM_IpSetLookupV4(benchmark::State& state) { run_lookups(state, 4); }
void BM_IpSetLookupV6(benchmark::State& state) { run_lookups(state, 6); }
BENCHMARK(BM_IpSetLookupMixed);
BENCHMARK(BM_IpSetLookupV4);
BENCHMARK(BM_IpSetLookupV6);

void BM_IpSetBuild(benchmark::State& state) {
  std::mt19937_64 rng(42);
  std::vector<IpPrefix> prefixes = make_prefixes(rng);
  for (auto _ : state) {
    IpSetMatcher set(prefixes);
    benchmark::DoNotOptimize(set.size());
  }
  state.SetItemsProcessed(int64_t(state.iterations() * prefixes.size()));
}
BENCHMARK(BM_IpSetBuild)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
