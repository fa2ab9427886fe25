// Gateway metrics. Each worker owns a shard it alone writes (one uncontended lock per
// request); /stats merges the shards and renders Prometheus text.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace eg::proxy {

struct Histogram {
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<uint64_t, kBounds.size() + 1> buckets{};  // last: +Inf
  double sum = 0;
  uint64_t count = 0;
  void observe(double seconds);
  void merge(const Histogram& o);
};

struct RequestSample {
  std::string_view behavior;
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

// (behavior, status) counted without building a std::string per request.
struct RequestKey {
  std::string behavior;
  int status;
};
struct RequestKeyLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::tie(a.behavior, a.status) < std::tie(b.behavior, b.status);
  }
};
struct RequestKeyView {
  std::string_view behavior;
  int status;
};

class MetricsShard {
 public:
  void record_request(const RequestSample& s);
  void record_origin(const std::string& origin, double seconds);
  void record_origin_error(const std::string& origin, std::string_view cause);
  void record_parse_error(int status);
  void record_shield_refusal(std::string_view behavior, std::string_view reason);
  void record_signing_failure(const std::string& origin, std::string_view cause);

  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> pool_idle{0};
  std::atomic<int64_t> pool_in_use{0};

 private:
  friend class Metrics;
  std::mutex mu_;
  std::map<RequestKey, uint64_t, RequestKeyLess> requests_;
  std::map<std::string, Histogram> origin_latency_;
  std::map<std::pair<std::string, std::string>, uint64_t> origin_errors_;
  std::map<int, uint64_t> parse_errors_;
  std::map<std::pair<std::string, std::string>, uint64_t> shield_refusals_;
  std::map<std::pair<std::string, std::string>, uint64_t> signing_failures_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

class Metrics {
 public:
  MetricsShard& new_shard();
  std::atomic<uint64_t> config_generation{0};
  std::atomic<uint64_t> waf_failures{0};  // web ACL evaluations that failed (on_error applied)
  std::atomic<uint64_t> reloads_ok{0};
  std::atomic<uint64_t> reloads_failed{0};
  std::string render_prometheus();

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<MetricsShard>> shards_;
};

}  // namespace eg::proxy
