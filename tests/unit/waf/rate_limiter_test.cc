#include "waf/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace eg::waf {
namespace {

// 60 s windows are ten sub-windows of 6 s; 996 starts one (996 = 166 x 6).
constexpr int64_t kSubWindowStart = 996;

RateLimiter limiter(uint32_t window, uint64_t limit, size_t max_keys = 1000) {
  return RateLimiter(RateLimiterOptions{window, limit, max_keys});
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(RateLimiter, TheRequestOverTheLimitIsTheFirstLimited) {
  RateLimiter rl = limiter(60, 10);
  for (int i = 1; i <= 10; ++i) EXPECT_FALSE(rl.count("198.51.100.7", 1000)) << "request " << i;
  EXPECT_FALSE(rl.limited("198.51.100.7", 1000));
  EXPECT_TRUE(rl.count("198.51.100.7", 1000));
  EXPECT_TRUE(rl.limited("198.51.100.7", 1000));
  EXPECT_EQ(rl.window_count("198.51.100.7", 1000), 11u);
  // Blocked requests are counted too, as AWS does: a client that keeps sending stays limited.
  EXPECT_TRUE(rl.count("198.51.100.7", 1001));
  EXPECT_EQ(rl.window_count("198.51.100.7", 1001), 12u);
}

TEST(RateLimiter, LimitedWhileTheWindowHoldsMoreThanTheLimitThenReleased) {
  RateLimiter rl = limiter(60, 10);
  const int64_t t0 = kSubWindowStart;
  for (int i = 0; i < 11; ++i) rl.count("k", t0);
  // The requests at t0 are inside (now - 60, now] up to t0 + 59 and out from t0 + 60 on.
  // A burst just over the limit at a sub-window's first second is released exactly on time.
  for (int64_t t = t0; t < t0 + 60; ++t) EXPECT_TRUE(rl.limited("k", t)) << "t0 + " << t - t0;
  EXPECT_FALSE(rl.limited("k", t0 + 60));
  EXPECT_FALSE(rl.count("k", t0 + 60));
  EXPECT_EQ(rl.window_count("k", t0 + 119), 1u);  // only the request at t0 + 60 is left
}

TEST(RateLimiter, ABurstIsReleasedOnTheExactSecondWhateverTheWindow) {
  // A key near the limit is counted per second: a burst at any second of a sub-window is
  // released exactly W seconds after it, for 60 s and 600 s windows alike (AWS: ~10 s late).
  for (uint32_t window : {60u, 600u}) {
    for (int burst : {11, 12, 20, 60, 1000}) {
      for (int64_t offset : {0, 1, 5, 29, 59}) {
        RateLimiter rl = limiter(window, 10);
        const int64_t t0 = 6000 + offset;  // 6000 starts a sub-window for both windows
        for (int i = 0; i < burst; ++i) rl.count("k", t0);
        const std::string at = std::to_string(window) + " s window, burst " +
                               std::to_string(burst) + " at +" + std::to_string(offset);
        EXPECT_TRUE(rl.limited("k", t0 + window - 1)) << at;
        EXPECT_FALSE(rl.limited("k", t0 + window)) << at;
        EXPECT_EQ(rl.window_count("k", t0 + window), 0u) << at;
      }
    }
  }
}

TEST(RateLimiter, ASpreadFloodIsReleasedWhenTheLimitPlusOnethRequestFromTheEndAgesOut) {
  // 25 requests a second for 8 seconds, limit 100, 600 s window: 200 requests. The key is
  // released when the 100 newest are all that is left: when the second holding request 100
  // (t0 + 3, requests 76..100) is out, at t0 + 3 + 600.
  RateLimiter rl = limiter(600, 100);
  const int64_t t0 = 7213;
  for (int64_t t = t0; t < t0 + 8; ++t)
    for (int i = 0; i < 25; ++i) rl.count("flood", t);
  EXPECT_EQ(rl.window_count("flood", t0 + 602), 125u);
  EXPECT_TRUE(rl.limited("flood", t0 + 602));
  EXPECT_FALSE(rl.limited("flood", t0 + 603));
  EXPECT_EQ(rl.window_count("flood", t0 + 603), 100u);
}

TEST(RateLimiter, OnlyKeysNearTheLimitAreCountedPerSecond) {
  RateLimiter rl = limiter(300, 80);
  for (int k = 0; k < 500; ++k)
    for (int i = 0; i < 5; ++i) rl.count("client-" + std::to_string(k), 9000 + i);
  EXPECT_EQ(rl.precise_keys(), 0u);  // 5 requests, under an eighth of 80
  for (int i = 0; i < 50; ++i) rl.count("heavy", 9010);
  EXPECT_EQ(rl.precise_keys(), 1u);
  EXPECT_EQ(RateLimiter::bytes_per_key(), 64u);
  // Once its requests are out of the window and it has gone quiet, the key is back to its
  // entry alone (and not limited).
  rl.count("heavy", 9010 + 300);
  EXPECT_EQ(rl.precise_keys(), 1u);  // the entry's sub-window still holds the 50
  rl.count("heavy", 9010 + 330);
  EXPECT_EQ(rl.precise_keys(), 0u);
  EXPECT_FALSE(rl.limited("heavy", 9010 + 330));
}

TEST(RateLimiter, PerSecondRecordsAreCappedAndQuietOnesMakeRoom) {
  RateLimiter rl = limiter(60, 16, 20'000);
  for (int k = 0; k < 10'000; ++k)
    for (int i = 0; i < 9; ++i) rl.count("burst-" + std::to_string(k), 6000);
  EXPECT_EQ(rl.precise_keys(), 10'000u);
  for (int i = 0; i < 9; ++i) rl.count("one-too-many", 6000);
  EXPECT_EQ(rl.precise_keys(), 10'000u);
  // A minute later the bursts are out of the window: the next key near its limit finds room.
  for (int i = 0; i < 9; ++i) rl.count("next", 6100);
  EXPECT_EQ(rl.precise_keys(), 1u);
  for (int i = 0; i < 8; ++i) rl.count("next", 6100);
  EXPECT_TRUE(rl.limited("next", 6159));
  EXPECT_FALSE(rl.limited("next", 6160));
}

TEST(RateLimiter, ARampCountedPerSecondFromASubWindowStartStaysExact) {
  // Two requests a second for 120 s from a sub-window's start, limit 200, 60 s window: the
  // count is 2 x the seconds inside the window at every second, before and after the key
  // starts being counted per second (at t0 + 18, its first sub-window start past 25).
  RateLimiter rl = limiter(60, 200);
  const int64_t t0 = 12'000;
  for (int64_t t = t0; t < t0 + 120; ++t) {
    rl.count("ramp", t);
    rl.count("ramp", t);
    EXPECT_EQ(rl.window_count("ramp", t), uint64_t(2 * std::min<int64_t>(60, t - t0 + 1)))
        << "t0 + " << t - t0;
  }
  EXPECT_EQ(rl.precise_keys(), 1u);
}

TEST(RateLimiter, SteadyTrafficIsCountedExactlyEverySecond) {
  // One request a second: the trailing 60 s always hold exactly 60 once the first minute is
  // over, at every second and not only at sub-window boundaries.
  RateLimiter rl = limiter(60, 59);
  const int64_t t0 = kSubWindowStart;
  for (int64_t t = t0; t < t0 + 300; ++t) {
    bool over = rl.count("steady", t);
    const uint64_t exact = uint64_t(std::min<int64_t>(60, t - t0 + 1));
    EXPECT_EQ(rl.window_count("steady", t), exact) << "t0 + " << t - t0;
    EXPECT_EQ(over, exact > 59) << "t0 + " << t - t0;
  }
}

TEST(RateLimiter, ATenMinuteWindow) {
  RateLimiter rl = limiter(600, 10);
  const int64_t t0 = 6000;  // starts a 60 s sub-window
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(rl.count("k", t0));
  EXPECT_TRUE(rl.count("k", t0 + 1));
  EXPECT_TRUE(rl.limited("k", t0 + 300));
  EXPECT_TRUE(rl.limited("k", t0 + 599));
  // At t0 + 600 the ten at t0 are out; the one at t0 + 1 is still in.
  EXPECT_FALSE(rl.limited("k", t0 + 600));
  EXPECT_EQ(rl.window_count("k", t0 + 660), 0u);
}

TEST(RateLimiter, KeysAreCountedIndependently) {
  RateLimiter rl = limiter(300, 10);
  for (int i = 0; i < 20; ++i) rl.count("203.0.113.1", 500);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(rl.count("203.0.113.2", 500));
  EXPECT_TRUE(rl.limited("203.0.113.1", 500));
  EXPECT_FALSE(rl.limited("203.0.113.2", 500));
  EXPECT_FALSE(rl.limited("203.0.113.3", 500));
  EXPECT_EQ(rl.window_count("203.0.113.2", 500), 10u);
  EXPECT_EQ(rl.window_count("203.0.113.3", 500), 0u);
  EXPECT_EQ(rl.tracked_keys(), 2u);
}

TEST(RateLimiter, AClockThatTrailsByASecondStillCounts) {
  // Workers read the clock independently: one may count at 999 after another counted at 1000.
  RateLimiter rl = limiter(60, 10);
  rl.count("k", 1000);
  for (int i = 0; i < 10; ++i) rl.count("k", 999);
  EXPECT_EQ(rl.window_count("k", 1000), 11u);
  EXPECT_TRUE(rl.limited("k", 1000));
}

TEST(RateLimiter, AKeyIdleForLongStartsAfresh) {
  RateLimiter rl = limiter(60, 10);
  for (int i = 0; i < 11; ++i) rl.count("k", 1000);
  EXPECT_FALSE(rl.count("k", 1000 + 1'000'000));
  EXPECT_EQ(rl.window_count("k", 1000 + 1'000'000), 1u);
  // 66 s later, eleven sub-windows on: the whole ring has turned over once.
  for (int i = 0; i < 11; ++i) rl.count("other", 5000);
  EXPECT_FALSE(rl.count("other", 5066));
  EXPECT_EQ(rl.window_count("other", 5066), 1u);
}

TEST(RateLimiter, AnyClockOriginWorks) {
  // A monotonic clock starts near 0; a wall clock in seconds is in the billions; a test's may
  // be negative. Each counts the same.
  for (int64_t t0 : {int64_t(-7'000), int64_t(0), int64_t(1'767'225'600), int64_t(1) << 40}) {
    RateLimiter rl = limiter(60, 10);
    const int64_t start = t0 - t0 % 6 + (t0 % 6 < 0 ? -6 : 0);  // a sub-window's first second
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(rl.count("k", start)) << t0;
    EXPECT_TRUE(rl.count("k", start + 30)) << t0;
    EXPECT_TRUE(rl.limited("k", start + 59)) << t0;
    EXPECT_FALSE(rl.limited("k", start + 60)) << t0;
    EXPECT_EQ(rl.window_count("k", start + 89), 1u) << t0;
  }
}

TEST(RateLimiter, TheLeastRecentlySeenKeyIsEvicted) {
  RateLimiter rl = limiter(60, 100, 3);
  rl.count("a", 1000);
  rl.count("b", 1001);
  rl.count("c", 1002);
  rl.count("a", 1003);  // now b is the least recently seen
  rl.count("d", 1004);
  EXPECT_EQ(rl.tracked_keys(), 3u);
  EXPECT_EQ(rl.window_count("b", 1004), 0u);
  EXPECT_EQ(rl.window_count("a", 1004), 2u);
  EXPECT_EQ(rl.window_count("c", 1004), 1u);
  EXPECT_EQ(rl.window_count("d", 1004), 1u);
  // Querying does not count as seeing: c is next, though just queried.
  rl.count("a", 1005);
  rl.count("d", 1005);
  rl.count("e", 1005);
  EXPECT_EQ(rl.window_count("c", 1005), 0u);
  EXPECT_EQ(rl.window_count("a", 1005), 3u);
}

TEST(RateLimiter, EvictionDropsTheLimitedState) {
  RateLimiter rl = limiter(60, 10, 2);
  for (int i = 0; i < 11; ++i) rl.count("noisy", 1000);
  EXPECT_EQ(rl.limited_keys(1000), std::vector<std::string>{"noisy"});
  rl.count("quiet-1", 1001);
  rl.count("quiet-2", 1002);
  EXPECT_FALSE(rl.limited("noisy", 1002));
  EXPECT_TRUE(rl.limited_keys(1002).empty());
  EXPECT_FALSE(rl.count("noisy", 1003));  // back as a new key with one request
}

TEST(RateLimiter, LimitedKeysListsExactlyTheKeysOverTheLimit) {
  RateLimiter rl = limiter(60, 10);
  const int64_t t0 = kSubWindowStart;
  for (int i = 0; i < 11; ++i) rl.count("early", t0);
  for (int i = 0; i < 30; ++i) rl.count("late", t0 + 30);
  for (int i = 0; i < 10; ++i) rl.count("at-limit", t0 + 30);
  rl.count("single", t0 + 30);
  EXPECT_EQ(sorted(rl.limited_keys(t0 + 30)), (std::vector<std::string>{"early", "late"}));
  // "early" slid out; "late" did not (its 30 leave within a sub-window of t0 + 90).
  EXPECT_EQ(rl.limited_keys(t0 + 60), std::vector<std::string>{"late"});
  EXPECT_TRUE(rl.limited_keys(t0 + 96).empty());
  // A key limited again is listed again.
  for (int i = 0; i < 11; ++i) rl.count("early", t0 + 100);
  EXPECT_EQ(rl.limited_keys(t0 + 100), std::vector<std::string>{"early"});
}

TEST(RateLimiter, AtMostTenThousandKeysAreListedButAllAreLimited) {
  RateLimiter rl = limiter(60, 10, 20'000);
  const int64_t t0 = kSubWindowStart;
  for (int k = 0; k <= 10'000; ++k) {
    std::string key = "10.0." + std::to_string(k);
    for (int i = 0; i < 11; ++i) rl.count(key, t0);
  }
  EXPECT_EQ(rl.limited_keys(t0).size(), 10'000u);
  for (int k = 0; k <= 10'000; k += 1000) EXPECT_TRUE(rl.limited("10.0." + std::to_string(k), t0));
  // Once those went quiet and slid out, a newly limited key gets a place in the listing.
  for (int i = 0; i < 11; ++i) rl.count("late", t0 + 70);
  EXPECT_EQ(rl.limited_keys(t0 + 70), std::vector<std::string>{"late"});
}

TEST(RateLimiter, ConcurrentCountsAreAllCounted) {
  RateLimiter rl = limiter(60, 1'000'000'000, 100'000);
  constexpr int kThreads = 4, kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&rl, t] {
      std::string own = "own-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        rl.count("shared", 1000);
        rl.count(own, 1000);
        if (i % 1000 == 0) rl.count("passing-" + std::to_string(t) + "-" + std::to_string(i), 1000);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(rl.window_count("shared", 1000), uint64_t(kThreads) * kPerThread);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(rl.window_count("own-" + std::to_string(t), 1000), uint64_t(kPerThread));
  EXPECT_EQ(rl.tracked_keys(), size_t(1 + kThreads + kThreads * kPerThread / 1000));
}

TEST(RateLimiter, TracksAtMostMaxKeys) {
  RateLimiter rl = limiter(60, 10, 50'000);
  for (int k = 0; k < 200'000; ++k) rl.count(std::to_string(k), 1000 + k / 10'000);
  EXPECT_EQ(rl.tracked_keys(), 50'000u);
  // The most recent keys survive: evicting oldest first, per shard of about 1,500 keys.
  int recent_kept = 0;
  for (int k = 199'000; k < 200'000; ++k)
    recent_kept += rl.window_count(std::to_string(k), 1019) == 1;
  EXPECT_EQ(recent_kept, 1000);
  EXPECT_LE(RateLimiter::bytes_per_key(), 64u);
}

}  // namespace
}  // namespace eg::waf
