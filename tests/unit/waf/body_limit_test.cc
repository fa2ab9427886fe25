// The body inspection limit: 16 KB by default, raised by the WebACL's AssociationConfig
// (CLOUDFRONT DefaultSizeInspectionLimit up to KB_64), and OversizeHandling beyond it.
#include <gtest/gtest.h>

#include "waf/acl.h"
#include "waf/state.h"

namespace eg::waf {
namespace {

std::shared_ptr<const Acl> acl_with(const std::string& association, const char* oversize) {
  AclInput in;
  in.web_acl = {"acl.json", R"({"Name": "body", "DefaultAction": {"Allow": {}},)" + association +
                                R"("Rules": [{"Name": "secret-in-body", "Priority": 0,
        "Action": {"Block": {}},
        "VisibilityConfig": {"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false, "MetricName": "b"},
        "Statement": {"ByteMatchStatement": {"SearchString": "TOPSECRET",
          "FieldToMatch": {"Body": {"OversizeHandling": ")" +
                                std::string(oversize) + R"("}},
          "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
          "PositionalConstraint": "CONTAINS"}}}]})"};
  in.challenge_key = std::string(32, 'k');
  auto loaded = load_acl(in, std::make_shared<WafState>());
  EXPECT_TRUE(loaded.acl) << loaded.error;
  return loaded.acl;
}

Action judge(const Acl& acl, const std::string& body) {
  http::Headers headers;
  Request r{*parse_ip("192.0.2.1"), "POST", "/", "", headers, body, {}, {}, "t", false, 1};
  return acl.evaluate(r).action;
}

// A body whose marker starts after `at` bytes of filler.
std::string body_with_marker_at(size_t at) { return std::string(at, 'a') + "TOPSECRET"; }

TEST(WafBodyLimit, SixteenKilobytesByDefault) {
  auto acl = acl_with("", "CONTINUE");
  EXPECT_EQ(judge(*acl, body_with_marker_at(16 * 1024 - 9)), Action::Block);  // inside
  EXPECT_EQ(judge(*acl, body_with_marker_at(16 * 1024)), Action::Allow);      // beyond
}

TEST(WafBodyLimit, AssociationConfigRaisesItToSixtyFourKilobytes) {
  auto acl = acl_with(
      R"("AssociationConfig": {"RequestBody": {"CLOUDFRONT": {"DefaultSizeInspectionLimit": "KB_64"}}},)",
      "CONTINUE");
  EXPECT_EQ(judge(*acl, body_with_marker_at(40 * 1024)), Action::Block);
  EXPECT_EQ(judge(*acl, body_with_marker_at(64 * 1024)), Action::Allow);
}

TEST(WafBodyLimit, OversizeHandlingDecidesBeyondTheLimit) {
  std::string big(20 * 1024, 'a');  // no marker at all
  EXPECT_EQ(judge(*acl_with("", "MATCH"), big), Action::Block);
  EXPECT_EQ(judge(*acl_with("", "NO_MATCH"), big + "TOPSECRET"), Action::Allow);
  EXPECT_EQ(judge(*acl_with("", "MATCH"), "small TOPSECRET"), Action::Block);
  EXPECT_EQ(judge(*acl_with("", "MATCH"), "small"), Action::Allow);
}

TEST(WafBodyLimit, AnUnknownLimitIsRefusedWithItsPath) {
  AclInput in;
  in.web_acl = {"acl.json", R"({"Name": "x", "DefaultAction": {"Allow": {}}, "Rules": [],
    "AssociationConfig": {"RequestBody": {"CLOUDFRONT": {"DefaultSizeInspectionLimit": "KB_128"}}}})"};
  auto loaded = load_acl(in, std::make_shared<WafState>());
  ASSERT_FALSE(loaded.acl);
  EXPECT_NE(loaded.error.find("AssociationConfig.RequestBody.CLOUDFRONT."
                              "DefaultSizeInspectionLimit: \"KB_128\" is not one of KB_16, KB_32, "
                              "KB_48, KB_64"),
            std::string::npos)
      << loaded.error;
}

}  // namespace
}  // namespace eg::waf
