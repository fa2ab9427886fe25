#include "waf/rate_limiter.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <span>
#include <thread>
#include <unordered_map>

// The design, its precision and its memory figures: docs/waf/rate-based.md.

namespace eg::waf {

namespace {

constexpr unsigned kSubWindows = 10;            // the window is 10 sub-windows of W/10 s
constexpr unsigned kBuckets = kSubWindows + 1;  // + the one sliding out, interpolated
constexpr uint16_t kNil = 0xFFFF;               // "no entry" in the 16-bit links
constexpr size_t kMaxShardKeys = kNil;          // entry indices 0..65534
constexpr size_t kMaxListedKeys = 10'000;       // limited keys kept as bytes, as AWS
constexpr size_t kKeysPerShardForLru = 1024;    // below this, fewer shards (shard_count_for)
constexpr size_t kMaxShards = 64;               // enough to spread the gateway's workers
constexpr size_t kMaxPreciseKeys = 10'000;      // keys near the limit counted per second
constexpr uint32_t kListedBit = 1u << 31;       // the key's bytes are in Impl::listed
constexpr uint32_t kPreciseBit = 1u << 30;      // the key has a Shard::precise record
constexpr uint32_t kFlags = kListedBit | kPreciseBit;
constexpr uint32_t kEpochMask = kPreciseBit - 1;  // the newest bucket's epoch, modulo 2^30
constexpr int64_t kEpochModulus = int64_t(kEpochMask) + 1;

// One tracked key: exactly one cache line, the whole per-key cost. The hash table's slot heads
// live in the entries too (slot i's head in entries[i]), so the table costs no memory of its
// own: slots and entries are equally many.
struct alignas(64) Entry {
  uint64_t fingerprint;       // SipHash of the key bytes; the bytes themselves are not kept
  uint32_t epoch_and_flags;   // kListedBit | kPreciseBit | newest bucket's epoch (mod 2^30)
  uint16_t lru_newer;         // towards the most recently seen
  uint16_t lru_older;         // towards the least recently seen, the next evicted
  uint16_t chain_next;        // the next entry in the same hash slot
  uint16_t slot_head;         // the first entry of hash slot <this entry's index>
  uint32_t counts[kBuckets];  // requests per sub-window epoch, at index epoch % kBuckets
};
static_assert(sizeof(Entry) == 64, "one cache line per tracked key");

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }
size_t bucket_of(int64_t epoch) { return size_t(epoch - floor_div(epoch, kBuckets) * kBuckets); }
size_t next_bucket(size_t b) { return b == kBuckets - 1 ? 0 : b + 1; }
size_t previous_bucket(size_t b) { return b == 0 ? kBuckets - 1 : b - 1; }

// A test-and-test-and-set lock: the critical sections are a few dozen nanoseconds, less than
// a futex round trip. Yields after a short spin in case the holder was preempted.
class SpinLock {
 public:
  void lock() {
    unsigned spins = 0;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 128)
          cpu_relax();
        else
          std::this_thread::yield();
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  std::atomic<bool> locked_{false};
};

// Keyed, so nobody can choose keys whose fingerprints collide (one client's requests counted
// against another's key) or that pile into one hash chain. SipHash-1-3, as Rust's HashMap.
class KeyHasher {
 public:
  KeyHasher() {
    std::random_device random;
    for (uint64_t& k : key_) k = uint64_t(random()) << 32 | random();
  }

  uint64_t operator()(std::string_view m) const {
    uint64_t v0 = 0x736f6d6570736575ull ^ key_[0], v1 = 0x646f72616e646f6dull ^ key_[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ key_[0], v3 = 0x7465646279746573ull ^ key_[1];
    auto round = [&] {
      v0 += v1, v1 = std::rotl(v1, 13), v1 ^= v0, v0 = std::rotl(v0, 32);
      v2 += v3, v3 = std::rotl(v3, 16), v3 ^= v2;
      v0 += v3, v3 = std::rotl(v3, 21), v3 ^= v0;
      v2 += v1, v1 = std::rotl(v1, 17), v1 ^= v2, v2 = std::rotl(v2, 32);
    };
    const char* p = m.data();
    const char* const whole_words_end = p + (m.size() & ~size_t(7));
    for (; p != whole_words_end; p += 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      v3 ^= word;
      round();
      v0 ^= word;
    }
    const uint64_t last = uint64_t(m.size()) << 56 | load_le(p, m.size() & 7);
    v3 ^= last;
    round();
    v0 ^= last;
    v2 ^= 0xff;
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
  }

 private:
  static uint64_t load_le(const char* p, size_t n) {  // n < 8
    uint64_t word = 0;
    for (size_t i = 0; i < n; ++i) word |= uint64_t(uint8_t(p[i])) << (8 * i);
    return word;
  }
  uint64_t key_[2];
};

// Every shard's entries in one block, allocated and initialised when the limiter is built (no
// allocation on the request path). A count touches two random entries (its slot's head and
// its own); over a large block each would also be a TLB miss on 4 KiB pages, so blocks of
// 2 MiB or more ask for transparent huge pages.
class EntryBlock {
 public:
  explicit EntryBlock(size_t count) : count_(count) {
    constexpr size_t kHugePage = 2 << 20;
    const size_t align = count * sizeof(Entry) >= kHugePage ? kHugePage : alignof(Entry);
    const size_t bytes = (count * sizeof(Entry) + align - 1) / align * align;
    data_ = static_cast<Entry*>(std::aligned_alloc(align, bytes));
    if (!data_) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (align == kHugePage) madvise(data_, bytes, MADV_HUGEPAGE);
#endif
    std::uninitialized_fill_n(data_, count, Entry{0, 0, kNil, kNil, kNil, kNil, {}});
  }
  ~EntryBlock() { std::free(data_); }
  EntryBlock(const EntryBlock&) = delete;
  EntryBlock& operator=(const EntryBlock&) = delete;

  std::span<Entry> slice(size_t first, size_t count) { return {data_ + first, count}; }
  size_t size() const { return count_; }

 private:
  Entry* data_;
  size_t count_;
};

// A key near or over the limit, counted per second so that it is limited and released on the
// exact second (docs/waf/rate-based.md, "Precision"). The requests counted before the record
// began are kept by sub-window, as the entry had them.
struct PreciseCounts {
  int64_t start = 0;         // the first second counted per second
  int64_t before_epoch = 0;  // the epoch of before[bucket_of(before_epoch)], start's epoch
  uint32_t before[kBuckets] = {};
  std::deque<std::pair<int64_t, uint32_t>> seconds;  // (second, requests), oldest first
  uint64_t total = 0;                                // the sum of `seconds`

  void add(int64_t second) {
    ++total;
    if (!seconds.empty() && seconds.back().first >= second) {
      // A worker whose clock trails by a second counts into the newest second it can.
      seconds.back().second += seconds.back().second != UINT32_MAX;
    } else {
      seconds.emplace_back(second, 1);
    }
  }
  void forget_before(int64_t first_second_in_window) {
    while (!seconds.empty() && seconds.front().first < first_second_in_window) {
      total -= seconds.front().second;
      seconds.pop_front();
    }
  }
  // The requests of the seconds in the window: all but those of the oldest seconds not yet
  // forgotten (few: count() forgets them as it goes).
  uint64_t in_window(int64_t first_second_in_window) const {
    uint64_t n = total;
    for (auto it = seconds.begin(); it != seconds.end() && it->first < first_second_in_window; ++it)
      n -= it->second;
    return n;
  }
};

// Where a time falls: its sub-window epoch and how many seconds of that epoch have begun
// (1 in its first second, the sub-window length in its last).
struct Instant {
  int64_t epoch;
  int64_t seconds_begun;
};

}  // namespace

struct RateLimiter::Impl {
  struct alignas(64) Shard {
    SpinLock lock;
    std::span<Entry> entries;  // this shard's part of the EntryBlock
    uint32_t used = 0;
    uint16_t newest = kNil;
    uint16_t oldest = kNil;
    std::unordered_map<uint64_t, PreciseCounts> precise;  // by fingerprint

    uint16_t& slot_head(uint64_t fingerprint) {
      return entries[(uint64_t(uint32_t(fingerprint)) * entries.size()) >> 32].slot_head;
    }
    uint16_t find(uint64_t fingerprint) {
      uint16_t i = slot_head(fingerprint);
      while (i != kNil && entries[i].fingerprint != fingerprint) i = entries[i].chain_next;
      return i;
    }
    void lru_unlink(uint16_t i) {
      Entry& e = entries[i];
      (e.lru_newer == kNil ? newest : entries[e.lru_newer].lru_older) = e.lru_older;
      (e.lru_older == kNil ? oldest : entries[e.lru_older].lru_newer) = e.lru_newer;
    }
    void lru_push_newest(uint16_t i) {
      Entry& e = entries[i];
      e.lru_newer = kNil;
      e.lru_older = newest;
      (newest == kNil ? oldest : entries[newest].lru_newer) = i;
      newest = i;
    }
    void chain_unlink(uint16_t i) {
      uint16_t* link = &slot_head(entries[i].fingerprint);
      while (*link != i) link = &entries[*link].chain_next;
      *link = entries[i].chain_next;
    }
  };

  explicit Impl(const RateLimiterOptions& o)
      : options(o),
        shard_count(shard_count_for(o.max_keys)),
        block(std::max<size_t>(1, o.max_keys)) {
    // Windows other than AWS's four are rounded up to whole sub-windows of a second or more.
    sub_window = std::max<int64_t>(1, (int64_t(o.window_seconds) + kSubWindows - 1) / kSubWindows);
    // A shard holds max_keys / shard_count keys; a shard count that does not divide
    // max_keys hands the remainder to the first shards, one each.
    shards = std::make_unique<Shard[]>(shard_count);
    const size_t keys = block.size();
    for (size_t i = 0, first = 0; i < shard_count; ++i) {
      const size_t count = keys / shard_count + (i < keys % shard_count);
      shards[i].entries = block.slice(first, count);
      first += count;
    }
  }

  // One shard while that keeps eviction exactly least-recently-seen for small limiters; up to
  // 64 for the gateway's workers, each with 1,024 keys or more so that evicting per shard is
  // close to evicting the least recently seen overall; more when 16-bit links require it.
  static size_t shard_count_for(size_t max_keys) {
    max_keys = std::max<size_t>(1, max_keys);
    size_t n = 1;
    while (n < kMaxShards && max_keys / (n * 2) >= kKeysPerShardForLru) n *= 2;
    while ((max_keys + n - 1) / n > kMaxShardKeys) n *= 2;
    return n;
  }

  Shard& shard_for(uint64_t fingerprint) const {
    return shards[((fingerprint >> 32) * shard_count) >> 32];
  }

  Instant instant(int64_t now_seconds) const {
    const int64_t epoch = floor_div(now_seconds, sub_window);
    return {epoch, now_seconds - epoch * sub_window + 1};
  }

  // The full epoch of an entry's newest bucket, rebuilt from its low 31 bits and `near`, an
  // epoch within 2^30 of it (the caller's now; 2^30 sub-windows is over 190 years).
  static int64_t newest_epoch(const Entry& e, int64_t near) {
    int64_t behind = (near - int64_t(e.epoch_and_flags & kEpochMask)) & (kEpochModulus - 1);
    if (behind >= kEpochModulus / 2) behind -= kEpochModulus;
    return near - behind;
  }

  // Moves the entry's newest bucket up to `epoch`, zeroing the buckets it reuses, and counts
  // one request. A caller whose clock trails the newest bucket (another worker read the clock a
  // moment later and counted first) counts into its own epoch's bucket if that is still kept.
  static void add_request(Entry& e, int64_t epoch) {
    const int64_t newest = newest_epoch(e, epoch);
    int64_t target = epoch;
    if (epoch > newest) {
      if (epoch - newest >= kBuckets) {
        std::memset(e.counts, 0, sizeof e.counts);
      } else {
        size_t b = bucket_of(newest);
        for (int64_t gone = newest + 1; gone <= epoch; ++gone) e.counts[b = next_bucket(b)] = 0;
      }
      e.epoch_and_flags = (e.epoch_and_flags & kFlags) | (uint32_t(epoch) & kEpochMask);
    } else {
      target = std::max(epoch, newest - int64_t(kSubWindows));
    }
    uint32_t& count = e.counts[bucket_of(target)];
    count += count != UINT32_MAX;
  }

  // Requests in the trailing window (now - W, now]: the ten newest sub-windows' counts in
  // full, the eleventh by the share of its seconds still inside the window, as if its
  // requests were spread evenly over it.
  uint64_t window_count(const Entry& e, Instant now) const {
    const int64_t newest = newest_epoch(e, now.epoch);
    if (now.epoch < newest) now = {newest, 1};  // a trailing clock: judge from the newest's start
    // Epochs after the newest bucket have no requests; the buckets older than the window's
    // eleventh epoch are out of it.
    const int64_t idle = now.epoch - newest;
    if (idle >= kBuckets) return 0;
    uint64_t full = 0;
    size_t b = bucket_of(newest);
    for (int64_t age = idle; age < kSubWindows; ++age, b = previous_bucket(b)) full += e.counts[b];
    // in requests x sub-window seconds, so the interpolation stays exact until the one division
    const uint64_t scaled = full * uint64_t(sub_window) +
                            uint64_t(e.counts[b]) * uint64_t(sub_window - now.seconds_begun);
    return scaled / uint64_t(sub_window);
  }

  // Requests in (now - W, now] for a key counted per second: the seconds in full, and the
  // requests from before the record by the entry's rule, except those of the record's first
  // sub-window, which came at or before `start` and are taken to have come at `start` (a
  // burst; a key is then never released early).
  uint64_t window_count(const PreciseCounts& p, int64_t now_seconds) const {
    const int64_t first_in_window = now_seconds - int64_t(options.window_seconds) + 1;
    uint64_t total = p.in_window(first_in_window);
    if (p.start < first_in_window) return total;  // every earlier request is out too
    total += p.before[bucket_of(p.before_epoch)];
    const int64_t first_epoch_in_window = floor_div(first_in_window, sub_window);
    // in requests x sub-window seconds, divided once as in the entry's rule
    uint64_t scaled = 0;
    for (int64_t epoch = p.before_epoch - 1; epoch >= p.before_epoch - int64_t(kSubWindows);
         --epoch) {
      const uint32_t c = p.before[bucket_of(epoch)];
      if (epoch > first_epoch_in_window)
        scaled += uint64_t(c) * uint64_t(sub_window);
      else if (epoch == first_epoch_in_window)
        scaled += uint64_t(c) * uint64_t((epoch + 1) * sub_window - first_in_window);
    }
    return total + scaled / uint64_t(sub_window);
  }

  // A key starts being counted per second once its count passes an eighth of the limit, at its
  // first request of a sub-window (so nothing before the record is in the record's first
  // sub-window: steady traffic stays exact), or at half the limit whatever the time (a burst:
  // its earlier requests came at or before this second, and are taken to have come at it).
  // Keys far below the limit, nearly all of them, cost their 64-byte entry only.
  // Judged after this request was counted into the entry (`count` includes it), so the
  // window is summed once per request.
  bool wants_precise(const Entry& e, Instant now, uint64_t count) const {
    if (precise_count.load(std::memory_order_relaxed) >= kMaxPreciseKeys) {
      sweep_precise_pending.store(true, std::memory_order_relaxed);
      return false;
    }
    const uint64_t before = count > 0 ? count - 1 : 0;
    if (before >= options.limit / 2) return true;
    const bool first_of_sub_window =
        newest_epoch(e, now.epoch) == now.epoch && e.counts[bucket_of(now.epoch)] == 1;
    return before >= options.limit / 8 && first_of_sub_window;
  }
  void start_precise(Shard& s, Entry& e, Instant now, int64_t now_seconds) {
    PreciseCounts p;
    p.start = now_seconds;
    p.before_epoch = now.epoch;
    const int64_t newest = newest_epoch(e, now.epoch);
    if (newest > now.epoch - int64_t(kBuckets))
      for (int64_t epoch = std::min(newest, now.epoch); epoch > now.epoch - int64_t(kBuckets);
           --epoch)
        p.before[bucket_of(epoch)] = e.counts[bucket_of(epoch)];
    // The request being counted begins the record instead of the entry's counts.
    if (uint32_t& current = p.before[bucket_of(now.epoch)]; current > 0) --current;
    p.add(now_seconds);
    s.precise.insert_or_assign(e.fingerprint, std::move(p));
    e.epoch_and_flags |= kPreciseBit;
    precise_count.fetch_add(1, std::memory_order_relaxed);
  }
  void stop_precise(Shard& s, Entry& e) {
    s.precise.erase(e.fingerprint);
    e.epoch_and_flags &= ~kPreciseBit;
    precise_count.fetch_sub(1, std::memory_order_relaxed);
  }

  // Takes an entry for a new key: a never used one, or the shard's least recently seen.
  uint16_t insert(Shard& s, uint64_t fingerprint, int64_t epoch) {
    uint16_t i;
    if (s.used < s.entries.size()) {
      i = uint16_t(s.used++);
    } else {
      i = s.oldest;
      if (s.entries[i].epoch_and_flags & kListedBit) unlist(s.entries[i]);
      if (s.entries[i].epoch_and_flags & kPreciseBit) stop_precise(s, s.entries[i]);
      s.lru_unlink(i);
      s.chain_unlink(i);
    }
    Entry& e = s.entries[i];
    e.fingerprint = fingerprint;
    e.epoch_and_flags = uint32_t(epoch) & kEpochMask;
    std::memset(e.counts, 0, sizeof e.counts);
    uint16_t& head = s.slot_head(fingerprint);
    e.chain_next = head;
    head = i;
    s.lru_push_newest(i);
    return i;
  }

  // The listing, taken under the entry's shard lock (shard, then listed_mutex, always).
  bool list(Entry& e, std::string_view key) {
    if (listed_count.load(std::memory_order_relaxed) >= kMaxListedKeys) return false;
    std::lock_guard guard(listed_mutex);
    if (listed.size() >= kMaxListedKeys) return false;
    listed.insert_or_assign(e.fingerprint, std::string(key));
    listed_count.store(listed.size(), std::memory_order_relaxed);
    e.epoch_and_flags |= kListedBit;
    return true;
  }
  void unlist(Entry& e) {
    std::lock_guard guard(listed_mutex);
    listed.erase(e.fingerprint);
    listed_count.store(listed.size(), std::memory_order_relaxed);
    e.epoch_and_flags &= ~kListedBit;
  }

  // Lists the listed keys still over the limit at `now` (into `out` when given) and unlists
  // the others, making room for keys that went over the limit while the listing was full.
  void sweep_listed(int64_t now_seconds, std::vector<std::string>* out) {
    std::vector<std::pair<uint64_t, std::string>> snapshot;
    {
      std::lock_guard guard(listed_mutex);
      snapshot.assign(listed.begin(), listed.end());
    }
    const Instant now = instant(now_seconds);
    for (auto& [fingerprint, key] : snapshot) {
      Shard& s = shard_for(fingerprint);
      std::lock_guard guard(s.lock);
      const uint16_t i = s.find(fingerprint);
      if (i == kNil) {
        // Eviction unlists, so this is only a belt to those braces; erasing is safe because
        // listing a fingerprint takes its shard's lock, held here.
        std::lock_guard listed_guard(listed_mutex);
        listed.erase(fingerprint);
        listed_count.store(listed.size(), std::memory_order_relaxed);
        continue;
      }
      if (!(s.entries[i].epoch_and_flags & kListedBit)) continue;  // unlisted since the snapshot
      if (window_count(s, s.entries[i], now, now_seconds) > options.limit) {
        if (out) out->push_back(std::move(key));
      } else {
        unlist(s.entries[i]);
      }
    }
  }

  // Drops the per-second records of keys with no request left in the window, when the
  // records are all taken (keys that went quiet are not visited otherwise). Takes each
  // shard's lock in turn, so only once a second.
  void sweep_precise(int64_t now_seconds) {
    for (size_t k = 0; k < shard_count; ++k) {
      Shard& s = shards[k];
      std::lock_guard guard(s.lock);
      for (auto it = s.precise.begin(); it != s.precise.end();) {
        if (window_count(it->second, now_seconds) != 0) {
          ++it;
          continue;
        }
        Entry& e = s.entries[s.find(it->first)];
        e.epoch_and_flags &= ~kPreciseBit;
        it = s.precise.erase(it);
        precise_count.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }

  // The key's count by whichever rule applies to it; under the shard's lock.
  uint64_t window_count(Shard& s, const Entry& e, Instant now, int64_t now_seconds) const {
    if (e.epoch_and_flags & kPreciseBit)
      return window_count(s.precise.at(e.fingerprint), now_seconds);
    return window_count(e, now);
  }

  RateLimiterOptions options;
  int64_t sub_window;  // seconds
  KeyHasher hash;
  size_t shard_count;
  EntryBlock block;
  std::unique_ptr<Shard[]> shards;

  std::mutex listed_mutex;
  std::unordered_map<uint64_t, std::string> listed;  // fingerprint -> key bytes
  std::atomic<size_t> listed_count{0};               // listed.size(), read without the lock
  std::atomic<int64_t> last_sweep{INT64_MIN};        // a full listing is swept once a second
  std::atomic<size_t> precise_count{0};              // keys with a PreciseCounts record
  mutable std::atomic<bool> sweep_precise_pending{false};
  std::atomic<int64_t> last_precise_sweep{INT64_MIN};
};

RateLimiter::RateLimiter(const RateLimiterOptions& o) : impl_(std::make_unique<Impl>(o)) {}
RateLimiter::~RateLimiter() = default;

bool RateLimiter::count(std::string_view key, int64_t now_seconds) {
  Impl& im = *impl_;
  const uint64_t fingerprint = im.hash(key);
  const Instant now = im.instant(now_seconds);
  Impl::Shard& s = im.shard_for(fingerprint);
  bool over, listing_full = false;
  {
    std::lock_guard guard(s.lock);
    uint16_t i = s.find(fingerprint);
    if (i == kNil) {
      i = im.insert(s, fingerprint, now.epoch);
    } else if (i != s.newest) {
      s.lru_unlink(i);
      s.lru_push_newest(i);
    }
    Entry& e = s.entries[i];
    Impl::add_request(e, now.epoch);
    if (!(e.epoch_and_flags & kPreciseBit)) {
      const uint64_t n = im.window_count(e, now);
      over = n > im.options.limit;
      // At its start the record counts what the entry counts, so `over` stands.
      if (im.wants_precise(e, now, n)) im.start_precise(s, e, now, now_seconds);
    } else {
      PreciseCounts& p = s.precise.at(fingerprint);
      p.add(now_seconds);
      p.forget_before(now_seconds - int64_t(im.options.window_seconds) + 1);
      const uint64_t n = im.window_count(p, now_seconds);
      over = n > im.options.limit;
      // Back to the entry's rule once the key is well below where it began counting per
      // second by both rules (the entry's may still count a burst that is out by now).
      if (n * 16 < im.options.limit && im.window_count(e, now) * 8 < im.options.limit)
        im.stop_precise(s, e);
    }
    const bool is_listed = e.epoch_and_flags & kListedBit;
    if (over && !is_listed)
      listing_full = !im.list(e, key);
    else if (!over && is_listed)
      im.unlist(e);
  }
  if (im.sweep_precise_pending.load(std::memory_order_relaxed)) {
    int64_t last = im.last_precise_sweep.load(std::memory_order_relaxed);
    if (last < now_seconds && im.last_precise_sweep.compare_exchange_strong(last, now_seconds)) {
      im.sweep_precise_pending.store(false, std::memory_order_relaxed);
      im.sweep_precise(now_seconds);
    }
  }
  // Keys that went quiet while limited stay listed until swept; sweep when they crowd out a
  // key that is limited now, at most once a second (the sweep takes every listed key's lock).
  if (listing_full) {
    int64_t last = im.last_sweep.load(std::memory_order_relaxed);
    if (last < now_seconds && im.last_sweep.compare_exchange_strong(last, now_seconds)) {
      im.sweep_listed(now_seconds, nullptr);
      std::lock_guard guard(s.lock);
      const uint16_t i = s.find(fingerprint);
      if (i != kNil && !(s.entries[i].epoch_and_flags & kListedBit) &&
          im.window_count(s, s.entries[i], now, now_seconds) > im.options.limit)
        im.list(s.entries[i], key);
    }
  }
  return over;
}

uint64_t RateLimiter::window_count(std::string_view key, int64_t now_seconds) const {
  const Impl& im = *impl_;
  const uint64_t fingerprint = im.hash(key);
  Impl::Shard& s = im.shard_for(fingerprint);
  std::lock_guard guard(s.lock);
  const uint16_t i = s.find(fingerprint);
  return i == kNil ? 0 : im.window_count(s, s.entries[i], im.instant(now_seconds), now_seconds);
}

bool RateLimiter::limited(std::string_view key, int64_t now_seconds) const {
  return window_count(key, now_seconds) > impl_->options.limit;
}

std::vector<std::string> RateLimiter::limited_keys(int64_t now_seconds) const {
  std::vector<std::string> out;
  impl_->sweep_listed(now_seconds, &out);
  return out;
}

size_t RateLimiter::tracked_keys() const {
  size_t total = 0;
  for (size_t i = 0; i < impl_->shard_count; ++i) {
    Impl::Shard& s = impl_->shards[i];
    std::lock_guard guard(s.lock);
    total += s.used;
  }
  return total;
}

size_t RateLimiter::bytes_per_key() { return sizeof(Entry); }

size_t RateLimiter::precise_keys() const {
  return impl_->precise_count.load(std::memory_order_relaxed);
}

const RateLimiterOptions& RateLimiter::options() const { return impl_->options; }

}  // namespace eg::waf
