#include "proxy/behavior_match.h"

#include <gtest/gtest.h>

namespace eg::proxy {
namespace {

TEST(PathPattern, StarMatchesAnyRunIncludingSlashes) {
  EXPECT_TRUE(path_pattern_matches("/images/*", "/images/a/b/c.jpg"));
  EXPECT_TRUE(path_pattern_matches("/images/*", "/images/"));
  EXPECT_FALSE(path_pattern_matches("/images/*", "/images"));
  EXPECT_TRUE(path_pattern_matches("/*.jpg", "/a/b.jpg"));
  EXPECT_FALSE(path_pattern_matches("/*.jpg", "/a/b.jpeg"));
  EXPECT_TRUE(path_pattern_matches("*", "/anything"));
}

TEST(PathPattern, QuestionMarkIsExactlyOneCharacter) {
  EXPECT_TRUE(path_pattern_matches("/v?/x", "/v1/x"));
  EXPECT_FALSE(path_pattern_matches("/v?/x", "/v/x"));
  EXPECT_FALSE(path_pattern_matches("/v?/x", "/v12/x"));
}

TEST(PathPattern, CaseSensitive) {
  EXPECT_FALSE(path_pattern_matches("/API/*", "/api/x"));
  EXPECT_TRUE(path_pattern_matches("/API/*", "/API/x"));
}

TEST(PathPattern, SeveralStarsBacktrack) {
  EXPECT_TRUE(path_pattern_matches("/a*b*c", "/axxbyyc"));
  EXPECT_TRUE(path_pattern_matches("/a*b*c", "/abbbc"));
  EXPECT_FALSE(path_pattern_matches("/a*b*c", "/axxbyy"));
  // Pathological input stays fast (no exponential backtracking).
  std::string path = "/" + std::string(5000, 'a');
  EXPECT_FALSE(path_pattern_matches("/*a*a*a*a*a*a*b", path));
}

config::Behavior behavior(std::string pattern) {
  config::Behavior b;
  b.is_default = pattern == "default";
  b.path_pattern = std::move(pattern);
  return b;
}

TEST(MatchBehavior, FirstMatchWinsDefaultLast) {
  std::vector<config::Behavior> bs = {behavior("/api/v1/*"), behavior("/api/*"), behavior("default")};
  EXPECT_EQ(match_behavior(bs, "/api/v1/users"), 0u);
  EXPECT_EQ(match_behavior(bs, "/api/v2/users"), 1u);
  EXPECT_EQ(match_behavior(bs, "/index.html"), 2u);
  EXPECT_EQ(match_behavior(bs, "/API/v1/users"), 2u);
}

}  // namespace
}  // namespace eg::proxy
