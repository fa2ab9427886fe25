// Acl::evaluate on the typical 20-rule ACL of bench/waf.sh (every rule passes, the default
// action answers): the web ACL's own cost per request, without the proxy around it.
#include <benchmark/benchmark.h>

#include <chrono>

#include "waf/acl.h"
#include "waf/state.h"

namespace {

std::shared_ptr<const eg::waf::Acl> typical_acl() {
  static std::shared_ptr<const eg::waf::Acl> acl = [] {
    eg::waf::AclInput in;
    std::string dir = EG_SOURCE_DIR "/bench/waf/", error;
    eg::waf::read_document(dir + "typical-acl.json", in.web_acl, error);
    for (const char* f : {"allow-v4.json", "allow-v6.json", "deny-v4.json", "deny-v6.json"}) {
      eg::waf::Document d;
      eg::waf::read_document(dir + f, d, error);
      in.ip_sets.push_back(std::move(d));
    }
    in.challenge_key = std::string(32, 'k');
    auto loaded = eg::waf::load_acl(in, std::make_shared<eg::waf::WafState>());
    if (!loaded.acl) {
      fprintf(stderr, "%s\n", loaded.error.c_str());
      std::abort();
    }
    return loaded.acl;
  }();
  return acl;
}

void BM_EvaluateTypicalRequest(benchmark::State& state) {
  auto acl = typical_acl();
  eg::http::Headers headers;
  headers.add("Host", "127.0.0.1:9022");
  headers.add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) bench");
  headers.add("Accept", "text/html");
  auto ip = *eg::waf::parse_ip("127.0.0.1");
  int64_t now = 1'800'000'000'000;
  for (auto _ : state) {
    eg::waf::Request r{
        ip, "GET", "/api/v1/items", "id=42&sort=name", headers, {}, {}, {}, "bench", false, now};
    auto v = acl->evaluate(r);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_EvaluateTypicalRequest);

}  // namespace

BENCHMARK_MAIN();
