#include "proxy/metrics.h"

#include <fmt/format.h>

namespace eg::proxy {

void Histogram::observe(double s) {
  size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++buckets[i];
  sum += s;
  ++count;
}

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
  sum += o.sum;
  count += o.count;
}

void MetricsShard::record_request(const RequestSample& s) {
  std::lock_guard lk(mu_);
  auto it = requests_.find(RequestKeyView{s.behavior, s.status});
  if (it == requests_.end())
    it = requests_.emplace(RequestKey{std::string(s.behavior), s.status}, 0).first;
  ++it->second;
  bytes_in_ += s.bytes_in;
  bytes_out_ += s.bytes_out;
}

void MetricsShard::record_origin(const std::string& origin, double seconds) {
  std::lock_guard lk(mu_);
  origin_latency_[origin].observe(seconds);
}

void MetricsShard::record_origin_error(const std::string& origin, std::string_view cause) {
  std::lock_guard lk(mu_);
  ++origin_errors_[{origin, std::string(cause)}];
}

void MetricsShard::record_shield_refusal(std::string_view behavior, std::string_view reason) {
  std::lock_guard lk(mu_);
  ++shield_refusals_[{std::string(behavior), std::string(reason)}];
}

void MetricsShard::record_signing_failure(const std::string& origin, std::string_view cause) {
  std::lock_guard lk(mu_);
  ++signing_failures_[{origin, std::string(cause)}];
}

void MetricsShard::record_parse_error(int status) {
  std::lock_guard lk(mu_);
  ++parse_errors_[status];
}

MetricsShard& Metrics::new_shard() {
  std::lock_guard lk(mu_);
  shards_.push_back(std::make_unique<MetricsShard>());
  return *shards_.back();
}

namespace {
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

std::string Metrics::render_prometheus() {
  std::map<std::pair<std::string, int>, uint64_t> requests;
  std::map<std::string, Histogram> latency;
  std::map<std::pair<std::string, std::string>, uint64_t> errors;
  std::map<int, uint64_t> parse_errors;
  std::map<std::pair<std::string, std::string>, uint64_t> refusals, signing;
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t open = 0, idle = 0, in_use = 0;
  {
    std::lock_guard lk(mu_);
    for (auto& s : shards_) {
      std::lock_guard sl(s->mu_);
      for (auto& [k, v] : s->requests_) requests[{k.behavior, k.status}] += v;
      for (auto& [k, v] : s->origin_latency_) latency[k].merge(v);
      for (auto& [k, v] : s->origin_errors_) errors[k] += v;
      for (auto& [k, v] : s->parse_errors_) parse_errors[k] += v;
      for (auto& [k, v] : s->shield_refusals_) refusals[k] += v;
      for (auto& [k, v] : s->signing_failures_) signing[k] += v;
      bytes_in += s->bytes_in_;
      bytes_out += s->bytes_out_;
      open += s->open_connections.load();
      idle += s->pool_idle.load();
      in_use += s->pool_in_use.load();
    }
  }
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out,
                 "# HELP edgeguard_requests_total Requests answered, by behavior and status.\n"
                 "# TYPE edgeguard_requests_total counter\n");
  for (auto& [k, v] : requests)
    fmt::format_to(out, "edgeguard_requests_total{{behavior=\"{}\",status=\"{}\"}} {}\n",
                   label(k.first), k.second, v);
  fmt::format_to(out,
                 "# HELP edgeguard_bad_requests_total Requests refused by the HTTP parser.\n"
                 "# TYPE edgeguard_bad_requests_total counter\n");
  for (auto& [k, v] : parse_errors)
    fmt::format_to(out, "edgeguard_bad_requests_total{{status=\"{}\"}} {}\n", k, v);
  fmt::format_to(
      out,
      "# TYPE edgeguard_received_bytes_total counter\nedgeguard_received_bytes_total {}\n"
      "# TYPE edgeguard_sent_bytes_total counter\nedgeguard_sent_bytes_total {}\n",
      bytes_in, bytes_out);
  fmt::format_to(
      out,
      "# HELP edgeguard_origin_latency_seconds Time from origin request to response head.\n"
      "# TYPE edgeguard_origin_latency_seconds histogram\n");
  for (auto& [name, h] : latency) {
    uint64_t cum = 0;
    for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
      cum += h.buckets[i];
      fmt::format_to(out, "edgeguard_origin_latency_seconds_bucket{{origin=\"{}\",le=\"{}\"}} {}\n",
                     label(name), Histogram::kBounds[i], cum);
    }
    cum += h.buckets.back();
    fmt::format_to(out, "edgeguard_origin_latency_seconds_bucket{{origin=\"{}\",le=\"+Inf\"}} {}\n",
                   label(name), cum);
    fmt::format_to(out, "edgeguard_origin_latency_seconds_sum{{origin=\"{}\"}} {}\n", label(name),
                   h.sum);
    fmt::format_to(out, "edgeguard_origin_latency_seconds_count{{origin=\"{}\"}} {}\n", label(name),
                   h.count);
  }
  fmt::format_to(out, "# TYPE edgeguard_origin_errors_total counter\n");
  for (auto& [k, v] : errors)
    fmt::format_to(out, "edgeguard_origin_errors_total{{origin=\"{}\",cause=\"{}\"}} {}\n",
                   label(k.first), label(k.second), v);
  fmt::format_to(
      out,
      "# HELP edgeguard_shield_refusals_total Requests a shield refused, by behavior and reason.\n"
      "# TYPE edgeguard_shield_refusals_total counter\n");
  for (auto& [k, v] : refusals)
    fmt::format_to(out, "edgeguard_shield_refusals_total{{behavior=\"{}\",reason=\"{}\"}} {}\n",
                   label(k.first), label(k.second), v);
  fmt::format_to(out,
                 "# HELP edgeguard_origin_signing_failures_total Origin requests not sent: no "
                 "credentials, body too large.\n"
                 "# TYPE edgeguard_origin_signing_failures_total counter\n");
  for (auto& [k, v] : signing)
    fmt::format_to(out,
                   "edgeguard_origin_signing_failures_total{{origin=\"{}\",cause=\"{}\"}} {}\n",
                   label(k.first), label(k.second), v);
  fmt::format_to(out,
                 "# TYPE edgeguard_open_connections gauge\nedgeguard_open_connections {}\n"
                 "# TYPE edgeguard_origin_pool_connections gauge\n"
                 "edgeguard_origin_pool_connections{{state=\"idle\"}} {}\n"
                 "edgeguard_origin_pool_connections{{state=\"in_use\"}} {}\n"
                 "# TYPE edgeguard_config_generation gauge\nedgeguard_config_generation {}\n"
                 "# TYPE edgeguard_waf_failures_total counter\nedgeguard_waf_failures_total {}\n"
                 "# TYPE edgeguard_config_reloads_total counter\n"
                 "edgeguard_config_reloads_total{{result=\"ok\"}} {}\n"
                 "edgeguard_config_reloads_total{{result=\"failed\"}} {}\n",
                 open, idle, in_use, config_generation.load(), waf_failures.load(), reloads_ok.load(),
                 reloads_failed.load());
  return o;
}

}  // namespace eg::proxy
