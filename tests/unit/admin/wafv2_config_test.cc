// admin.wafv2: keys from the secret store, a verifier built at load time, errors with their
// file:line, and /config showing key ids but never secrets.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "../config/config_test_util.h"
#include "admin/admin_server.h"
#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"
#include "config/loader.h"
#include "config/snapshot.h"

namespace eg::admin {
namespace {

using namespace eg::config::test_util;
using config::load_text;

std::string with_admin(const std::string& wafv2) {
  return std::string(kMinimal) + "secrets: {file: store.json}\n" +
         "admin:\n  address: 127.0.0.1:9901\n  token_file: admin.token\n  wafv2: " + wafv2 + "\n";
}

TEST(AdminWafv2Config, KeysComeFromTheSecretStoreAndVerifyWafv2Requests) {
  TempDir d;
  auto r = load_text(with_admin("{keys: [{access_key_id: AKIDWAFADMIN, secret: origin-verify}]}"),
                     d.file("edgeguard.yaml"));
  ASSERT_TRUE(r.snapshot) << all_errors(r);
  const auto& w = r.snapshot->admin.wafv2;
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->region, "us-east-1");
  EXPECT_EQ(w->access_key_ids, std::vector<std::string>{"AKIDWAFADMIN"});
  ASSERT_TRUE(w->verifier);

  // A request the aws CLI would send, signed with the CURRENT secret, verifies; the same
  // request signed for another service does not.
  auto now = std::chrono::system_clock::now();
  auto signed_with = [&](std::string_view service, std::string_view secret) {
    std::string body = R"({"Scope":"CLOUDFRONT"})";
    std::vector<aws::sigv4::HeaderField> headers = {{"Host", "127.0.0.1:9901"},
                                                    {"Content-Type", "application/x-amz-json-1.1"},
                                                    {"X-Amz-Target", "AWSWAF_20190729.ListIPSets"}};
    aws::sigv4::RequestView view{"POST", "/", "", headers, aws::sigv4::Payload::body(body)};
    aws::Credentials creds;
    creds.access_key_id = "AKIDWAFADMIN";
    creds.secret_access_key = std::string(secret);
    auto p = aws::sigv4::params_for(service, "us-east-1", now);
    aws::sigv4::SigningOutput out;
    EXPECT_TRUE(aws::sigv4::sign_request(view, creds, p, out)) << out.error;
    std::array<aws::sigv4::HeaderField, 4> added;
    std::vector<aws::sigv4::HeaderField> all = headers;
    for (size_t i = 0, n = out.headers(added); i < n; ++i) all.push_back(added[i]);
    aws::sigv4::RequestView signed_view{"POST", "/", "", all, aws::sigv4::Payload::body(body)};
    return w->verifier->verify(signed_view, now);
  };
  EXPECT_TRUE(signed_with("wafv2", "TOPSECRET-current").ok());
  EXPECT_FALSE(signed_with("wafv2", "TOPSECRET-previous").ok());
  EXPECT_FALSE(signed_with("s3", "TOPSECRET-current").ok());

  std::string shown = config_json(*r.snapshot, 1);
  EXPECT_NE(shown.find("AKIDWAFADMIN"), std::string::npos);
  EXPECT_EQ(shown.find("TOPSECRET"), std::string::npos);
}

TEST(AdminWafv2Config, ErrorsPointAtTheKey) {
  TempDir d;
  std::string file = d.file("edgeguard.yaml");
  auto r = load_text(with_admin("{keys: [{access_key_id: AKID1, secret: no-such-secret}]}"), file);
  ASSERT_FALSE(r.snapshot);
  EXPECT_NE(all_errors(r).find("admin.wafv2.keys[0].secret"), std::string::npos) << all_errors(r);
  EXPECT_NE(all_errors(r).find(":8:"), std::string::npos) << all_errors(r);

  r = load_text(with_admin("{keys: [{access_key_id: AKID1, secret: pending}]}"), file);
  EXPECT_NE(all_errors(r).find("has no version with stage CURRENT"), std::string::npos)
      << all_errors(r);
  r = load_text(with_admin("{region: us-east-1}"), file);
  EXPECT_NE(all_errors(r).find("admin.wafv2"), std::string::npos) << all_errors(r);
  EXPECT_NE(all_errors(r).find("keys"), std::string::npos) << all_errors(r);
  r = load_text(with_admin("{keys: []}"), file);
  EXPECT_NE(all_errors(r).find("at least one key is required"), std::string::npos) << all_errors(r);
  r = load_text(
      with_admin("{region: 'US East', keys: [{access_key_id: A, secret: origin-verify}]}"), file);
  EXPECT_NE(all_errors(r).find("is not a region name"), std::string::npos) << all_errors(r);
  r = load_text(with_admin("{keys: [{access_key_id: A, secret: origin-verify}, "
                           "{access_key_id: A, secret: origin-verify}]}"),
                file);
  EXPECT_NE(all_errors(r).find("listed twice"), std::string::npos) << all_errors(r);
  r = load_text(with_admin("{keys: [{access_key_id: A, secret: origin-verify}], extra: 1}"), file);
  EXPECT_NE(all_errors(r).find("extra"), std::string::npos) << all_errors(r);
}

TEST(AdminWafv2Config, AbsentMeansNoApi) {
  TempDir d;
  auto r = load_text(std::string(kMinimal) + "admin: {token_file: admin.token}\n",
                     d.file("edgeguard.yaml"));
  ASSERT_TRUE(r.snapshot) << all_errors(r);
  EXPECT_FALSE(r.snapshot->admin.wafv2.has_value());
}

}  // namespace
}  // namespace eg::admin
