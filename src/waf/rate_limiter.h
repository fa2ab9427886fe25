// The state behind one RateBasedStatement: request counts per aggregation key over a sliding
// window of 60-600 s, decided to the second (AWS re-evaluates about every 10 s). Memory is
// bounded: at most max_keys keys are tracked, the least recently seen is evicted first, and
// each costs 64 bytes (bench/micro/rate_limiter_bench.cc reports the figure); keys past an
// eighth of the limit (at most 10,000) are also counted per second, for exact release.
// Thread-safe: every worker of the gateway counts into the same limiter.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eg::waf {

struct RateLimiterOptions {
  uint32_t window_seconds = 300;  // 60, 120, 300 or 600
  uint64_t limit = 100;           // requests per window; over it the key is limited
  size_t max_keys = 100'000;      // tracked keys; the least recently seen is evicted
};

class RateLimiter {
 public:
  explicit RateLimiter(const RateLimiterOptions& o);
  ~RateLimiter();

  // Counts one request for `key` (the aggregation key's bytes: an address, or the custom
  // keys joined) at `now_seconds` (a monotonic clock in seconds) and returns whether the key
  // is over the limit, this request included.
  bool count(std::string_view key, int64_t now_seconds);
  // Whether the key is over the limit now, without counting.
  bool limited(std::string_view key, int64_t now_seconds) const;
  // The key's count over the trailing window at `now_seconds`, the figure `limited` compares
  // with the limit (its oldest sub-window interpolated: docs/waf/rate-based.md); 0 when the
  // key is not tracked. For `waf test`, /stats and tests.
  uint64_t window_count(std::string_view key, int64_t now_seconds) const;

  // Keys over the limit now, for GetRateBasedStatementManagedKeys and /stats. The limiter
  // keeps the bytes of limited keys only (at most 10,000, as AWS) so they can be listed.
  std::vector<std::string> limited_keys(int64_t now_seconds) const;

  size_t tracked_keys() const;
  size_t precise_keys() const;    // keys counted per second now
  static size_t bytes_per_key();  // the state cost of one tracked key
  const RateLimiterOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::waf
