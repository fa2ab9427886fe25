// What outlives one compiled ACL: IP sets (their addresses can change through the admin API
// and expire one by one) and rate-based counters (kept across a reload while the rule's
// settings stay the same, as AWS resets counts only when settings change).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "waf/ip_set.h"
#include "waf/rate_limiter.h"

namespace eg::waf {

struct IpSetEntry {
  std::string text;  // as given ("192.0.2.0/24")
  IpPrefix prefix;
  int64_t expires_ms = 0;  // 0: permanent; else removed at this wall-clock time
};

class IpSetHandle {
 public:
  std::string name, id, arn, description;
  bool v6 = false;
  std::string source_file;  // where admin changes are written back ("" = not persisted)
  bool envelope = false;    // the file is `get-ip-set` output ({"IPSet":..., "LockToken":...})

  // Lock-free for the request path: the matcher is swapped atomically on change.
  bool contains(const IpAddress& a) const {
    return matcher_.load(std::memory_order_acquire)->contains(a);
  }

  std::vector<IpSetEntry> entries() const;
  std::string canonical() const;  // the addresses and expiries, sorted: equal sets compare equal
  std::string lock_token() const;
  // Replaces the addresses (all or nothing). Fails with a reason ("192.0.2.1/33: ..."),
  // or "stale" when lock_token is given and is not the current one.
  enum class UpdateStatus : uint8_t { Ok, Invalid, Stale };
  UpdateStatus update(const std::vector<IpSetEntry>& entries, const std::string* lock_token,
                      const std::string* description, std::string& error);
  // Adds or removes single addresses (the admin API's temporary blocks).
  bool add(std::string_view cidr, int64_t expires_ms, std::string& error);
  bool remove(std::string_view cidr);
  // Drops expired entries; returns whether anything changed.
  bool expire(int64_t now_ms);

  IpSetHandle();
  ~IpSetHandle();

 private:
  void rebuild_locked();
  void persist_locked() const;
  mutable std::mutex mu_;
  std::vector<IpSetEntry> entries_;
  std::string lock_token_;
  std::atomic<const IpSetMatcher*> matcher_;
  // Old matchers live until the handle dies: a request may still be reading one. Updates
  // are rare (admin calls), so this is a few kilobytes at most over a process's life.
  std::vector<std::unique_ptr<IpSetMatcher>> matchers_;
};

class WafState {
 public:
  // An IP set as the loader read it. If a set with the same ARN was loaded before with the
  // same addresses, the existing handle (and its lock token) is kept.
  std::shared_ptr<IpSetHandle> adopt_ip_set(std::shared_ptr<IpSetHandle> loaded);
  std::shared_ptr<IpSetHandle> find_ip_set(std::string_view name_id_or_arn) const;
  std::vector<std::shared_ptr<IpSetHandle>> ip_sets() const;

  std::shared_ptr<RateLimiter> rate_limiter(const std::string& key, const RateLimiterOptions& o);

  // Expiry of temporary addresses; called about once a second.
  void tick(int64_t now_ms);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<IpSetHandle>> ip_sets_;  // by ARN
  std::map<std::string, std::weak_ptr<RateLimiter>> limiters_;
};

}  // namespace eg::waf
