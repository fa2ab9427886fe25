#include "functions/headers_rules.h"

#include <gtest/gtest.h>

namespace eg::functions {
namespace {

TEST(HeadersRules, TitleCaseAndLists) {
  EXPECT_EQ(title_case_header("user-agent"), "User-Agent");
  EXPECT_EQ(title_case_header("x-amz-date"), "X-Amz-Date");
  EXPECT_EQ(title_case_header("WWW-authenticate"), "Www-Authenticate");
  EXPECT_TRUE(is_disallowed_header("X-Amz-Cf-Pop"));
  EXPECT_TRUE(is_disallowed_header("x-edge-location"));
  EXPECT_TRUE(is_disallowed_header("Connection"));
  EXPECT_FALSE(is_disallowed_header("x-amz-date"));
  EXPECT_TRUE(is_read_only_header(EventType::ViewerRequest, "Host"));
  EXPECT_FALSE(is_read_only_header(EventType::OriginRequest, "Host"));
  EXPECT_TRUE(is_read_only_header(EventType::ViewerResponse, "warning"));
}

TEST(HeadersRules, NamesValuesAndBase64) {
  EXPECT_TRUE(is_ip_literal("192.0.2.1"));
  EXPECT_TRUE(is_ip_literal("[2001:db8::1]"));
  EXPECT_FALSE(is_ip_literal("example.com"));
  EXPECT_TRUE(is_dns_name("my-bucket.s3.amazonaws.com"));
  EXPECT_FALSE(is_dns_name("-bad.example"));
  EXPECT_FALSE(is_dns_name("a..b"));
  EXPECT_EQ(find_invalid_value_char("ok\tvalue"), std::string::npos);
  EXPECT_EQ(find_invalid_value_char("a\rb"), 1u);
  EXPECT_EQ(describe_byte('\r'), "'%0D' (CR)");
  EXPECT_TRUE(is_strict_base64("aGk="));
  EXPECT_FALSE(is_strict_base64("aGk"));
  EXPECT_FALSE(is_strict_base64("a=Gk"));
  EXPECT_FALSE(is_strict_base64("aG k"));
  std::string out;
  append_json_string(out, std::string("a\"\\\n\x01\xe9\xc3\xa9", 8));
  EXPECT_EQ(out, "\"a\\\"\\\\\\n\\u0001\xc3\xa9\xc3\xa9\"");
}

}  // namespace
}  // namespace eg::functions
