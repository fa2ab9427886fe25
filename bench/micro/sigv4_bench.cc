// SigV4 cost per request (issue 5 goal: signing a small GET <= 5 us on one core).
// The signing key is cached per (secret, date, region, service), as in the gateway, so these
// measure the per-request work: canonical request, two SHA-256s and one HMAC.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"
#include "proxy/origin_signing.h"

// Every allocation of the process is counted, so each benchmark can report how many one
// iteration makes (the signing path should make none but the headers it adds).
namespace {
std::atomic<uint64_t> allocations{0};
}
void* operator new(size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

// Allocations per iteration, as a counter in the benchmark's output line.
class CountAllocations {
 public:
  explicit CountAllocations(benchmark::State& state)
      : state_(state), start_(allocations.load(std::memory_order_relaxed)) {}
  ~CountAllocations() {
    state_.counters["allocs"] =
        benchmark::Counter(double(allocations.load(std::memory_order_relaxed) - start_),
                           benchmark::Counter::kAvgIterations);
  }

 private:
  benchmark::State& state_;
  uint64_t start_;
};

using namespace eg::aws;
using namespace eg::aws::sigv4;

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};

// What an origin request through the gateway typically carries.
const std::vector<HeaderField> kGetHeaders{
    {"Host", "abcdefghij.lambda-url.eu-west-1.on.aws"},
    {"Accept", "application/json"},
    {"Accept-Encoding", "gzip, br"},
    {"X-Forwarded-For", "203.0.113.7"},
    {"Via", "1.1 edgeguard"},
};

void BM_SignSmallGet(benchmark::State& state) {
  RequestView req{"GET", "/api/items/42", "limit=10&page=2", kGetHeaders, Payload::body("")};
  SigningParams params = params_for("lambda", "eu-west-1", std::chrono::system_clock::now());
  SigningOutput out;
  sign_request(req, kCreds, params, out);  // warm: the key cache and the reused buffers
  CountAllocations count(state);
  for (auto _ : state) {
    bool ok = sign_request(req, kCreds, params, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.authorization.data());
  }
}
BENCHMARK(BM_SignSmallGet);

// The gateway's whole signing step for the origin request of bench/origin_auth.sh: viewer
// signing headers out, Host set, the signature headers added.
void BM_SignOriginRequest(benchmark::State& state) {
  eg::config::Origin origin;
  origin.name = "origin";
  origin.host = "abcdefghij.lambda-url.eu-west-1.on.aws";
  origin.port = 443;
  origin.https = true;
  origin.sigv4.emplace();
  origin.sigv4->service = "lambda";
  origin.sigv4->region = "eu-west-1";
  eg::http::Headers base;
  base.add("Host", "gateway.example.com");
  base.add("X-Forwarded-For", "203.0.113.7");
  base.add("Via", "1.1 edge (edgeguard)");
  base.add("X-Amz-Cf-Id", "Ad5ZBq2yGNFfr9mE7Xhn0S4vCk3u8PjOiTlWzRYgQbHaLe1cDx6w==");
  base.add("X-Origin-Verify", "s3cr3t");
  eg::http::Headers headers = base;
  headers.list().reserve(base.size() + 6);  // as the pipeline builds it
  auto sign = [&] {
    auto e = eg::proxy::sign_origin_request(origin, kCreds, "GET", "/", "", headers);
    benchmark::DoNotOptimize(e.status);
    // Back to the request as it came (without allocating): the signature headers were added
    // at the end, Host replaced in place.
    headers.list().resize(base.size());
    headers.list()[0].value.assign(base.list()[0].value);
  };
  sign();
  CountAllocations count(state);
  for (auto _ : state) sign();
}
BENCHMARK(BM_SignOriginRequest);

void BM_SignPost1KiB(benchmark::State& state) {
  std::string body(1024, 'x');
  std::vector<HeaderField> headers = kGetHeaders;
  headers.push_back({"Content-Type", "application/json"});
  headers.push_back({"Content-Length", "1024"});
  RequestView req{"POST", "/api/items", "", headers, Payload::body(body)};
  SigningParams params = params_for("lambda", "eu-west-1", std::chrono::system_clock::now());
  SigningOutput out;
  for (auto _ : state) {
    bool ok = sign_request(req, kCreds, params, out);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(body.size()));
}
BENCHMARK(BM_SignPost1KiB);

void BM_VerifySmallGet(benchmark::State& state) {
  auto now = std::chrono::system_clock::now();
  RequestView req{"GET", "/api/items/42", "limit=10&page=2", kGetHeaders, Payload::body("")};
  SigningOutput out;
  sign_request(req, kCreds, params_for("lambda", "eu-west-1", now), out);
  std::vector<HeaderField> headers = kGetHeaders;
  std::array<HeaderField, 4> set;
  size_t n = out.headers(set);
  headers.insert(headers.end(), set.begin(), set.begin() + n);
  RequestView signed_req{"GET", "/api/items/42", "limit=10&page=2", headers, Payload::body("")};
  VerifierOptions opts;
  opts.service = "lambda";
  opts.region = "eu-west-1";
  Verifier verifier({AccessKey{kCreds.access_key_id, kCreds.secret_access_key, "", {}, {}}}, opts);
  for (auto _ : state) {
    auto r = verifier.verify(signed_req, now);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifySmallGet);

}  // namespace

BENCHMARK_MAIN();
