// SigV4 cost per request (issue 5 goal: signing a small GET <= 5 us on one core).
// The signing key is cached per (secret, date, region, service), as in the gateway, so these
// measure the per-request work: canonical request, two SHA-256s and one HMAC.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"

namespace {

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
  for (auto _ : state) {
    bool ok = sign_request(req, kCreds, params, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.authorization.data());
  }
}
BENCHMARK(BM_SignSmallGet);

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
