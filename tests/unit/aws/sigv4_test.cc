// The signer's own rules beyond the published suites (tests/conformance/sigv4_test.cc):
// encoding, normalization, what is signed and what is refused, service inference.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <set>

#include "core/strings.h"

namespace eg::aws::sigv4 {
namespace {

using namespace std::chrono_literals;

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};
const auto kTime = *parse_amz_date("20150830T123600Z");

std::string uri(std::string_view path, bool normalize = true, bool twice = true) {
  std::string out;
  canonical_uri(path, normalize, twice, out);
  return out;
}
std::string query(std::string_view q) {
  std::string out;
  canonical_query(q, out);
  return out;
}

TEST(CanonicalUri, EncodesTheWirePathOnceMoreExceptForS3) {
  EXPECT_EQ(uri("/documents%20and%20settings/"), "/documents%2520and%2520settings/");
  EXPECT_EQ(uri("/documents%20and%20settings/", false, false), "/documents%20and%20settings/");
  EXPECT_EQ(uri("/a+b=c/~x_y.z-"), "/a%2Bb%3Dc/~x_y.z-");
  EXPECT_EQ(uri(""), "/");
}

TEST(CanonicalUri, NormalizesLikeBotocoreButNotForS3) {
  EXPECT_EQ(uri("//example//"), "/example/");
  EXPECT_EQ(uri("/a/./b/../c"), "/a/c");
  EXPECT_EQ(uri("/.."), "/");
  EXPECT_EQ(uri("/a/.."), "/");
  EXPECT_EQ(uri("/a/b/.."), "/a");
  EXPECT_EQ(uri("my-object//example//photo.user", false, false), "my-object//example//photo.user");
}

TEST(CanonicalQuery, SortsAndNormalizesEncoding) {
  EXPECT_EQ(query("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(query("flag&x="), "flag=&x=");
  EXPECT_EQ(query("k=a%2fb"), "k=a%2Fb");  // lowercase escapes come out uppercase
  EXPECT_EQ(query("k=a b"), "k=a%20b");    // raw space
  EXPECT_EQ(query("k=a+b"), "k=a%2Bb");    // '+' is a plus, not a space
  EXPECT_EQ(query("k=100%"), "k=100%25");  // a lone '%' is a percent sign
  EXPECT_EQ(query("a=1&&b=2"), "a=1&b=2");
  EXPECT_EQ(query("Z=1&a=1&_=1"), "Z=1&_=1&a=1");  // byte order: upper < '_' < lower
  EXPECT_EQ(query(""), "");
}

TEST(AmzDate, FormatsAndParses) {
  EXPECT_EQ(format_amz_date(kTime + 999ms), "20150830T123600Z");
  EXPECT_FALSE(parse_amz_date("20150830T123600"));
  EXPECT_FALSE(parse_amz_date("2015-08-30T12:36:00Z"));
  EXPECT_FALSE(parse_amz_date("20150231T123600Z"));
  EXPECT_TRUE(parse_amz_date("20160229T000000Z"));
}

struct Signed {
  SigningOutput out;
  bool ok;
};

Signed sign(std::vector<HeaderField> headers, std::string_view method = "GET",
            std::string_view path = "/", std::string_view q = "",
            Payload payload = Payload::body(""), std::string_view service = "service",
            const Credentials& creds = kCreds) {
  Signed s;
  RequestView r{method, path, q, headers, payload};
  auto p = params_for(service, "us-east-1", kTime);
  p.keep_intermediates = true;
  s.ok = sign_request(r, creds, p, s.out);
  return s;
}

TEST(Signer, MatchesTheWorkedVectorOfTheFactSheet) {
  auto s = sign({{"Host", "example.amazonaws.com"}});
  ASSERT_TRUE(s.ok) << s.out.error;
  EXPECT_EQ(s.out.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s.out.amz_date, "20150830T123600Z");
}

TEST(Signer, SdkUnsignedHeadersAreLeftOut) {
  auto s = sign({{"Host", "h"},
                 {"User-Agent", "curl/8"},
                 {"Expect", "100-continue"},
                 {"X-Amzn-Trace-Id", "Root=1"},
                 {"X-Custom", "  a   b  "}});
  ASSERT_TRUE(s.ok);
  EXPECT_NE(s.out.authorization.find("SignedHeaders=host;x-amz-date;x-custom,"), std::string::npos)
      << s.out.authorization;
  EXPECT_NE(s.out.canonical_request.find("\nx-custom:a b\n"), std::string::npos);
}

TEST(Signer, ViewerSigningHeadersAreReplacedNotSigned) {
  auto s = sign({{"Host", "h"},
                 {"Authorization", "AWS4-HMAC-SHA256 viewer"},
                 {"X-Amz-Date", "19990101T000000Z"}});
  ASSERT_TRUE(s.ok);
  EXPECT_NE(s.out.canonical_request.find("x-amz-date:20150830T123600Z"), std::string::npos);
  EXPECT_EQ(s.out.canonical_request.find("19990101"), std::string::npos);
  EXPECT_EQ(s.out.canonical_request.find("authorization"), std::string::npos);

  struct H {
    std::string name, value;
  };
  std::vector<H> list{{"Host", "h"},         {"Authorization", "x"},
                      {"X-Amz-Date", "d"},   {"x-amz-security-token", "t"},
                      {"X-Amz-Meta-A", "m"}, {"Accept", "*/*"}};
  EXPECT_EQ(remove_viewer_signing_headers(list), 4u);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "Host");
  EXPECT_EQ(list[1].name, "Accept");
}

TEST(Signer, SessionTokenSignedOrAddedAfter) {
  Credentials c = kCreds;
  c.session_token = "token==";
  auto s = sign({{"Host", "h"}}, "GET", "/", "", Payload::body(""), "service", c);
  EXPECT_NE(s.out.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            std::string::npos);
  std::array<HeaderField, 4> set;
  ASSERT_EQ(s.out.headers(set), 3u);
  EXPECT_EQ(set[0].name, "X-Amz-Security-Token");
  EXPECT_EQ(set[0].value, "token==");
  EXPECT_EQ(set[1].name, "X-Amz-Date");
  EXPECT_EQ(set[2].name, "Authorization");

  std::vector<HeaderField> h{{"Host", "h"}};
  RequestView r{"GET", "/", "", h, Payload::body("")};
  auto p = params_for("service", "us-east-1", kTime);
  p.session_token = SessionTokenPlacement::kAddedAfterSigning;
  SigningOutput out;
  ASSERT_TRUE(sign_request(r, c, p, out));
  EXPECT_NE(out.authorization.find("SignedHeaders=host;x-amz-date,"), std::string::npos);
  EXPECT_EQ(out.session_token, "token==");
}

TEST(Signer, S3SetsTheContentHashAndDoesNotNormalize) {
  auto s = sign({{"Host", "bucket.s3.amazonaws.com"}}, "PUT", "/a//b/../c", "",
                Payload::body("hello"), "s3");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.out.content_sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_NE(s.out.canonical_request.find("PUT\n/a//b/../c\n"), std::string::npos);
  EXPECT_NE(s.out.authorization.find("host;x-amz-content-sha256;x-amz-date"), std::string::npos);
  std::array<HeaderField, 4> set;
  ASSERT_EQ(s.out.headers(set), 3u);
  EXPECT_EQ(set[1].name, "x-amz-content-sha256");
}

TEST(Signer, PayloadForms) {
  auto body = sign({{"Host", "h"}}, "POST", "/", "", Payload::body("hello"));
  auto pre = sign({{"Host", "h"}}, "POST", "/", "",
                  Payload::precomputed_sha256(
                      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
  EXPECT_EQ(body.out.signature, pre.out.signature);
  auto unsig = sign({{"Host", "h"}}, "POST", "/", "", Payload::unsigned_payload());
  EXPECT_TRUE(unsig.out.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  auto given = sign({{"Host", "h"}, {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}}, "POST", "/", "",
                    Payload::body("ignored"));
  EXPECT_TRUE(given.out.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(Signer, RefusesUnusableInput) {
  auto s = sign({{"Accept", "x"}});
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.out.error, "the request has no Host header (SigV4 always signs it)");
  s = sign({{"Host", "h"}}, "GET", "/", "", Payload::precomputed_sha256("abc"));
  EXPECT_FALSE(s.ok);
  s = sign({{"Host", "h"}}, "GET", "/", "", Payload::body(""), "bad service");
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.out.error.find("signing service 'bad service'"), std::string::npos);
  s = sign({{"Host", "h"}}, "GET", "/", "", Payload::body(""), "service", Credentials{});
  EXPECT_FALSE(s.ok);
}

TEST(Signer, KeyCacheServesEveryDateAndSecret) {
  // Same request, two dates and two secrets: four distinct signatures, cache or not.
  std::vector<HeaderField> h{{"Host", "h"}};
  RequestView r{"GET", "/", "", h, Payload::body("")};
  std::set<std::string> sigs;
  for (int round = 0; round < 2; ++round)
    for (auto t : {kTime, kTime + 24h})
      for (std::string secret : {"s1", "s2"}) {
        SigningOutput out;
        Credentials c{"AKID", secret, "", {}, ""};
        ASSERT_TRUE(sign_request(r, c, params_for("svc", "us-east-1", t), out));
        sigs.insert(out.signature);
      }
  EXPECT_EQ(sigs.size(), 4u);
  EXPECT_EQ(
      hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")),
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(InferServiceRegion, KnownHostForms) {
  auto is = [](std::string_view host, std::string svc, std::string region) {
    auto r = infer_service_region(host);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->service, svc) << host;
    EXPECT_EQ(r->region, region) << host;
  };
  is("abcdefghijkl.lambda-url.eu-west-1.on.aws", "lambda", "eu-west-1");
  is("abc123.execute-api.us-east-2.amazonaws.com", "execute-api", "us-east-2");
  is("ABC123.Execute-Api.us-east-2.amazonaws.com:443", "execute-api", "us-east-2");
  is("ec2.eu-central-1.amazonaws.com", "ec2", "eu-central-1");
  is("wafv2.us-gov-west-1.amazonaws.com", "wafv2", "us-gov-west-1");
  is("mybucket.s3.ap-southeast-2.amazonaws.com", "s3", "ap-southeast-2");
  is("mybucket.s3.amazonaws.com", "s3", "us-east-1");
  is("s3.dualstack.eu-west-1.amazonaws.com", "s3", "eu-west-1");
  is("sts.amazonaws.com", "sts", "us-east-1");
  is("ec2.cn-north-1.amazonaws.com.cn", "ec2", "cn-north-1");
  is("search-domain.eu-west-1.es.amazonaws.com", "es", "eu-west-1");
  is("kms-fips.us-east-1.amazonaws.com", "kms", "us-east-1");
  EXPECT_FALSE(infer_service_region("origin.example.com"));
  EXPECT_FALSE(infer_service_region("127.0.0.1:8080"));
  EXPECT_FALSE(infer_service_region("amazonaws.com"));
  EXPECT_FALSE(infer_service_region("foo..amazonaws.com"));
}

}  // namespace
}  // namespace eg::aws::sigv4
