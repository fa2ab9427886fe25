// The signer's fast paths against independent references: SHA-256 and HMAC-SHA256 (low-level
// SHA256_* calls, precomputed HMAC states) against OpenSSL's EVP and HMAC(); the per-second
// string-to-sign prefix against a plain HMAC of the string to sign; the canonical header
// writer against a plain Trimall; the per-thread x-amz-date memo across second boundaries.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>
#include <vector>

#include "aws/sigv4.h"

namespace eg::aws::sigv4 {
namespace {

using namespace std::chrono_literals;

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string evp_sha256_hex(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr), 1);
  Sha256 d;
  std::copy(md, md + 32, d.begin());
  return hex(d);
}

std::string openssl_hmac_hex(std::string_view key, std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  Sha256 d;
  std::copy(md, md + 32, d.begin());
  return hex(d);
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Sha256, NistVectors) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MatchesEvpAroundBlockBoundaries) {
  std::mt19937 rng(7);
  for (size_t n = 0; n <= 300; ++n) {
    std::string data = random_bytes(rng, n);
    EXPECT_EQ(hex(sha256(data)), evp_sha256_hex(data)) << n;
  }
}

TEST(Hmac, Rfc4231Vectors) {
  EXPECT_EQ(hex(hmac_sha256(bytes(std::string(20, '\x0b')), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(hmac_sha256(bytes("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(hex(hmac_sha256(bytes(std::string(131, '\xaa')),
                            "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Hmac, PrecomputedStatesMatchOpenSslHmac) {
  std::mt19937 rng(11);
  const size_t key_sizes[] = {0, 1, 20, 32, 55, 56, 63, 64, 65, 119, 120, 128, 200};
  const size_t data_sizes[] = {0, 1, 31, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 300};
  for (size_t k : key_sizes)
    for (size_t d : data_sizes)
      for (int round = 0; round < 3; ++round) {
        std::string key = random_bytes(rng, k), data = random_bytes(rng, d);
        EXPECT_EQ(hex(hmac_sha256(bytes(key), data)), openssl_hmac_hex(key, data))
            << "key " << k << " data " << d;
      }
}

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};

// The signature must be HMAC(signing key, string to sign) whatever the signer cached: the
// key per day and scope, the string to sign's prefix per second.
void expect_plain_hmac(const SigningOutput& out, const Credentials& c, std::string_view region,
                       std::string_view service) {
  std::string date = out.amz_date.substr(0, 8);
  Sha256 key = signing_key(c.secret_access_key, date, region, service);
  EXPECT_EQ(out.signature, hex(hmac_sha256(key, out.string_to_sign))) << out.string_to_sign;
  // The verifier's form (key cache, string to sign given whole) agrees.
  EXPECT_EQ(hex(hmac_sha256(
                [&] {
                  std::string k = "AWS4" + c.secret_access_key;
                  Sha256 kd = hmac_sha256(bytes(k), date);
                  Sha256 kr = hmac_sha256(kd, region);
                  Sha256 ks = hmac_sha256(kr, service);
                  return hmac_sha256(ks, "aws4_request");
                }(),
                out.string_to_sign)),
            out.signature);
}

TEST(Signer, CachedStringToSignPrefixAgreesWithAPlainHmac) {
  const auto t0 = *parse_amz_date("20151231T235958Z");
  std::vector<HeaderField> h{{"Host", "example.amazonaws.com"}, {"X-Custom", "v"}};
  RequestView r{"GET", "/p", "a=1", h, Payload::body("")};
  const Credentials other{"AKID2", "another/secret", "", {}, ""};
  // Same second twice, the next seconds (across midnight: a new key), back to an earlier
  // second, two keys and two scopes interleaved so each cache entry's prefix rolls.
  const std::chrono::system_clock::time_point times[] = {t0,      t0 + 500ms, t0 + 1s, t0 + 2s,
                                                         t0 + 2s, t0 + 1s,    t0,      t0 + 3s};
  for (auto t : times)
    for (const Credentials* c : {&kCreds, &other})
      for (std::string_view service : {"lambda", "execute-api"}) {
        auto p = params_for(service, "eu-west-1", t);
        p.keep_intermediates = true;
        SigningOutput out;
        ASSERT_TRUE(sign_request(r, *c, p, out)) << out.error;
        EXPECT_EQ(out.amz_date, format_amz_date(t));
        expect_plain_hmac(out, *c, "eu-west-1", service);
        // Without intermediates (the gateway's way) the signature is the same.
        p.keep_intermediates = false;
        SigningOutput lean;
        ASSERT_TRUE(sign_request(r, *c, p, lean));
        EXPECT_EQ(lean.signature, out.signature);
        EXPECT_TRUE(lean.string_to_sign.empty());
      }
}

TEST(Signer, PresignUsesTheSameSignature) {
  std::vector<HeaderField> h{{"Host", "example.amazonaws.com"}};
  RequestView r{"GET", "/", "", h, Payload::body("")};
  auto p = params_for("service", "us-east-1", *parse_amz_date("20150830T123600Z"));
  p.keep_intermediates = true;
  PresignOutput out;
  ASSERT_TRUE(presign_request(r, kCreds, p, 60s, out)) << out.error;
  Sha256 key = signing_key(kCreds.secret_access_key, "20150830", "us-east-1", "service");
  EXPECT_EQ(out.signature, hex(hmac_sha256(key, out.string_to_sign)));
}

TEST(AmzDate, TheMemoRollsOverAtTheSecond) {
  const auto t = *parse_amz_date("20151231T235959Z");
  EXPECT_EQ(format_amz_date(t), "20151231T235959Z");
  EXPECT_EQ(format_amz_date(t + 999ms), "20151231T235959Z");
  EXPECT_EQ(format_amz_date(t + 1s), "20160101T000000Z");
  EXPECT_EQ(format_amz_date(t + 1s + 1ms), "20160101T000000Z");
  EXPECT_EQ(format_amz_date(t), "20151231T235959Z");  // back again: not a stale memo

  std::vector<HeaderField> h{{"Host", "h"}};
  RequestView r{"GET", "/", "", h, Payload::body("")};
  SigningOutput a, b;
  ASSERT_TRUE(sign_request(r, kCreds, params_for("svc", "us-east-1", t + 999ms), a));
  ASSERT_TRUE(sign_request(r, kCreds, params_for("svc", "us-east-1", t + 1s), b));
  EXPECT_EQ(a.amz_date, "20151231T235959Z");
  EXPECT_EQ(b.amz_date, "20160101T000000Z");
  EXPECT_NE(a.authorization.find("/20151231/us-east-1/svc/aws4_request"), std::string::npos);
  EXPECT_NE(b.authorization.find("/20160101/us-east-1/svc/aws4_request"), std::string::npos);
  EXPECT_NE(a.signature, b.signature);
}

// Trimall as botocore writes it: ' '.join(value.split()).
std::string reference_trimall(std::string_view v) {
  std::string out;
  std::string word;
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || space(v[i])) {
      if (!word.empty()) {
        if (!out.empty()) out.push_back(' ');
        out += word;
        word.clear();
      }
    } else {
      word.push_back(v[i]);
    }
  }
  return out;
}

TEST(Signer, CanonicalHeaderValuesMatchAPlainTrimall) {
  std::mt19937 rng(3);
  // Dense whitespace, and long runs without it (copied eight bytes at a time), with bytes
  // just around ' ' and from 0x80.
  const std::string dense = {'a', 'B', ' ', ' ', '\t', '\r', '\n', '\v', '\f', ','};
  const std::string sparse = {'a', 'B', 'z', '!', '\x1f', '\x7f', '\x80', '\xa0', ' ', '\t'};
  for (int round = 0; round < 4000; ++round) {
    const std::string& alphabet = round % 2 ? sparse : dense;
    std::string v;
    size_t n = rng() % (round % 2 ? 40 : 14);
    for (size_t i = 0; i < n; ++i)
      v.push_back(alphabet[rng() % (round % 4 == 1 ? 8 : alphabet.size())]);
    std::vector<HeaderField> h{{"Host", "h"}, {"X-V", v}};
    RequestView r{"GET", "/", "", h, Payload::body("")};
    auto p = params_for("svc", "us-east-1", *parse_amz_date("20150830T123600Z"));
    p.keep_intermediates = true;
    SigningOutput out;
    ASSERT_TRUE(sign_request(r, kCreds, p, out));
    EXPECT_NE(out.canonical_request.find("\nx-v:" + reference_trimall(v) + "\n"), std::string::npos)
        << '"' << v << '"';
  }
}

TEST(Signer, HeaderNamesAreLowercasedOnlyInAsciiLetters) {
  // Bytes next to 'A'..'Z' and the same with the high bit set stay as they are; long names
  // are lowercased eight bytes at a time.
  std::string name = "X-Long-Header-Name-@[`{AZaz09";
  name += "\xc1\xda\x80\xff-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string lower;
  for (char c : name) lower.push_back(c >= 'A' && c <= 'Z' ? char(c + 32) : c);
  for (size_t cut = 1; cut <= name.size(); ++cut) {
    std::vector<HeaderField> h{{"Host", "h"}, {std::string_view(name).substr(0, cut), "v"}};
    RequestView r{"GET", "/", "", h, Payload::body("")};
    auto p = params_for("svc", "us-east-1", *parse_amz_date("20150830T123600Z"));
    p.keep_intermediates = true;
    SigningOutput out;
    ASSERT_TRUE(sign_request(r, kCreds, p, out));
    EXPECT_NE(out.canonical_request.find("\n" + lower.substr(0, cut) + ":v\n"), std::string::npos)
        << cut;
  }
}

TEST(Signer, CanonicalHeadersSortLowercaseAndJoinInWireOrder) {
  std::vector<HeaderField> h{{"X-B", " 2 "},  {"Host", "h"},   {"x-a", "1"},
                             {"X-A", "3  4"}, {"X-Aa", "5"},   {"X-A", ""},
                             {"X-b", "6"},    {"ZZ", "\t7\t"}, {"X-AMZ-DATE", "viewer"}};
  RequestView r{"GET", "/", "", h, Payload::body("")};
  auto p = params_for("svc", "us-east-1", *parse_amz_date("20150830T123600Z"));
  p.keep_intermediates = true;
  SigningOutput out;
  ASSERT_TRUE(sign_request(r, kCreds, p, out));
  EXPECT_NE(out.canonical_request.find("\nhost:h\nx-a:1,3 4,\nx-aa:5\nx-amz-date:20150830T123600Z\n"
                                       "x-b:2,6\nzz:7\n\nhost;x-a;x-aa;x-amz-date;x-b;zz\n"),
            std::string::npos)
      << out.canonical_request;
}

}  // namespace
}  // namespace eg::aws::sigv4
