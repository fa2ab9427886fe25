// RateBasedStatement counting: count() throughput on one and two threads sharing one limiter
// (the gateway's workers all count into the same one), over a hot set of 1,000 keys and over
// 1,000,000 keys (every count a cache miss); and the memory a tracked key costs, as reported
// (bytes_per_key) and as measured (resident memory after tracking 1,000,000 keys).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string_view>
#include <vector>

#include "waf/rate_limiter.h"

namespace {

using eg::waf::RateLimiter;
using eg::waf::RateLimiterOptions;

constexpr size_t kMaxKeys = 1'000'000;

// The IP aggregation key: a client address's 4 bytes. Made from a key number on the fly, so
// the benchmark's own key store adds no cache misses to the limiter's.
struct KeyBytes {
  char bytes[4];
  explicit KeyBytes(uint32_t number) {
    const uint32_t address = number * 2654435761u;  // odd: distinct numbers, distinct addresses
    std::memcpy(bytes, &address, 4);
  }
  std::string_view view() const { return {bytes, 4}; }
};

RateLimiter& shared_limiter() {
  static RateLimiter limiter(RateLimiterOptions{300, 1000, kMaxKeys});
  return limiter;
}

// Arg: how many distinct keys the requests come from.
void BM_Count(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  const size_t distinct = size_t(state.range(0));
  std::mt19937_64 rng(uint64_t(state.thread_index()) + 1);
  std::vector<uint32_t> order(1 << 16);
  for (uint32_t& i : order) i = uint32_t(rng() % distinct);
  size_t i = 0, limited = 0;
  int64_t now = 1'000'000;
  for (auto _ : state) {
    limited += limiter.count(KeyBytes(order[i & 0xffff]).view(), now + int64_t(i >> 18));
    ++i;
  }
  benchmark::DoNotOptimize(limited);
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_Count)->Arg(1000)->Arg(kMaxKeys)->Threads(1)->Threads(2)->UseRealTime();

size_t resident_bytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return size_t(pages_resident) * size_t(sysconf(_SC_PAGESIZE));
}

void BM_MemoryPerKey(benchmark::State& state) {
  for (auto _ : state) {
    const size_t before = resident_bytes();
    auto limiter = std::make_unique<RateLimiter>(RateLimiterOptions{300, 1000, kMaxKeys});
    const size_t built = resident_bytes();
    for (uint32_t k = 0; k < kMaxKeys; ++k) limiter->count(KeyBytes(k).view(), 1'000'000);
    const size_t filled = resident_bytes();
    state.counters["bytes_per_key"] = double(RateLimiter::bytes_per_key());
    state.counters["rss_built_per_key"] = double(built - before) / double(kMaxKeys);
    state.counters["rss_filled_per_key"] = double(filled - before) / double(kMaxKeys);
    state.counters["tracked_keys"] = double(limiter->tracked_keys());
  }
}
BENCHMARK(BM_MemoryPerKey)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
