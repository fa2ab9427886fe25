// Inputs the fuzz targets (fuzz/acl_loader_fuzz.cc, challenge_endpoint_fuzz.cc) found to crash
// the web ACL engine, each reduced to what it takes. A load refuses a bad document with a message;
// an evaluation never throws for a request the proxy accepted.
#include <gtest/gtest.h>

#include <string>

#include "waf/acl.h"
#include "waf/challenge_internal.h"
#include "waf/model.h"
#include "waf/state.h"

namespace eg::waf {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

AclLoad load(std::string acl, std::string rule_group = "") {
  AclInput in;
  in.web_acl = {"acl.json", std::move(acl)};
  if (!rule_group.empty()) in.rule_groups.push_back({"group.json", std::move(rule_group)});
  in.challenge_key = std::string(32, 'k');
  return load_acl(in, std::make_shared<WafState>());
}

const char* kGroupReference = R"({"Name": "acl", "DefaultAction": {"Allow": {}}, "Rules": [
  {"Name": "group", "Priority": 0, "OverrideAction": {"None": {}},
   "Statement": {"RuleGroupReferenceStatement": {"ARN": "g"}}}]})";

// A rule group with these top-level members and one rule labelling every request.
std::string group_with(std::string_view members) {
  return "{" + std::string(members) + R"(, "Rules": [
    {"Name": "hit", "Priority": 0, "Action": {"Count": {}}, "RuleLabels": [{"Name": "hit"}],
     "Statement": {"ByteMatchStatement": {"SearchString": "/", "FieldToMatch": {"UriPath": {}},
       "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}}]})";
}

Verdict evaluate(const Acl& acl, const http::Headers& headers, std::string_view path = "/") {
  Request r{*parse_ip("192.0.2.1"), "GET", path, "", headers, "", {}, {}, "t", false, kNow};
  return acl.evaluate(r);
}

// The account in a rule group's ARN was read through views into a destroyed temporary
// (heap-use-after-free under ASan, garbage in the label namespace otherwise).
TEST(WafFuzzRegressions, RuleGroupLabelNamespaceComesFromItsArn) {
  AclLoad l = load(
      kGroupReference,
      group_with(
          R"("Name": "g", "ARN": "arn:aws:wafv2:us-east-1:111122223333:global/rulegroup/g/1")"));
  ASSERT_TRUE(l.acl) << l.error;
  http::Headers h;
  Verdict v = evaluate(*l.acl, h);
  ASSERT_EQ(v.labels.size(), 1u);
  EXPECT_EQ(v.labels[0], "awswaf:111122223333:rulegroup:g:hit");
}

// json::value() threw type_error out of load_acl for a rule group whose ARN, Name or
// LabelNamespace is not a string.
TEST(WafFuzzRegressions, RuleGroupMembersOfTheWrongTypeAreRefused) {
  for (std::string members : {R"("Name": "g", "ARN": 5)", R"("ARN": "g", "Name": ["g"])",
                              R"("Name": "g", "LabelNamespace": {})"}) {
    SCOPED_TRACE(members);
    AclLoad l;
    ASSERT_NO_THROW(l = load(kGroupReference, group_with(members)));
    EXPECT_FALSE(l.acl);
    EXPECT_EQ(l.error.rfind("acl.json: group.json: ", 0), 0u) << l.error;
    EXPECT_NE(l.error.find("must be a string"), std::string::npos) << l.error;
  }
  // A group with a non-string Name is not the one a reference names by its ARN.
  AclLoad l = load(kGroupReference, R"({"Name": 7, "Rules": []})");
  EXPECT_FALSE(l.acl);
  EXPECT_NE(l.error.find("no rule group with this ARN or name"), std::string::npos) << l.error;
}

// A number too large for a double is out_of_range, not a parse_error, and escaped the
// loader's catch.
TEST(WafFuzzRegressions, NumberOverflowIsALoadError) {
  AclLoad l;
  ASSERT_NO_THROW(l = load(R"({"Name": "acl", "x": 1e999})"));
  EXPECT_FALSE(l.acl);
  EXPECT_EQ(l.error.rfind("acl.json: not valid JSON: number overflow", 0), 0u) << l.error;
}

// A sampled request with a header that is not UTF-8 made the sample's JSON dump throw, so
// the proxy applied the failure policy (fail open) to a request a rule had just blocked.
TEST(WafFuzzRegressions, SamplingANonUtf8RequestDoesNotThrow) {
  AclLoad l = load(R"({"Name": "acl", "DefaultAction": {"Allow": {}}, "Rules": [
    {"Name": "block-x", "Priority": 0, "Action": {"Block": {}},
     "Statement": {"ByteMatchStatement": {"SearchString": "/x", "FieldToMatch": {"UriPath": {}},
       "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "EXACTLY"}}}]})");
  ASSERT_TRUE(l.acl) << l.error;
  http::Headers h;
  h.add("User-Agent", "caf\xe9");
  Verdict v;
  ASSERT_NO_THROW(v = evaluate(*l.acl, h, "/x"));
  EXPECT_EQ(v.action, Action::Block);
  const CompiledRule& rule = *l.acl->model().rules[0];
  ASSERT_EQ(rule.samples.size(), 1u);
  EXPECT_NE(rule.samples[0].find("caf\xef\xbf\xbd"), std::string::npos) << rule.samples[0];
}

// Deep nesting overflowed the stack: json::dump() of the document (an unknown member is
// kept) and the statement compiler recurse once per level. Documents are bounded at 128.
TEST(WafFuzzRegressions, DeepNestingIsALoadError) {
  const std::string head = R"({"Name": "acl", "DefaultAction": {"Allow": {}}, "Rules": [], )";
  AclLoad l =
      load(head + R"("Junk": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}");
  EXPECT_FALSE(l.acl);
  // The root object is level 1, so the 128th '[' opens level 129.
  const size_t column = head.size() + std::string_view(R"("Junk": )").size() + 128;
  EXPECT_EQ(l.error, "acl.json:1:" + std::to_string(column) + ": nested more than 128 levels deep");

  auto nots = [](int levels) {
    std::string s = R"({"Name": "acl", "DefaultAction": {"Allow": {}}, "Rules": [{"Name": "r",
      "Priority": 0, "Action": {"Block": {}}, "Statement": )";
    for (int i = 0; i < levels; ++i) s += R"({"NotStatement": {"Statement": )";
    s += R"({"LabelMatchStatement": {"Scope": "LABEL", "Key": "a"}})";
    for (int i = 0; i < levels; ++i) s += "}}";
    return s + "}]}";
  };
  l = load(nots(20'000));
  EXPECT_FALSE(l.acl);
  EXPECT_NE(l.error.find("nested more than 128 levels deep"), std::string::npos) << l.error;
  // Sixty nested NOTs still load: an odd number of them matches a request without labels.
  l = load(nots(61));
  ASSERT_TRUE(l.acl) << l.error;
  http::Headers h;
  EXPECT_EQ(evaluate(*l.acl, h).action, Action::Block);
}

// A token sealed with the right key but cut short inside the client address: the reader
// copied zero bytes from a null pointer (undefined behaviour, reported by UBSan) before
// refusing it. Found by fuzz/challenge_endpoint_fuzz.cc, which seals fuzz blobs itself.
TEST(WafFuzzRegressions, TokenCutShortInTheAddressIsRefused) {
  const std::string key(32, 'k');
  ChallengeService svc(ChallengeOptions{key, {}, 16});
  std::string blob(1, '\x01');    // version
  blob += std::string(24, '\0');  // issued, challenge and CAPTCHA times
  blob += '\x04';                 // an IPv4 address follows... but does not
  http::Headers h;
  h.add("Cookie",
        "aws-waf-token=" + challenge_detail::seal(challenge_detail::derive_keys(key).token, blob));
  Request r{*parse_ip("192.0.2.1"), "GET", "/", "", h, "", {}, {}, "t", false, kNow};
  TokenTimes t = svc.token(r);
  EXPECT_EQ(t.challenge_solved_ms, 0);
  EXPECT_EQ(t.captcha_solved_ms, 0);
}

}  // namespace
}  // namespace eg::waf
