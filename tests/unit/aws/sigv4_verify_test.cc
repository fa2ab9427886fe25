// The verifier as an origin sees it: what a well-signed request gets (accepted) and what
// each kind of bad request gets (AWS's error code and message).
#include "aws/sigv4_verify.h"

#include <gtest/gtest.h>

#include "aws/sigv4.h"
#include "core/strings.h"

namespace eg::aws::sigv4 {
namespace {

using namespace std::chrono_literals;

const auto kTime = *parse_amz_date("20150830T123600Z");

// ---- Authorization header parsing ----

std::string parse_error(std::string_view value) {
  std::string error;
  auto h = parse_authorization_header(value, error);
  EXPECT_FALSE(h) << value;
  return error;
}

TEST(AuthorizationHeader, ParsesTheSdkForm) {
  std::string error;
  auto h = parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(h->credential.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(h->credential.date, "20150830");
  EXPECT_EQ(h->credential.region, "us-east-1");
  EXPECT_EQ(h->credential.service, "service");
  EXPECT_EQ(h->signed_headers, "host;x-amz-date");
  EXPECT_EQ(h->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AuthorizationHeader, AcceptsComponentsInAnyOrderWithoutSpaces) {
  std::string error;
  auto h = parse_authorization_header(
      "AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
      "Credential=AKID/20150830/eu-west-1/lambda/aws4_request,SignedHeaders=host",
      error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(h->credential.service, "lambda");
}

TEST(AuthorizationHeader, MissingPartsAreNamedTheWayAwsNamesThem) {
  std::string e =
      parse_error("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request");
  EXPECT_NE(e.find("Authorization header requires 'Signature' parameter."), std::string::npos) << e;
  EXPECT_NE(e.find("Authorization header requires 'SignedHeaders' parameter."), std::string::npos)
      << e;
  EXPECT_EQ(e.find("'Credential' parameter"), std::string::npos) << e;
  e = parse_error("AWS4-HMAC-SHA256");
  EXPECT_NE(e.find("requires 'Credential' parameter"), std::string::npos) << e;
}

TEST(AuthorizationHeader, MalformedFormsGetClearErrors) {
  EXPECT_NE(parse_error("Bearer abc").find("Unsupported Authorization type 'Bearer'"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256X Credential=a").find("Unsupported"), std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential").find("missing equal-sign"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, Foo=1")
                .find("Unknown component 'Foo'"),
            std::string::npos);
  std::string sig = "Signature=" + std::string(64, 'a');
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request, "
                        "Credential=A/20150830/r/s/aws4_request, SignedHeaders=host, " +
                        sig)
                .find("'Credential' more than once"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s, SignedHeaders=host, " + sig)
                .find("not 4 part(s)"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/2015083/r/s/aws4_request, "
                        "SignedHeaders=host, " +
                        sig)
                .find("Date is not the required format: yyyyMMdd"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150230/r/s/aws4_request, "
                        "SignedHeaders=host, " +
                        sig)
                .find("Invalid credential date"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws5_request, "
                        "SignedHeaders=host, " +
                        sig)
                .find("valid terminator: 'aws4_request', not 'aws5_request'"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request, "
                        "SignedHeaders=Host;X-Amz-Date, " +
                        sig)
                .find("lowercase header names"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request, "
                        "SignedHeaders=host;;x-amz-date, " +
                        sig)
                .find("empty header name"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request, "
                        "SignedHeaders=host, Signature=ABC")
                .find("64 lowercase hexadecimal"),
            std::string::npos);
  EXPECT_NE(parse_error("AWS4-HMAC-SHA256 Credential=/20150830/r/s/aws4_request, "
                        "SignedHeaders=host, " +
                        sig)
                .find("empty access key id"),
            std::string::npos);
}

TEST(AuthorizationHeader, ControlCharactersAreEscapedInMessages) {
  std::string e = parse_error(std::string("AWS4-HMAC-SHA256 Credential=a\x01/b"));
  EXPECT_EQ(e.find('\x01'), std::string::npos);
  EXPECT_NE(e.find("\\x01"), std::string::npos);
}

// ---- Verification ----

struct Fixture {
  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};
  std::vector<std::pair<std::string, std::string>> headers{{"Host", "origin.example"},
                                                           {"Content-Type", "application/json"}};
  std::string method = "POST", path = "/items/1", query = "b=2&a=1", body = "{\"x\":1}";
  std::string service = "execute-api", region = "eu-west-1";
  std::chrono::system_clock::time_point time = kTime;

  // Signs and returns the headers as they would go on the wire.
  std::vector<std::pair<std::string, std::string>> signed_headers() {
    std::vector<HeaderField> view;
    for (auto& [n, v] : headers) view.push_back({n, v});
    RequestView r{method, path, query, view, Payload::body(body)};
    SigningOutput out;
    EXPECT_TRUE(sign_request(r, creds, params_for(service, region, time), out)) << out.error;
    auto all = headers;
    std::array<HeaderField, 4> set;
    size_t n = out.headers(set);
    for (size_t i = 0; i < n; ++i) all.emplace_back(set[i].name, set[i].value);
    return all;
  }
};

VerifyResult verify(const Verifier& v, const std::vector<std::pair<std::string, std::string>>& h,
                    const Fixture& f, std::chrono::system_clock::time_point now,
                    std::string_view body_override = {}, bool override_body = false) {
  std::vector<HeaderField> view;
  for (auto& [n, val] : h) view.push_back({n, val});
  RequestView r{f.method, f.path, f.query, view,
                Payload::body(override_body ? body_override : std::string_view(f.body))};
  return v.verify(r, now);
}

Verifier make_verifier(const Fixture& f, std::string token = {}) {
  AccessKey k{f.creds.access_key_id, f.creds.secret_access_key, std::move(token), {}, {}};
  VerifierOptions o;
  o.service = f.service;
  o.region = f.region;
  return Verifier({k}, o);
}

void set_header(std::vector<std::pair<std::string, std::string>>& h, std::string_view name,
                std::string value) {
  for (auto& [n, v] : h)
    if (iequals(n, name)) v = value;
}

TEST(Verifier, AcceptsWhatTheSignerSigned) {
  Fixture f;
  auto v = make_verifier(f);
  auto r = verify(v, f.signed_headers(), f, kTime + 2min);
  EXPECT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.access_key_id, "AKIDEXAMPLE");
}

TEST(Verifier, NoSignatureIsMissingAuthenticationToken) {
  Fixture f;
  auto r = verify(make_verifier(f), f.headers, f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kMissingAuthentication);
  EXPECT_EQ(r.message, "Missing Authentication Token");
  auto e = render_error(r, ErrorShape::kJson, "req-1");
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.body, "{\"message\":\"Missing Authentication Token\"}");
}

TEST(Verifier, ChangedBodyIsSignatureDoesNotMatch) {
  Fixture f;
  auto r = verify(make_verifier(f), f.signed_headers(), f, kTime, "{\"x\":2}", true);
  EXPECT_EQ(r.failure, VerifyFailure::kSignatureDoesNotMatch);
  auto xml = render_error(r, ErrorShape::kS3Xml, "req-1");
  EXPECT_EQ(xml.status, 403);
  EXPECT_NE(xml.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos);
  EXPECT_NE(xml.body.find("<CanonicalRequest>POST\n/items/1\na=1&amp;b=2\n"), std::string::npos)
      << xml.body;
  EXPECT_NE(xml.body.find("<RequestId>req-1</RequestId>"), std::string::npos);
  auto json = render_error(r, ErrorShape::kJson, "req-1");
  EXPECT_EQ(json.headers[1].second, "InvalidSignatureException");
  EXPECT_NE(json.body.find("The Canonical String for this request should have been\\n'POST"),
            std::string::npos)
      << json.body;
}

TEST(Verifier, WrongSecretIsSignatureDoesNotMatch) {
  Fixture f;
  auto h = f.signed_headers();
  AccessKey k{"AKIDEXAMPLE", "another-secret", "", {}, {}};
  Verifier v({k}, {});
  EXPECT_EQ(verify(v, h, f, kTime).failure, VerifyFailure::kSignatureDoesNotMatch);
}

TEST(Verifier, UnknownKeyIsInvalidAccessKeyId) {
  Fixture f;
  f.creds.access_key_id = "AKIDOTHER";
  auto r = verify(make_verifier(Fixture{}), f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kUnknownAccessKey);
  EXPECT_EQ(s3_error_code(r.failure), "InvalidAccessKeyId");
  auto json = render_error(r, ErrorShape::kJson, "x");
  EXPECT_EQ(json.body, "{\"message\":\"The security token included in the request is invalid.\"}");
  EXPECT_EQ(json.headers[1].second, "UnrecognizedClientException");
}

TEST(Verifier, ScopeMustNameTheConfiguredRegionAndService) {
  Fixture f;
  f.region = "us-east-1";
  auto r = verify(make_verifier(Fixture{}), f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidScope);
  EXPECT_EQ(r.message, "Credential should be scoped to a valid region, not 'us-east-1'. ");

  Fixture g;
  g.service = "lambda";
  r = verify(make_verifier(Fixture{}), g.signed_headers(), g, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidScope);
  EXPECT_EQ(r.message, "Credential should be scoped to correct service: 'execute-api'. ");
}

TEST(Verifier, ScopeDateMustMatchXAmzDate) {
  Fixture f;
  auto h = f.signed_headers();
  set_header(h, "x-amz-date", "20150831T000100Z");
  auto r = verify(make_verifier(f), h, f, *parse_amz_date("20150831T000100Z"));
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidScope);
  EXPECT_EQ(r.message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            "from HTTP: '20150830' != '20150831', from '20150831T000100Z'.");
}

TEST(Verifier, ClockSkewBeyondTheWindowIsRefused) {
  Fixture f;
  auto h = f.signed_headers();
  auto v = make_verifier(f);
  EXPECT_TRUE(verify(v, h, f, kTime + 5min).ok());
  EXPECT_TRUE(verify(v, h, f, kTime - 5min).ok());
  auto late = verify(v, h, f, kTime + 5min + 1s);
  EXPECT_EQ(late.failure, VerifyFailure::kRequestTimeTooSkewed);
  EXPECT_EQ(late.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T124101Z - 5 min.)");
  auto early = verify(v, h, f, kTime - 6min);
  EXPECT_EQ(early.failure, VerifyFailure::kRequestTimeTooSkewed);
  EXPECT_NE(early.message.find("Signature not yet current: 20150830T123600Z is still later than"),
            std::string::npos);
  auto xml = render_error(late, ErrorShape::kS3Xml, "r");
  EXPECT_NE(xml.body.find("<Code>RequestTimeTooSkewed</Code>"), std::string::npos);
  EXPECT_NE(xml.body.find("<MaxAllowedSkewMilliseconds>300000</MaxAllowedSkewMilliseconds>"),
            std::string::npos);
}

TEST(Verifier, SessionTokenIsRequiredWhenTheKeyHasOne) {
  Fixture f;
  auto v = make_verifier(f, "the-session-token");
  auto r = verify(v, f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidToken);
  EXPECT_NE(r.message.find("must include X-Amz-Security-Token"), std::string::npos);

  f.creds.session_token = "the-session-token";
  EXPECT_TRUE(verify(v, f.signed_headers(), f, kTime).ok());

  f.creds.session_token = "another-token";
  r = verify(v, f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidToken);
  EXPECT_EQ(r.message, "The security token included in the request is invalid.");

  // A token sent for a long-term key is refused too.
  r = verify(make_verifier(f), f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kInvalidToken);
}

TEST(Verifier, ContentSha256MustMatchTheBody) {
  Fixture f;
  f.service = "s3";
  auto h = f.signed_headers();  // s3: x-amz-content-sha256 is set and signed
  AccessKey k{f.creds.access_key_id, f.creds.secret_access_key, "", {}, {}};
  VerifierOptions o;
  o.service = "s3";
  Verifier v({k}, o);
  EXPECT_TRUE(verify(v, h, f, kTime).ok());
  auto r = verify(v, h, f, kTime, "tampered", true);
  EXPECT_EQ(r.failure, VerifyFailure::kContentSha256Mismatch);
  auto xml = render_error(r, ErrorShape::kS3Xml, "r");
  EXPECT_EQ(xml.status, 400);
  EXPECT_NE(xml.body.find("<Code>XAmzContentSHA256Mismatch</Code>"), std::string::npos);
  EXPECT_NE(xml.body.find("<ClientComputedContentSHA256>"), std::string::npos);
}

TEST(Verifier, UnsignedPayloadOnlyWhenAllowed) {
  Fixture f;
  f.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
  auto h = f.signed_headers();
  auto strict = make_verifier(f);
  EXPECT_EQ(verify(strict, h, f, kTime).failure, VerifyFailure::kContentSha256Mismatch);
  AccessKey k{f.creds.access_key_id, f.creds.secret_access_key, "", {}, {}};
  VerifierOptions o;
  o.allow_unsigned_payload = true;
  Verifier lenient({k}, o);
  EXPECT_TRUE(verify(lenient, h, f, kTime, "any body at all", true).ok());
}

TEST(Verifier, UnsignedAmzHeadersAreRefused) {
  Fixture f;
  auto h = f.signed_headers();
  h.emplace_back("X-Amz-Meta-Owner", "mallory");
  auto r = verify(make_verifier(f), h, f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kAccessDenied);
  EXPECT_EQ(r.message, "There were headers present in the request which were not signed");
}

TEST(Verifier, KeyRestrictedToOtherServicesIsAccessDenied) {
  Fixture f;
  AccessKey k{f.creds.access_key_id, f.creds.secret_access_key, "", {}, {"lambda"}};
  Verifier v({k}, {});
  auto r = verify(v, f.signed_headers(), f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kAccessDenied);
}

TEST(Verifier, MissingDateIsIncompleteSignature) {
  Fixture f;
  auto h = f.signed_headers();
  std::erase_if(h, [](auto& p) { return iequals(p.first, "x-amz-date"); });
  auto r = verify(make_verifier(f), h, f, kTime);
  EXPECT_EQ(r.failure, VerifyFailure::kIncompleteSignature);
  EXPECT_NE(r.message.find("requires existence of either a 'X-Amz-Date' or a 'Date' header"),
            std::string::npos);
  auto json = render_error(r, ErrorShape::kJson, "r");
  EXPECT_EQ(json.headers[1].second, "IncompleteSignatureException");
}

TEST(Verifier, PresignedUrlsVerifyAndExpire) {
  Fixture f;
  f.method = "GET";
  f.body.clear();
  std::vector<HeaderField> view{{"Host", "origin.example"}};
  RequestView r{f.method, f.path, f.query, view, Payload::body("")};
  PresignOutput out;
  ASSERT_TRUE(presign_request(r, f.creds, params_for(f.service, f.region, kTime), 60s, out))
      << out.error;
  auto v = make_verifier(f);
  RequestView signed_req{f.method, f.path, out.query, view, Payload::body("")};
  auto ok = v.verify(signed_req, kTime + 30s);
  EXPECT_TRUE(ok.ok()) << ok.message;
  EXPECT_TRUE(ok.presigned);
  auto expired = v.verify(signed_req, kTime + 61s);
  EXPECT_EQ(expired.failure, VerifyFailure::kPresignedExpired);
  EXPECT_EQ(expired.message, "Request has expired");

  std::string tampered = out.query;
  tampered.replace(tampered.find("a=1"), 3, "a=9");
  RequestView bad{f.method, f.path, tampered, view, Payload::body("")};
  EXPECT_EQ(v.verify(bad, kTime).failure, VerifyFailure::kSignatureDoesNotMatch);

  std::string only_signature = "X-Amz-Signature=" + std::string(64, 'a');
  RequestView partial{f.method, f.path, only_signature, view, Payload::body("")};
  auto incomplete = v.verify(partial, kTime);
  EXPECT_EQ(incomplete.failure, VerifyFailure::kIncompleteSignature);
  auto xml = render_error(incomplete, ErrorShape::kS3Xml, "r");
  EXPECT_NE(xml.body.find("<Code>AuthorizationQueryParametersError</Code>"), std::string::npos);
}

TEST(ErrorRendering, EscapesUntrustedText) {
  VerifyResult r;
  r.failure = VerifyFailure::kIncompleteSignature;
  r.message = "bad <value> & \"quote\"\n";
  auto xml = render_error(r, ErrorShape::kS3Xml, "id<1>");
  EXPECT_NE(xml.body.find("bad &lt;value&gt; &amp; &quot;quote&quot;"), std::string::npos);
  EXPECT_NE(xml.body.find("<RequestId>id&lt;1&gt;</RequestId>"), std::string::npos);
  auto json = render_error(r, ErrorShape::kJson, "id");
  EXPECT_EQ(json.body, "{\"message\":\"bad <value> & \\\"quote\\\"\\n\"}");
}

TEST(ErrorRendering, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  VerifyResult r;
  r.failure = VerifyFailure::kIncompleteSignature;
  r.message = "bad \xda type, ok \xc3\xa9, nul \x01";
  auto json = render_error(r, ErrorShape::kJson, "id");
  EXPECT_EQ(json.body, "{\"message\":\"bad \xEF\xBF\xBD type, ok \xc3\xa9, nul \\u0001\"}");
  auto xml = render_error(r, ErrorShape::kS3Xml, "id");
  EXPECT_NE(xml.body.find("bad \xEF\xBF\xBD type, ok \xc3\xa9, nul \xEF\xBF\xBD<"),
            std::string::npos);
}

}  // namespace
}  // namespace eg::aws::sigv4
