#include "origin/ipranges_document.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace eg::origin {
namespace {

const char* kSmall = R"({
  "syncToken": "1787411825",
  "createDate": "2026-08-22-15-17-05",
  "prefixes": [
    {"ip_prefix": "13.32.0.0/15", "region": "GLOBAL", "service": "CLOUDFRONT", "network_border_group": "GLOBAL"},
    {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2", "future_field": 1}
  ],
  "ipv6_prefixes": [
    {"ipv6_prefix": "2600:9000::/28", "region": "GLOBAL", "service": "CLOUDFRONT", "network_border_group": "GLOBAL"}
  ]
})";

std::string errors_of(const DocumentResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

std::string with_prefixes(const std::string& prefixes, const std::string& v6 = "[]") {
  return R"({"syncToken": "1", "createDate": "2026-08-22-15-17-05", "prefixes": )" + prefixes +
         R"(, "ipv6_prefixes": )" + v6 + "}";
}

TEST(IprangesDocument, ParsesTheDocument) {
  auto r = parse_document(kSmall);
  ASSERT_TRUE(r.document) << errors_of(r);
  const Document& d = *r.document;
  EXPECT_EQ(d.sync_token, "1787411825");
  EXPECT_EQ(d.create_date, "2026-08-22-15-17-05");
  ASSERT_EQ(d.prefixes.size(), 2u);
  EXPECT_EQ(d.prefixes[0].prefix.to_string(), "13.32.0.0/15");
  EXPECT_EQ(d.prefixes[0].region, "GLOBAL");
  EXPECT_EQ(d.prefixes[1].service, "AMAZON");
  EXPECT_EQ(d.prefixes[1].network_border_group, "ap-northeast-2");
  ASSERT_EQ(d.ipv6_prefixes.size(), 1u);
  EXPECT_EQ(d.ipv6_prefixes[0].prefix.to_string(), "2600:9000::/28");
  EXPECT_EQ(d.md5, md5_hex(kSmall));
  EXPECT_EQ(d.bytes, std::string(kSmall).size());
}

TEST(IprangesDocument, ErrorsNameThePath) {
  auto r = parse_document(with_prefixes(
      R"([{"ip_prefix": "1.2.3.0/24", "region": "GLOBAL", "service": "S"},
          {"ip_prefix": "1.2.3/24", "region": "GLOBAL", "service": "S"},
          {"ip_prefix": 5, "region": "GLOBAL", "service": "S"},
          {"region": "GLOBAL", "service": "S"},
          {"ip_prefix": "1.2.3.0/24", "region": ["x"], "service": "S"},
          {"ip_prefix": "1.2.3.0/24", "region": "GLOBAL", "service": "bad service"},
          "1.2.3.4/32",
          {"ip_prefix": "2600::/28", "region": "GLOBAL", "service": "S"}])",
      R"([{"ipv6_prefix": "1.2.3.0/24", "region": "GLOBAL", "service": "S"}])"));
  ASSERT_FALSE(r.document);
  std::string all = errors_of(r);
  EXPECT_NE(all.find("prefixes[1].ip_prefix: \"1.2.3/24\" is not an IPv4 prefix"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("prefixes[2].ip_prefix: expected a string, found the number 5"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("prefixes[3].ip_prefix: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("prefixes[4].region: expected a string, found an array"), std::string::npos)
      << all;
  EXPECT_NE(all.find("prefixes[5].service: \"bad service\" is not a code"), std::string::npos)
      << all;
  EXPECT_NE(all.find("prefixes[6]: expected an object, found the string \"1.2.3.4/32\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("prefixes[7].ip_prefix: \"2600::/28\" is not an IPv4 prefix"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("ipv6_prefixes[0].ipv6_prefix: \"1.2.3.0/24\" is not an IPv6 prefix"),
            std::string::npos)
      << all;
  EXPECT_EQ(r.errors.size(), 8u) << all;
}

TEST(IprangesDocument, TopLevelProblems) {
  auto r = parse_document("{\"syncToken\": 17, \"createDate\": \"yesterday\"}");
  std::string all = errors_of(r);
  EXPECT_NE(all.find("syncToken: expected a string, found the number 17"), std::string::npos)
      << all;
  EXPECT_NE(all.find("createDate: \"yesterday\" is not a date like"), std::string::npos) << all;
  EXPECT_NE(all.find("prefixes: missing"), std::string::npos) << all;

  r = parse_document(with_prefixes("{}"));
  EXPECT_NE(errors_of(r).find("prefixes: expected an array, found an object"), std::string::npos);
  r = parse_document("[1, 2]");
  EXPECT_NE(errors_of(r).find("expected an object with syncToken"), std::string::npos);
  r = parse_document("{\"syncToken\": \"1\",\n \"prefixes\": [,]}");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("not JSON: ", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("line 2"), std::string::npos) << r.errors[0];
  r = parse_document("");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("not JSON", 0), 0u);
}

TEST(IprangesDocument, Ipv6PrefixesMayBeAbsentButNotWrong) {
  auto r =
      parse_document(R"({"syncToken": "1", "createDate": "2014-11-19-23-29-02", "prefixes": []})");
  EXPECT_TRUE(r.document) << errors_of(r);
  r = parse_document(
      R"({"syncToken": "1", "createDate": "2014-11-19-23-29-02", "prefixes": [], "ipv6_prefixes": null})");
  EXPECT_NE(errors_of(r).find("ipv6_prefixes: expected an array, found null"), std::string::npos);
}

TEST(IprangesDocument, ListsTwentyProblemsThenCounts) {
  std::string list = "[";
  for (int i = 0; i < 30; ++i) list += std::string(i ? "," : "") + "1";
  list += "]";
  auto r = parse_document(with_prefixes(list));
  ASSERT_EQ(r.errors.size(), kMaxListedErrors + 1);
  EXPECT_EQ(r.errors.back(), "... and 10 more problem(s)");
}

TEST(IprangesNotification, TheMessageItself) {
  auto r = parse_notification(
      R"({"create-time":"2018-01-16-15-12-10","synctoken":"1516115530","md5":"1B16715F7378915B3843ECAA1231E13A","url":"https://ip-ranges.amazonaws.com/ip-ranges.json"})");
  ASSERT_TRUE(r.notification);
  EXPECT_EQ(r.notification->md5, "1b16715f7378915b3843ecaa1231e13a");
  EXPECT_EQ(r.notification->sync_token, "1516115530");
  EXPECT_EQ(r.notification->source, "message");
}

TEST(IprangesNotification, SnsEnvelopeAndLambdaEvent) {
  const char* msg =
      R"({\"create-time\":\"2026-08-22T15:17:05+00:00\",\"synctoken\":\"1787411825\",\"md5\":\"6a45316e8bc9463c9e926d5d37836d33\",\"url\":\"https://ip-ranges.amazonaws.com/ip-ranges.json\"})";
  std::string sns =
      std::string(
          R"({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged", "Subject": "IP Space Changed", "Message": ")") +
      msg + "\"}";
  auto r = parse_notification(sns);
  ASSERT_TRUE(r.notification) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.notification->source, "SNS envelope");
  EXPECT_EQ(r.notification->create_time, "2026-08-22T15:17:05+00:00");
  std::string lambda =
      std::string(
          R"({"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": ")") +
      msg + "\"}}]}";
  r = parse_notification(lambda);
  ASSERT_TRUE(r.notification);
  EXPECT_EQ(r.notification->source, "Lambda event");
  EXPECT_EQ(r.notification->sync_token, "1787411825");
}

TEST(IprangesNotification, ErrorsNameThePath) {
  auto r = parse_notification(
      R"({"Records": [{"Sns": {"Message": "{\"create-time\":\"x\",\"synctoken\":\"12a\",\"md5\":\"abc\",\"url\":\"ftp://x\"}"}}]})");
  ASSERT_FALSE(r.notification);
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_NE(all.find("Records[0].Sns.Message.create-time: \"x\" is not a time"), std::string::npos)
      << all;
  EXPECT_NE(all.find("Records[0].Sns.Message.synctoken: \"12a\""), std::string::npos) << all;
  EXPECT_NE(all.find("Records[0].Sns.Message.md5: \"abc\" is not an MD5 digest"), std::string::npos)
      << all;
  EXPECT_NE(all.find("Records[0].Sns.Message.url: \"ftp://x\" is not an http(s) URL"),
            std::string::npos)
      << all;

  r = parse_notification(R"({"Type": "SubscriptionConfirmation", "Message": "{}"})");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("Type: expected \"Notification\""), std::string::npos) << r.errors[0];
  r = parse_notification(R"({"Records": []})");
  EXPECT_NE(r.errors.at(0).find("Records: expected a non-empty array"), std::string::npos);
  r = parse_notification(R"({"Type": "Notification", "Message": {"md5": "x"}})");
  EXPECT_NE(r.errors.at(0).find("Message: expected the message as a JSON string"),
            std::string::npos);
  r = parse_notification(R"({"Type": "Notification", "Message": "not json"})");
  EXPECT_EQ(r.errors.at(0).rfind("Message: not JSON", 0), 0u) << r.errors.at(0);
}

TEST(IprangesNotification, Md5MismatchNamesBothHashes) {
  Document d;
  d.md5 = md5_hex("document bytes");
  Notification n;
  n.md5 = "1b16715f7378915b3843ecaa1231e13a";
  n.sync_token = "1516115530";
  auto e = check_md5(d, n);
  ASSERT_TRUE(e);
  EXPECT_NE(e->find(d.md5), std::string::npos);
  EXPECT_NE(e->find(n.md5), std::string::npos);
  n.md5 = d.md5;
  EXPECT_FALSE(check_md5(d, n));
}

std::string corpus(const std::string& name) {
  return std::string(EG_CORPORA_DIR) + "/ip-ranges/" + name;
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(IprangesCorpus, RealDocumentsParseAndTheNotificationMatches) {
  if (!std::filesystem::exists(corpus("ip-ranges-latest.json")))
    GTEST_SKIP() << "corpus absent: " << corpus("") << " (see ../shared/corpora/README.md)";
  auto latest = parse_document(read(corpus("ip-ranges-latest.json")));
  ASSERT_TRUE(latest.document) << errors_of(latest);
  EXPECT_EQ(latest.document->prefixes.size(), 10668u);
  EXPECT_EQ(latest.document->ipv6_prefixes.size(), 6160u);
  auto old = parse_document(read(corpus("ip-ranges-2018-01-16.json")));
  ASSERT_TRUE(old.document) << errors_of(old);
  EXPECT_TRUE(old.document->prefixes[0].network_border_group.empty());
  auto n = parse_notification(read(corpus("notification-2018-01-16.json")));
  ASSERT_TRUE(n.notification);
  EXPECT_FALSE(check_md5(*old.document, *n.notification));
  auto mismatch = check_md5(*latest.document, *n.notification);
  ASSERT_TRUE(mismatch);
  EXPECT_NE(mismatch->find("1b16715f7378915b3843ecaa1231e13a"), std::string::npos);
  EXPECT_NE(mismatch->find(latest.document->md5), std::string::npos);
}

}  // namespace
}  // namespace eg::origin
