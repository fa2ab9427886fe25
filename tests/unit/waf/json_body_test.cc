// JsonBody inspection as a rule author sees it: which keys and values a statement gets for a
// body, scope and included paths, and what each InvalidFallbackBehavior does when the body is
// not JSON (bad characters, duplicate keys, truncation, scalar roots, too deep), next to the
// leniencies AWS documents (missing commas and colons, extra colons).
#include "waf/json_body.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eg::waf {
namespace {

using namespace std::string_literals;
using Items = std::vector<std::string>;
using Outcome = JsonBodyResult::Outcome;
using Fallback = JsonInvalidFallback;

JsonBodyResult inspect(std::string_view body, JsonScope scope = JsonScope::All,
                       std::vector<std::string> paths = {},
                       Fallback fallback = Fallback::EvaluateUpToError) {
  JsonBodySpec spec;
  spec.included_paths = std::move(paths);
  spec.scope = scope;
  spec.fallback = fallback;
  return inspect_json_body(body, spec);
}

Items items(std::string_view body, JsonScope scope = JsonScope::All,
            std::vector<std::string> paths = {}) {
  return inspect(body, scope, std::move(paths)).items;
}

// ---- scopes ----

TEST(JsonBody, ScopeAllYieldsKeysAndValuesInDocumentOrder) {
  const char* body = R"({"user":"bob","tags":["a","b"],"n":{"k":1}})";
  JsonBodyResult r = inspect(body);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.outcome, Outcome::Inspect);
  EXPECT_EQ(r.items, (Items{"user", "bob", "tags", "a", "b", "n", "k", "1"}));
  EXPECT_EQ(items(body, JsonScope::Key), (Items{"user", "tags", "n", "k"}));
  EXPECT_EQ(items(body, JsonScope::Value), (Items{"bob", "a", "b", "1"}));
}

TEST(JsonBody, ScalarsOtherThanStringsAreInspectedAsWritten) {
  EXPECT_EQ(items(R"([1, -2.5e+3, 0, 0.10, 1E9, true, false, null, "x"])", JsonScope::Value),
            (Items{"1", "-2.5e+3", "0", "0.10", "1E9", "true", "false", "null", "x"}));
}

TEST(JsonBody, ArraysHaveNoKeysAndEmptyContainersYieldNothing) {
  EXPECT_EQ(items(R"([["a"],{"k":[]},{}])", JsonScope::Key), (Items{"k"}));
  JsonBodyResult r = inspect("{}");
  EXPECT_TRUE(r.valid);
  EXPECT_TRUE(r.items.empty());
}

TEST(JsonBody, EscapedKeysAreInspectedDecoded) {
  EXPECT_EQ(items(R"({"a\"b\\c":1,"\u0073elect":2})", JsonScope::Key),
            (Items{"a\"b\\c", "select"}));
}

// ---- included paths ----

TEST(JsonBody, IncludedPathSelectsTheSubtreeUnderIt) {
  const char* body = R"({"a":{"b":{"c":"deep","d":[1,2]},"x":"no"},"b":"top"})";
  EXPECT_EQ(items(body, JsonScope::All, {"/a/b"}), (Items{"c", "deep", "d", "1", "2"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/a/b"}), (Items{"deep", "1", "2"}));
  EXPECT_EQ(items(body, JsonScope::Key, {"/a/b"}), (Items{"c", "d"}));
  // A leaf: its value, not its own key (the key is fixed by the path itself).
  EXPECT_EQ(items(body, JsonScope::All, {"/a/b/c"}), (Items{"deep"}));
  EXPECT_TRUE(items(body, JsonScope::Key, {"/a/b/c"}).empty());
  EXPECT_EQ(items(body, JsonScope::Value, {"/b"}), (Items{"top"}));
  EXPECT_TRUE(items(body, JsonScope::All, {"/a/nope", "/c"}).empty());
}

TEST(JsonBody, IncludedPathsIndexArrays) {
  const char* body = R"({"items":[{"name":"n0","id":1},{"name":"n1"}],"name":"top"})";
  EXPECT_EQ(items(body, JsonScope::Value, {"/items/0/name"}), (Items{"n0"}));
  EXPECT_EQ(items(body, JsonScope::All, {"/items/1"}), (Items{"name", "n1"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/items/1/name", "/items/0/id"}),
            (Items{"1", "n1"}));  // document order, not path order
  // RFC 6901: no leading zeros, and "-" is the element after the last one.
  EXPECT_TRUE(items(body, JsonScope::All, {"/items/01/name"}).empty());
  EXPECT_TRUE(items(body, JsonScope::All, {"/items/-"}).empty());
  EXPECT_TRUE(items(body, JsonScope::All, {"/items/2"}).empty());
  EXPECT_EQ(items(R"([["a","b"],["c","d"]])", JsonScope::Value, {"/1/0"}), (Items{"c"}));
}

TEST(JsonBody, IncludedPathsUnescapeTildeAndSlash) {
  const char* body = R"({"a/b":"slash","m~n":"tilde","a":{"b":"nested"},"~1":"literal"})";
  EXPECT_EQ(items(body, JsonScope::Value, {"/a~1b"}), (Items{"slash"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/m~0n"}), (Items{"tilde"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/a/b"}), (Items{"nested"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/~01"}), (Items{"literal"}));
}

TEST(JsonBody, IncludedPathsMatchDecodedKeys) {
  EXPECT_EQ(items(R"({"caf\u00e9":"x","caf":"y"})", JsonScope::Value, {"/café"}), (Items{"x"}));
}

TEST(JsonBody, IncludedPathDoesNotLeakIntoSiblingsOrOtherDepths) {
  EXPECT_EQ(items(R"({"a":{"b":1},"c":{"b":2}})", JsonScope::Value, {"/a/b"}), (Items{"1"}));
  EXPECT_EQ(items(R"({"c":{"b":2},"a":{"b":1}})", JsonScope::Value, {"/a/b"}), (Items{"1"}));
  EXPECT_TRUE(items(R"({"a":{"a":{"b":"deep"}},"b":"top"})", JsonScope::All, {"/a/b"}).empty());
  EXPECT_EQ(items(R"({"a":[{"b":1}],"x":{"a":{"b":2}}})", JsonScope::Value, {"/x/a/b"}),
            (Items{"2"}));
}

TEST(JsonBody, SlashAloneSelectsTheWholeDocument) {
  const char* body = R"({"":"empty","a":["b"]})";
  EXPECT_EQ(items(body, JsonScope::All, {"/"}), (Items{"", "empty", "a", "b"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/a", "/"}), (Items{"empty", "b"}));
}

// ---- invalid JSON and the fallbacks ----

struct InvalidCase {
  const char* name;
  std::string body;
  Items up_to_error;  // scope ALL, no fallback
};

TEST(JsonBody, EachFallbackOnInvalidJson) {
  const std::vector<InvalidCase> cases = {
      {"bad character mid-document", R"({"a":"1","b":@,"c":"3"})", {"a", "1", "b"}},
      {"duplicate key", R"({"a":"1","b":"2","a":"3","c":"4"})", {"a", "1", "b", "2"}},
      {"duplicate key in a nested object",
       R"({"o":{"k":"1","x":{"y":"2"},"k":"3"},"next":"4"})",
       {"o", "k", "1", "x", "y", "2"}},
      {"the first of several duplicates in a large object",
       R"({"a":1,"b":2,"c":3,"d":4,"e":5,"b":6,"f":7,"a":8,"g":9,"h":10})",
       {"a", "1", "b", "2", "c", "3", "d", "4", "e", "5"}},
      {"duplicate key after decoding", R"({"a":1,"\u0061":2})", {"a", "1"}},
      {"truncated in a string", R"({"a":"1","b":"tru)", {"a", "1", "b"}},
      {"truncated after a number", R"({"a":"1","b":12)", {"a", "1", "b"}},
      {"truncated after a complete member", R"({"a":"1")", {"a", "1"}},
      {"truncated in an escape", R"({"a":"\u00)", {"a"}},
      {"scalar root number", "5", {}},
      {"scalar root string", "\"x\"", {}},
      {"scalar root literal", "true", {}},
      {"something after the root", R"({"a":"1"}{"b":"2"})", {"a", "1"}},
      {"trailing comma", R"({"a":"1",})", {"a", "1"}},
      {"two commas", R"(["1",,"2"])", {"1"}},
      {"unquoted key", R"({"a":"1",b:"2"})", {"a", "1"}},
      {"key without a value", R"({"a"})", {"a"}},
      {"mismatched bracket", R"({"a":["1"}})", {"a", "1"}},
      {"word running into a literal", R"(["1",truex])", {"1"}},
      {"number with two points", R"(["1",1.2.3])", {"1"}},
      {"number with a leading zero", R"(["1",01])", {"1"}},
      {"raw control character in a string", "{\"a\":\"x\ny\",\"b\":\"2\"}", {"a"}},
      {"NUL byte between members", "{\"a\":\"1\",\0\"b\":\"2\"}"s, {"a", "1"}},
      {"invalid UTF-8 outside strings", "{\"a\":\"1\"\xff}", {"a", "1"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    JsonBodyResult r = inspect(c.body);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.outcome, Outcome::Inspect);
    EXPECT_EQ(r.items, c.up_to_error);

    r = inspect(c.body, JsonScope::All, {}, Fallback::Match);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.outcome, Outcome::Match);
    EXPECT_TRUE(r.items.empty());

    r = inspect(c.body, JsonScope::All, {}, Fallback::NoMatch);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.outcome, Outcome::NoMatch);
    EXPECT_TRUE(r.items.empty());

    r = inspect(c.body, JsonScope::Value, {"/a"}, Fallback::EvaluateAsString);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.outcome, Outcome::Inspect);
    EXPECT_EQ(r.items, Items{c.body});
  }
}

TEST(JsonBody, EvaluateUpToErrorRespectsScopeAndPaths) {
  const char* body = R"({"a":{"k":"1"},"b":{"k":"2","k":"3"}})";
  EXPECT_EQ(items(body, JsonScope::Value), (Items{"1", "2"}));
  EXPECT_EQ(items(body, JsonScope::Key, {"/b"}), (Items{"k"}));
  EXPECT_EQ(items(body, JsonScope::Value, {"/a"}), (Items{"1"}));
}

TEST(JsonBody, TheSameKeyInDifferentObjectsIsNotADuplicate) {
  JsonBodyResult r = inspect(R"({"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]})");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items.size(), 11u);
}

// ---- leniency AWS documents: parsed as valid, so no fallback applies ----

TEST(JsonBody, MissingCommasMissingColonsAndExtraColonsAreTolerated) {
  const std::vector<std::pair<std::string, Items>> cases = {
      {R"({"key1":"value1""key2":"value2"})", {"key1", "value1", "key2", "value2"}},
      {R"({"key1":"value1","key2""value2"})", {"key1", "value1", "key2", "value2"}},
      {R"({"key1"::"value1","key2""value2"})", {"key1", "value1", "key2", "value2"}},
      {R"({"key1" : : "value1" "key2" 5})", {"key1", "value1", "key2", "5"}},
      {R"({"a":{"b":1}"c":[1 2 "x" true{"d":null}]})",
       {"a", "b", "1", "c", "1", "2", "x", "true", "d", "null"}},
  };
  for (const auto& [body, expected] : cases) {
    SCOPED_TRACE(body);
    JsonBodyResult r = inspect(body, JsonScope::All, {}, Fallback::Match);
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(r.outcome, Outcome::Inspect);
    EXPECT_EQ(r.items, expected);
  }
}

TEST(JsonBody, WhitespaceAndAByteOrderMarkAroundTheDocument) {
  JsonBodyResult r = inspect(" \r\n\t{ \"a\" : [ 1 , 2 ] }\n", JsonScope::Value);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items, (Items{"1", "2"}));
  r = inspect("\xEF\xBB\xBF{\"a\":\"1\"}", JsonScope::Value);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items, (Items{"1"}));
}

// ---- strings ----

TEST(JsonBody, StringEscapesDecodeToUtf8) {
  EXPECT_EQ(items(R"(["\u0041\u00e9\u20ac\ud83d\ude00", "\"\\\/\b\f\n\r\t"])", JsonScope::Value),
            (Items{"A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", "\"\\/\b\f\n\r\t"}));
  EXPECT_EQ(items(R"(["a\u0000b", "\uDBFF\uDFFF"])", JsonScope::Value),
            (Items{std::string("a\0b", 3), "\xF4\x8F\xBF\xBF"}));
}

TEST(JsonBody, InvalidEscapesMakeTheBodyInvalid) {
  for (const char* bad :
       {R"("\ud83d")", R"("\ud83d\u0041")", R"("\ud83dx")", R"("\ude00")", R"("\ud83d\ud83d")",
        R"("\u12G4")", R"("\x41")", R"("\U0041")", R"("\'")"}) {
    std::string body = std::string(R"({"ok":"1","k":)") + bad + R"(,"after":"2"})";
    SCOPED_TRACE(body);
    JsonBodyResult r = inspect(body);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.items, (Items{"ok", "1", "k"}));
  }
}

TEST(JsonBody, NonAsciiBytesInStringsPassThroughUnchanged) {
  JsonBodyResult r = inspect("{\"k\xC3\xA9\":\"\xff\xfe\x80 raw\"}");
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items, (Items{"k\xC3\xA9", "\xff\xfe\x80 raw"}));
}

TEST(JsonBody, BinaryBodiesAreInvalidNotFatal) {
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += char((i * 131 + 7) & 0xFF);
  JsonBodyResult r = inspect(binary, JsonScope::All, {}, Fallback::Match);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.outcome, Outcome::Match);
  r = inspect(binary);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(r.items.empty());
}

// ---- limits ----

std::string nested_objects(int depth) {
  std::string body;
  for (int i = 0; i < depth; ++i) body += "{\"k" + std::to_string(i) + "\":";
  body += "\"leaf\"";
  body.append(size_t(depth), '}');
  return body;
}

TEST(JsonBody, NestingUpTo64IsValidAndDeeperIsInvalid) {
  JsonBodyResult r = inspect(nested_objects(64), JsonScope::Value);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items, (Items{"leaf"}));

  r = inspect(nested_objects(65), JsonScope::Key);
  EXPECT_FALSE(r.valid);
  ASSERT_EQ(r.items.size(), 64u);  // the keys of the 64 levels read before the 65th
  EXPECT_EQ(r.items.back(), "k63");
  EXPECT_EQ(inspect(nested_objects(65), JsonScope::All, {}, Fallback::Match).outcome,
            Outcome::Match);

  EXPECT_FALSE(inspect(std::string(100000, '[')).valid);
  EXPECT_TRUE(inspect(std::string(64, '[') + std::string(64, ']')).valid);
  EXPECT_FALSE(inspect(std::string(65, '[') + std::string(65, ']')).valid);
}

TEST(JsonBody, ManyKeysInOneObject) {
  std::string body = "{";
  for (int i = 0; i < 20000; ++i) body += "\"key" + std::to_string(i) + "\":" + "1,";
  body += "\"last\":\"v\"}";
  JsonBodyResult r = inspect(body, JsonScope::Value, {"/last"});
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.items, (Items{"v"}));
  body.insert(body.size() - 1, ",\"key19999\":2");
  r = inspect(body, JsonScope::Value, {"/last"});
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.items, (Items{"v"}));
}

// ---- empty body ----

TEST(JsonBody, EmptyBodyHasNothingToInspectWhateverTheFallback) {
  for (Fallback f : {Fallback::EvaluateUpToError, Fallback::Match, Fallback::NoMatch,
                     Fallback::EvaluateAsString}) {
    for (const char* body : {"", " \r\n"}) {
      JsonBodyResult r = inspect(body, JsonScope::All, {}, f);
      EXPECT_TRUE(r.valid);
      EXPECT_EQ(r.outcome, Outcome::Inspect);
      EXPECT_TRUE(r.items.empty());
    }
  }
}

// ---- pointers at load time ----

TEST(JsonBody, CheckJsonPointerAcceptsWhatAwsAccepts) {
  for (const char* ok : {"/", "/a", "/a/b", "/items/0/name", "/a~0b/~1", "//", "/a/", "/café"})
    EXPECT_EQ(check_json_pointer(ok), "") << ok;
}

TEST(JsonBody, CheckJsonPointerSaysWhatIsWrong) {
  EXPECT_NE(check_json_pointer("").find("must start with '/'"), std::string::npos);
  EXPECT_NE(check_json_pointer("a/b").find("must start with '/'"), std::string::npos);
  std::string bad = check_json_pointer("/a~2b");
  EXPECT_NE(bad.find("~ must be followed by 0 or 1"), std::string::npos) << bad;
  EXPECT_NE(bad.find("/a~2b"), std::string::npos) << bad;
  EXPECT_NE(check_json_pointer("/a~").find("~ must be followed by 0 or 1"), std::string::npos);
  EXPECT_EQ(check_json_pointer("/" + std::string(511, 'x')), "");
  EXPECT_NE(check_json_pointer("/" + std::string(512, 'x')).find("longer than 512"),
            std::string::npos);
}

}  // namespace
}  // namespace eg::waf
