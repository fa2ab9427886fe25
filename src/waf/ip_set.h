// A set of IPv4 and IPv6 prefixes answering "does it contain this address" fast: the
// IPSetReferenceStatement's matcher. Built once per ACL snapshot (or per admin update), then
// read-only and shared by every worker. Goal: >= 20 million lookups/s on one core with
// 100,000 mixed prefixes (bench/micro/ip_set_bench.cc).
#pragma once
#include <memory>
#include <span>

#include "waf/ip_address.h"

namespace eg::waf {

class IpSetMatcher {
 public:
  IpSetMatcher();  // empty: contains nothing
  explicit IpSetMatcher(std::span<const IpPrefix> prefixes);
  ~IpSetMatcher();
  IpSetMatcher(IpSetMatcher&&) noexcept;
  IpSetMatcher& operator=(IpSetMatcher&&) noexcept;

  bool contains(const IpAddress& a) const;
  size_t size() const;          // prefixes given (after duplicates are merged)
  size_t memory_bytes() const;  // for /stats and the benchmark

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::waf
