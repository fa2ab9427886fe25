// The WAFv2 JSON API without sockets: each operation's shape as boto3/the CLI read it, the
// lock token flow (a stale token is refused and changes nothing), AWS's error shapes, and
// the operators' temporary blocks.
#include "admin/wafv2_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "admin/waf_blocks.h"
#include "waf/acl.h"
#include "waf/model.h"
#include "waf/state.h"

namespace eg::admin {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kSetId = "1a2b3c4d-5e6f-7890-abcd-ef1234567890";
constexpr const char* kSetArn =
    "arn:aws:wafv2:us-east-1:111122223333:global/ipset/blocklist/"
    "1a2b3c4d-5e6f-7890-abcd-ef1234567890";
constexpr const char* kAclId = "a1b2c3d4-0000-4000-8000-000000000001";
constexpr const char* kAclArn =
    "arn:aws:wafv2:us-east-1:111122223333:global/webacl/edge/a1b2c3d4-0000-4000-8000-000000000001";
constexpr int64_t kNow = 1'760'000'000'000;  // a fixed wall clock (ms)

// A web ACL: block the IP set `blocklist`, block /admin (a text SearchString), and two
// rate-based rules on /burst (one by address, one by a header).
std::string acl_document() {
  return R"({
  "Name": "edge", "Id": ")" +
         std::string(kAclId) + R"(", "ARN": ")" + kAclArn + R"(",
  "DefaultAction": {"Allow": {}},
  "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "edge"},
  "Rules": [
    {"Name": "block-listed", "Priority": 0, "Action": {"Block": {}},
     "Statement": {"IPSetReferenceStatement": {"ARN": ")" +
         kSetArn + R"("}},
     "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "blocklisted"}},
    {"Name": "no-admin", "Priority": 1, "Action": {"Block": {}},
     "Statement": {"ByteMatchStatement": {"SearchString": "/admin", "FieldToMatch": {"UriPath": {}},
        "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}},
     "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "noadmin"}},
    {"Name": "burst", "Priority": 2, "Action": {"Block": {}},
     "Statement": {"RateBasedStatement": {"Limit": 10, "EvaluationWindowSec": 60, "AggregateKeyType": "IP",
        "ScopeDownStatement": {"ByteMatchStatement": {"SearchString": "/burst", "FieldToMatch": {"UriPath": {}},
          "TextTransformations": [{"Priority": 0, "Type": "NONE"}], "PositionalConstraint": "STARTS_WITH"}}}},
     "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "burst"}},
    {"Name": "burst-by-header", "Priority": 3, "Action": {"Count": {}},
     "Statement": {"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
        "CustomKeys": [{"Header": {"Name": "x-api-key", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]}},
     "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "burstkey"}}
  ]})";
}

std::string set_document(const std::string& addresses) {
  return R"({"Name": "blocklist", "Id": ")" + std::string(kSetId) + R"(", "ARN": ")" + kSetArn +
         R"(", "Description": "abusive clients", "IPAddressVersion": "IPV4", "Addresses": )" +
         addresses + "}";
}

class Wafv2Api : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "eg-wafv2-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    set_file_ = (dir_ / "blocklist.json").string();
    std::ofstream(set_file_) << set_document(R"(["192.0.2.0/24"])");
    waf::AclInput in;
    in.web_acl = {"acl.json", acl_document()};
    in.ip_sets = {{set_file_, set_document(R"(["192.0.2.0/24"])")}};
    in.ip_sets.push_back({(dir_ / "v6.json").string(),
                          R"({"Name": "v6list", "Id": "v6", "IPAddressVersion": "IPV6",
                              "Addresses": ["2001:db8::/32"]})"});
    in.ip_sets.push_back({(dir_ / "regional.json").string(),
                          R"({"Name": "partners", "Id": "r1", "IPAddressVersion": "IPV4",
                              "ARN": "arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/partners/r1",
                              "Addresses": []})"});
    auto loaded = waf::load_acl(in, state_);
    ASSERT_TRUE(loaded.acl) << loaded.error;
    acl_ = loaded.acl;
    ctx_.acl = acl_.get();
    ctx_.state = state_.get();
    ctx_.now_ms = kNow;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Calls an operation; returns the response with its body parsed.
  std::pair<Wafv2Response, json> call(const std::string& op, const json& params) {
    auto r = handle_wafv2("AWSWAF_20190729." + op, params.dump(), ctx_);
    json body = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(body.is_object()) << r.body;
    return {r, body};
  }

  // Evaluates a GET from `ip` at the test clock; returns the HTTP status the ACL answers.
  int request(const char* ip, const char* path = "/", int64_t at = kNow) {
    http::Headers headers;
    headers.add("Host", "example.com");
    headers.add("User-Agent", "unit-test");
    waf::Request r{*waf::parse_ip(ip), "GET", path, "", headers, "", "", "", "req-1", false, at};
    auto v = acl_->evaluate(r);
    return v.response ? v.response->status : 200;
  }

  json get_set() {
    auto [r, body] =
        call("GetIPSet", {{"Name", "blocklist"}, {"Scope", "CLOUDFRONT"}, {"Id", kSetId}});
    EXPECT_EQ(r.status, 200) << r.body;
    return body;
  }

  fs::path dir_;
  std::string set_file_;
  std::shared_ptr<waf::WafState> state_ = std::make_shared<waf::WafState>();
  std::shared_ptr<const waf::Acl> acl_;
  WafApiContext ctx_;
};

TEST_F(Wafv2Api, GetIPSetHasAwsShapeAndALockToken) {
  json body = get_set();
  EXPECT_EQ(body["IPSet"], json({{"Name", "blocklist"},
                                 {"Id", kSetId},
                                 {"ARN", kSetArn},
                                 {"Description", "abusive clients"},
                                 {"IPAddressVersion", "IPV4"},
                                 {"Addresses", {"192.0.2.0/24"}}}));
  std::string token = body["LockToken"];
  EXPECT_EQ(token.size(), 36u);
  EXPECT_EQ(get_set()["LockToken"], token) << "reading does not change the token";
}

TEST_F(Wafv2Api, ListIPSetsPerScopeWithPaging) {
  auto [r, body] = call("ListIPSets", {{"Scope", "CLOUDFRONT"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(body["IPSets"].size(), 2u) << body;
  EXPECT_FALSE(body.contains("NextMarker"));
  std::set<std::string> names;
  for (const auto& s : body["IPSets"]) {
    names.insert(s["Name"].get<std::string>());
    EXPECT_EQ(s["LockToken"].get<std::string>().size(), 36u);
    EXPECT_TRUE(s.contains("Id") && s.contains("ARN"));
  }
  EXPECT_EQ(names, (std::set<std::string>{"blocklist", "v6list"}));

  auto [r1, page1] = call("ListIPSets", {{"Scope", "CLOUDFRONT"}, {"Limit", 1}});
  ASSERT_EQ(page1["IPSets"].size(), 1u);
  ASSERT_TRUE(page1.contains("NextMarker"));
  auto [r2, page2] = call(
      "ListIPSets", {{"Scope", "CLOUDFRONT"}, {"Limit", 1}, {"NextMarker", page1["NextMarker"]}});
  ASSERT_EQ(page2["IPSets"].size(), 1u);
  EXPECT_NE(page1["IPSets"][0]["Name"], page2["IPSets"][0]["Name"]);
  EXPECT_FALSE(page2.contains("NextMarker"));

  auto [rr, regional] = call("ListIPSets", {{"Scope", "REGIONAL"}});
  ASSERT_EQ(regional["IPSets"].size(), 1u);
  EXPECT_EQ(regional["IPSets"][0]["Id"], "r1");
}

TEST_F(Wafv2Api, UpdateWithTheTokenTakesEffectAndAStaleTokenIsRefused) {
  EXPECT_EQ(request("203.0.113.7"), 200);
  std::string token = get_set()["LockToken"];
  auto [r, body] = call("UpdateIPSet", {{"Name", "blocklist"},
                                        {"Scope", "CLOUDFRONT"},
                                        {"Id", kSetId},
                                        {"LockToken", token},
                                        {"Addresses", {"203.0.113.7/32", "192.0.2.0/24"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string next = body["NextLockToken"];
  EXPECT_NE(next, token);
  EXPECT_EQ(request("203.0.113.7"), 403) << "the new address is blocked at once";
  json now = get_set();
  EXPECT_EQ(now["LockToken"], next);
  EXPECT_EQ(now["IPSet"]["Addresses"], json({"203.0.113.7/32", "192.0.2.0/24"}));
  EXPECT_EQ(now["IPSet"]["Description"], "abusive clients") << "kept when not given";

  // The old token again: refused with AWS's exception and message; nothing changes.
  auto [stale, err] = call("UpdateIPSet", {{"Name", "blocklist"},
                                           {"Scope", "CLOUDFRONT"},
                                           {"Id", kSetId},
                                           {"LockToken", token},
                                           {"Addresses", json::array()}});
  EXPECT_EQ(stale.status, 400);
  EXPECT_EQ(stale.error_type, "WAFOptimisticLockException");
  EXPECT_EQ(err["__type"], "WAFOptimisticLockException");
  EXPECT_EQ(err["Message"],
            "AWS WAF couldn’t save your changes because you tried to update or delete a "
            "resource that has changed since you last retrieved it. Get the resource again, "
            "make any changes you need, and retry your request.");
  EXPECT_EQ(request("203.0.113.7"), 403);
  EXPECT_EQ(get_set()["LockToken"], next);
}

TEST_F(Wafv2Api, UpdateRewritesTheSetFileAtomically) {
  std::string token = get_set()["LockToken"];
  auto [r, body] = call("UpdateIPSet", {{"Name", "blocklist"},
                                        {"Scope", "CLOUDFRONT"},
                                        {"Id", kSetId},
                                        {"LockToken", token},
                                        {"Description", "updated by the API"},
                                        {"Addresses", {"198.51.100.0/24"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::ifstream f(set_file_);
  std::stringstream text;
  text << f.rdbuf();
  json file = json::parse(text.str());
  EXPECT_EQ(file["Addresses"], json({"198.51.100.0/24"}));
  EXPECT_EQ(file["Description"], "updated by the API");
  EXPECT_EQ(file["Id"], kSetId);
  EXPECT_FALSE(fs::exists(set_file_ + ".tmp"));
}

TEST_F(Wafv2Api, InvalidAddressesAreRefusedWithFieldParameterAndReason) {
  std::string token = get_set()["LockToken"];
  auto update = [&](json addresses) {
    return call("UpdateIPSet", {{"Name", "blocklist"},
                                {"Scope", "CLOUDFRONT"},
                                {"Id", kSetId},
                                {"LockToken", token},
                                {"Addresses", addresses}});
  };
  for (const char* bad : {"192.0.2.1/33", "not-an-address", "300.1.1.1/32", "0.0.0.0/0"}) {
    auto [r, err] = update({"203.0.113.7/32", bad});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(err["__type"], "WAFInvalidParameterException") << bad;
    EXPECT_EQ(err["Field"], "IP_ADDRESS") << bad;
    EXPECT_EQ(err["Parameter"], bad);
    EXPECT_TRUE(err["Reason"].is_string() && err["message"].is_string()) << err;
  }
  auto [r6, err6] = update({"2001:db8::/32"});
  EXPECT_EQ(err6["Field"], "IP_ADDRESS_VERSION") << err6;
  auto [rt, errt] = update({42});
  EXPECT_EQ(errt["__type"], "WAFInvalidParameterException");
  // Nothing was applied, and the token still works.
  EXPECT_EQ(get_set()["IPSet"]["Addresses"], json({"192.0.2.0/24"}));
  EXPECT_EQ(get_set()["LockToken"], token);
}

TEST_F(Wafv2Api, UnknownSetOrWrongScopeIsNonexistent) {
  for (json params : {json{{"Name", "blocklist"}, {"Scope", "CLOUDFRONT"}, {"Id", "nope"}},
                      json{{"Name", "other"}, {"Scope", "CLOUDFRONT"}, {"Id", kSetId}},
                      json{{"Name", "blocklist"}, {"Scope", "REGIONAL"}, {"Id", kSetId}}}) {
    auto [r, err] = call("GetIPSet", params);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(err["__type"], "WAFNonexistentItemException") << params;
    EXPECT_TRUE(err["Message"].get<std::string>().starts_with("AWS WAF couldn’t perform"));
  }
  auto [r, err] = call("UpdateIPSet", {{"Name", "blocklist"},
                                       {"Scope", "CLOUDFRONT"},
                                       {"Id", "nope"},
                                       {"LockToken", "x"},
                                       {"Addresses", json::array()}});
  EXPECT_EQ(err["__type"], "WAFNonexistentItemException");
}

TEST_F(Wafv2Api, UpdateKeepsTheExpiryOfTemporaryAddressesThatStay) {
  std::string why;
  auto set = state_->find_ip_set("blocklist");
  ASSERT_TRUE(set->add("203.0.113.9/32", kNow + 60'000, why)) << why;
  json got = get_set();
  json addresses = got["IPSet"]["Addresses"];
  addresses.push_back("198.51.100.1/32");
  auto [r, body] = call("UpdateIPSet", {{"Name", "blocklist"},
                                        {"Scope", "CLOUDFRONT"},
                                        {"Id", kSetId},
                                        {"LockToken", got["LockToken"]},
                                        {"Addresses", addresses}});
  ASSERT_EQ(r.status, 200) << r.body;
  state_->tick(kNow + 61'000);
  EXPECT_EQ(get_set()["IPSet"]["Addresses"], json({"192.0.2.0/24", "198.51.100.1/32"}))
      << "the temporary block still left on time";
}

TEST_F(Wafv2Api, GetWebACLReturnsTheDocumentInApiForm) {
  auto [r, body] = call("GetWebACL", {{"Name", "edge"}, {"Scope", "CLOUDFRONT"}, {"Id", kAclId}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json& acl = body["WebACL"];
  EXPECT_EQ(acl["Name"], "edge");
  EXPECT_EQ(acl["Id"], kAclId);
  EXPECT_EQ(acl["ARN"], kAclArn);
  EXPECT_EQ(acl["DefaultAction"], json({{"Allow", json::object()}}));
  ASSERT_EQ(acl["Rules"].size(), 4u);
  // The file held text; the API's blob is base64 ("/admin").
  EXPECT_EQ(acl["Rules"][1]["Statement"]["ByteMatchStatement"]["SearchString"], "L2FkbWlu");
  std::string token = body["LockToken"];
  EXPECT_EQ(token.size(), 36u);
  auto [r2, again] = call("GetWebACL", {{"Name", "edge"}, {"Scope", "CLOUDFRONT"}, {"Id", kAclId}});
  EXPECT_EQ(again["LockToken"], token);

  auto [r3, err] = call("GetWebACL", {{"Name", "edge"}, {"Scope", "CLOUDFRONT"}, {"Id", "other"}});
  EXPECT_EQ(err["__type"], "WAFNonexistentItemException");
  ctx_.acl = nullptr;
  auto [r4, none] = call("GetWebACL", {{"Name", "edge"}, {"Scope", "CLOUDFRONT"}, {"Id", kAclId}});
  EXPECT_EQ(none["__type"], "WAFNonexistentItemException");
}

TEST_F(Wafv2Api, SampledRequestsOfTheRuleWithinTheWindow) {
  EXPECT_EQ(request("192.0.2.5", "/shop", kNow - 10'000), 403);
  EXPECT_EQ(request("192.0.2.6", "/cart", kNow - 5'000), 403);
  EXPECT_EQ(request("198.51.100.1", "/admin/users", kNow - 5'000), 403);
  json window = {{"StartTime", double(kNow - 60'000) / 1000}, {"EndTime", double(kNow) / 1000}};
  auto sampled = [&](const std::string& metric, json w, int max_items = 100) {
    return call("GetSampledRequests", {{"WebAclArn", kAclArn},
                                       {"RuleMetricName", metric},
                                       {"Scope", "CLOUDFRONT"},
                                       {"TimeWindow", w},
                                       {"MaxItems", max_items}});
  };
  auto [r, body] = sampled("blocklisted", window);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(body["SampledRequests"].size(), 2u) << body;
  EXPECT_EQ(body["PopulationSize"], 2);
  const json& first = body["SampledRequests"][0];
  EXPECT_EQ(first["Request"]["ClientIP"], "192.0.2.5");
  EXPECT_EQ(first["Request"]["URI"], "/shop");
  EXPECT_EQ(first["Request"]["Method"], "GET");
  EXPECT_EQ(first["Action"], "BLOCK");
  EXPECT_EQ(first["Weight"], 1);
  EXPECT_EQ(first["ResponseCodeSent"], 403);
  EXPECT_TRUE(first["Timestamp"].is_number());
  EXPECT_EQ(body["TimeWindow"], window);

  auto [rm, one] = sampled("blocklisted", window, 1);
  ASSERT_EQ(one["SampledRequests"].size(), 1u);
  EXPECT_EQ(one["SampledRequests"][0]["Request"]["ClientIP"], "192.0.2.6") << "the latest";
  EXPECT_EQ(one["PopulationSize"], 2);

  json earlier = {{"StartTime", double(kNow - 60'000) / 1000},
                  {"EndTime", double(kNow - 7'000) / 1000}};
  auto [re, part] = sampled("blocklisted", earlier);
  EXPECT_EQ(part["SampledRequests"].size(), 1u);

  auto [ra, all] = sampled("edge", window);  // the web ACL's own metric: every rule
  EXPECT_EQ(all["SampledRequests"].size(), 3u);

  auto [ru, unknown] = sampled("nope", window);
  EXPECT_EQ(unknown["__type"], "WAFNonexistentItemException");
  auto [rb, bad] = sampled("blocklisted", {{"StartTime", 10}});
  EXPECT_EQ(bad["__type"], "WAFInvalidParameterException");
  auto [rw, wrong] =
      call("GetSampledRequests", {{"WebAclArn", "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"},
                                  {"RuleMetricName", "blocklisted"},
                                  {"Scope", "CLOUDFRONT"},
                                  {"TimeWindow", window},
                                  {"MaxItems", 10}});
  EXPECT_EQ(wrong["__type"], "WAFNonexistentItemException");
}

TEST_F(Wafv2Api, ManagedKeysListTheLimitedAddresses) {
  for (int i = 0; i < 12; ++i) request("198.51.100.7", "/burst", kNow - 2'000 + i);
  for (int i = 0; i < 3; ++i) request("198.51.100.8", "/burst", kNow - 2'000 + i);
  json params = {
      {"Scope", "CLOUDFRONT"}, {"WebACLName", "edge"}, {"WebACLId", kAclId}, {"RuleName", "burst"}};
  auto [r, body] = call("GetRateBasedStatementManagedKeys", params);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      body,
      json({{"ManagedKeysIPV4", {{"IPAddressVersion", "IPV4"}, {"Addresses", {"198.51.100.7/32"}}}},
            {"ManagedKeysIPV6", {{"IPAddressVersion", "IPV6"}, {"Addresses", json::array()}}}}));
  EXPECT_EQ(request("198.51.100.7", "/burst"), 403);

  params["RuleName"] = "no-admin";
  auto [rn, not_rate] = call("GetRateBasedStatementManagedKeys", params);
  EXPECT_EQ(not_rate["__type"], "WAFInvalidParameterException");
  params["RuleName"] = "burst-by-header";
  auto [rc, custom] = call("GetRateBasedStatementManagedKeys", params);
  EXPECT_EQ(custom["__type"], "WAFInvalidOperationException");
  params["RuleName"] = "missing";
  auto [rm, missing] = call("GetRateBasedStatementManagedKeys", params);
  EXPECT_EQ(missing["__type"], "WAFNonexistentItemException");
}

TEST_F(Wafv2Api, ProtocolErrors) {
  auto r = handle_wafv2("AWSWAF_20190729.DeleteWebACL", "{}", ctx_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_type, "UnknownOperationException");
  EXPECT_EQ(handle_wafv2("", "{}", ctx_).error_type, "UnknownOperationException");
  EXPECT_EQ(handle_wafv2("OtherService.GetIPSet", "{}", ctx_).error_type,
            "UnknownOperationException");
  for (const char* body : {"not json", "[1,2]", "\"text\"", "{\"Scope\":", "\xff\xfe"})
    EXPECT_EQ(handle_wafv2("AWSWAF_20190729.ListIPSets", body, ctx_).error_type,
              "SerializationException")
        << body;
  auto [rs, scope] = call("ListIPSets", {{"Scope", "GLOBAL"}});
  EXPECT_EQ(scope["__type"], "WAFInvalidParameterException");
  EXPECT_EQ(scope["Field"], "SCOPE_VALUE");
  auto [rm, missing] = call("GetIPSet", {{"Name", "blocklist"}, {"Id", kSetId}});
  EXPECT_EQ(missing["Field"], "SCOPE_VALUE");
  // Wrong types everywhere: an error, never a crash.
  for (const char* op : {"ListIPSets", "GetIPSet", "UpdateIPSet", "GetWebACL", "GetSampledRequests",
                         "GetRateBasedStatementManagedKeys"}) {
    json junk = {{"Name", 1},      {"Scope", json::array()}, {"Id", nullptr},
                 {"Limit", "ten"}, {"Addresses", "x"},       {"TimeWindow", 3},
                 {"MaxItems", -1}, {"WebACLName", true},     {"LockToken", 1.5}};
    auto r2 = handle_wafv2(std::string("AWSWAF_20190729.") + op, junk.dump(), ctx_);
    EXPECT_EQ(r2.status, 400) << op << " " << r2.body;
  }
}

// ---- the operators' REST calls -----------------------------------------------------------

TEST_F(Wafv2Api, TemporaryBlockLeavesTheSetOnTime) {
  auto added = handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                                R"({"address": "203.0.113.7", "ttl": "2s"})", ctx_);
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200) << added->body;
  json a = json::parse(added->body);
  EXPECT_EQ(a["address"], "203.0.113.7/32") << "a bare address is a /32";
  EXPECT_EQ(a["expires_ms"], kNow + 2'000);
  EXPECT_EQ(request("203.0.113.7"), 403);

  auto listed = handle_waf_admin("GET", "/waf/ip-sets", "", ctx_);
  json sets = json::parse(listed->body)["ip_sets"];
  json blocklist;
  for (const auto& s : sets)
    if (s["id"] == kSetId) blocklist = s;
  ASSERT_TRUE(blocklist.is_object()) << sets;
  EXPECT_EQ(blocklist["addresses"][0], json({{"address", "192.0.2.0/24"}, {"expires", nullptr}}));
  EXPECT_EQ(blocklist["addresses"][1]["address"], "203.0.113.7/32");
  EXPECT_EQ(blocklist["addresses"][1]["expires_in_seconds"], 2);
  EXPECT_EQ(blocklist["addresses"][1]["expires"], "2025-10-09T08:53:22Z");

  state_->tick(kNow + 1'000);
  EXPECT_EQ(request("203.0.113.7"), 403);
  state_->tick(kNow + 2'000);
  EXPECT_EQ(request("203.0.113.7"), 200);
}

TEST_F(Wafv2Api, ATemporaryBlockNeverShortensAPermanentOne) {
  auto added = handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                                R"({"address": "192.0.2.0/24", "ttl": 1})", ctx_);
  ASSERT_EQ(added->status, 200) << added->body;
  EXPECT_TRUE(json::parse(added->body)["expires"].is_null());
  state_->tick(kNow + 5'000);
  EXPECT_EQ(request("192.0.2.1"), 403);
  // A temporary one is extended (or shortened) by the latest call.
  handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                   R"({"address": "203.0.113.7", "ttl": "1s"})", ctx_);
  handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                   R"({"address": "203.0.113.7", "ttl": "1m"})", ctx_);
  state_->tick(kNow + 5'000);
  EXPECT_EQ(request("203.0.113.7"), 403);
  state_->tick(kNow + 60'000);
  EXPECT_EQ(request("203.0.113.7"), 200);
}

TEST_F(Wafv2Api, PermanentBlockAndRemoval) {
  auto added = handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                                R"({"address": "203.0.113.0/28"})", ctx_);
  ASSERT_EQ(added->status, 200) << added->body;
  EXPECT_TRUE(json::parse(added->body)["expires"].is_null());
  state_->tick(kNow + 86'400'000);
  EXPECT_EQ(request("203.0.113.5"), 403);
  auto removed =
      handle_waf_admin("DELETE", "/waf/ip-sets/blocklist/addresses/203.0.113.0%2F28", "", ctx_);
  ASSERT_EQ(removed->status, 200) << removed->body;
  EXPECT_EQ(request("203.0.113.5"), 200);
  auto again =
      handle_waf_admin("DELETE", "/waf/ip-sets/blocklist/addresses/203.0.113.0%2F28", "", ctx_);
  EXPECT_EQ(again->status, 404);
}

TEST_F(Wafv2Api, RestErrorsSayWhatIsWrong) {
  auto status = [&](const char* method, const char* path, const char* body) {
    auto r = handle_waf_admin(method, path, body, ctx_);
    return r ? r->status : 0;
  };
  EXPECT_EQ(status("POST", "/waf/ip-sets/nope/addresses", R"({"address": "203.0.113.7"})"), 404);
  EXPECT_EQ(status("POST", "/waf/ip-sets/blocklist/addresses", R"({"address": "2001:db8::1"})"),
            400);
  EXPECT_EQ(status("POST", "/waf/ip-sets/blocklist/addresses", R"({"address": "1.2.3.4/40"})"),
            400);
  EXPECT_EQ(status("POST", "/waf/ip-sets/blocklist/addresses",
                   R"({"address": "1.2.3.4", "ttl": "soon"})"),
            400);
  EXPECT_EQ(
      status("POST", "/waf/ip-sets/blocklist/addresses", R"({"address": "1.2.3.4", "ttl": -5})"),
      400);
  EXPECT_EQ(status("POST", "/waf/ip-sets/blocklist/addresses", "garbage"), 400);
  EXPECT_EQ(status("GET", "/waf/ip-sets/blocklist/addresses", ""), 405);
  EXPECT_EQ(status("POST", "/waf/ip-sets", ""), 405);
  EXPECT_EQ(status("GET", "/waf/nothing", ""), 404);
  EXPECT_EQ(status("GET", "/other", ""), 0) << "not a WAF path: the caller answers";
  EXPECT_EQ(status("POST", "/waf/ip-sets/v6list/addresses", R"({"address": "2001:db8:1::1"})"),
            200);
  // The set by its Id or url-encoded ARN works as well as by name.
  EXPECT_EQ(status("POST", (std::string("/waf/ip-sets/") + kSetId + "/addresses").c_str(),
                   R"({"address": "203.0.113.8"})"),
            200);
  EXPECT_EQ(request("192.0.2.1"), 403) << "nothing else changed";
}

TEST_F(Wafv2Api, ANameSharedByTwoScopesNeedsTheArn) {
  auto regional = std::make_shared<waf::IpSetHandle>();
  regional->name = "blocklist";
  regional->id = "r2";
  regional->arn = "arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/blocklist/r2";
  state_->adopt_ip_set(regional);
  auto r = handle_waf_admin("POST", "/waf/ip-sets/blocklist/addresses",
                            R"({"address": "203.0.113.7"})", ctx_);
  EXPECT_EQ(r->status, 409);
  EXPECT_NE(r->body.find(regional->arn), std::string::npos) << r->body;
  EXPECT_EQ(request("203.0.113.7"), 200) << "nothing was picked for the operator";
  std::string by_arn =
      "/waf/ip-sets/arn%3Aaws%3Awafv2%3Aus-east-1%3A111122223333%3Aglobal%2Fipset%2F"
      "blocklist%2F" +
      std::string(kSetId) + "/addresses";
  r = handle_waf_admin("POST", by_arn, R"({"address": "203.0.113.7"})", ctx_);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(request("203.0.113.7"), 403);
}

TEST_F(Wafv2Api, RateLimitedListsEveryRateRule) {
  for (int i = 0; i < 11; ++i) request("198.51.100.7", "/burst", kNow - 1'000 + i);
  auto r = handle_waf_admin("GET", "/waf/rate-limited", "", ctx_);
  ASSERT_EQ(r->status, 200);
  json rules = json::parse(r->body)["rules"];
  ASSERT_EQ(rules.size(), 2u) << rules;
  EXPECT_EQ(
      rules[0],
      json({{"rule", "burst"}, {"limit", 10}, {"window_seconds", 60}, {"keys", {"198.51.100.7"}}}));
  EXPECT_EQ(rules[1]["rule"], "burst-by-header");
  EXPECT_EQ(rules[1]["keys"], json::array());
}

}  // namespace
}  // namespace eg::admin
