#include "origin/ipranges_json_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace eg::origin {
namespace {

// Skips one whole value and requires the end: the reader's idea of "valid JSON".
bool accepts(std::string_view text) {
  JsonReader r(text);
  return r.skip_value() && r.finish();
}

TEST(JsonReader, AgreesWithNlohmannOnValidity) {
  const char* cases[] = {
      "{}",
      "[]",
      "0",
      "-0",
      "1.5e+10",
      "-12.25E-3",
      "\"\"",
      "true",
      "false",
      "null",
      " [1, 2 ,3 ] ",
      "{\"a\": {\"b\": [true, false, null, \"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\"]}}",
      "\"\\u00e9\\u20AC\\ud83d\\ude00\"",
      "\"é€😀\"",
      "\xEF\xBB\xBF{}",
      "[\"\\u0000\"]",
      // invalid
      "",
      " ",
      "{",
      "[1,]",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{a:1}",
      "01",
      "1.",
      ".5",
      "1e",
      "-",
      "+1",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\"a\nb\"",
      "\"\xC3\"",
      "\"\xC0\xAF\"",
      "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"",
      "tru",
      "nul",
      "[1 2]",
      "{} {}",
      "[1]]",
      "\"abc",
      "[\"a\",]",
      "{\"a\":}",
      "\xEF\xBB{}",
      "-77e11511511115",
      "1e309",
      "1e308",
      "123456789012345678901234567890",
      "4.9e-400",
  };
  for (const char* c : cases) {
    bool want = nlohmann::json::accept(c);
    EXPECT_EQ(accepts(c), want) << "input: " << c;
  }
}

TEST(JsonReader, ReadsObjectsArraysAndStrings) {
  JsonReader r(R"({"k": "v\u00e9", "list": [1, "two", {"x": null}], "n": -3})");
  std::string key, value;
  ASSERT_TRUE(r.begin_object());
  ASSERT_TRUE(r.next_key(key));
  EXPECT_EQ(key, "k");
  ASSERT_TRUE(r.read_string(value));
  EXPECT_EQ(value, "v\xC3\xA9");
  ASSERT_TRUE(r.next_key(key));
  EXPECT_EQ(key, "list");
  ASSERT_TRUE(r.begin_array());
  std::vector<std::string> seen;
  while (r.next_element()) seen.push_back(r.describe_and_skip());
  EXPECT_EQ(seen, (std::vector<std::string>{"the number 1", "the string \"two\"", "an object"}));
  ASSERT_TRUE(r.next_key(key));
  EXPECT_EQ(r.describe_and_skip(), "the number -3");
  EXPECT_FALSE(r.next_key(key));
  EXPECT_TRUE(r.finish());
  EXPECT_FALSE(r.failed());
}

TEST(JsonReader, ErrorsSayWhere) {
  JsonReader r("{\n  \"a\": [1,\n  ]\n}");
  r.skip_value();
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error(), "line 3, column 3: expected a value, found ']'");
  JsonReader s("[\"a\" \"b\"]");
  s.skip_value();
  EXPECT_EQ(s.error(), "line 1, column 6: expected ',' or ']', found '\"'");
}

TEST(JsonReader, DeepNestingIsSkippedWithoutRecursion) {
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  EXPECT_TRUE(accepts(deep));
  deep.pop_back();
  EXPECT_FALSE(accepts(deep));
}

}  // namespace
}  // namespace eg::origin
