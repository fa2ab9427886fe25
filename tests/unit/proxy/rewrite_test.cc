#include "proxy/rewrite.h"

#include <gtest/gtest.h>

namespace eg::proxy {
namespace {

config::PathRewrite strip(std::string prefix) {
  config::PathRewrite r;
  r.kind = config::PathRewrite::Kind::StripPrefix;
  r.prefix = std::move(prefix);
  return r;
}

config::PathRewrite wildcard(std::string from, std::string to) {
  config::PathRewrite r;
  r.kind = config::PathRewrite::Kind::Wildcard;
  r.from = std::move(from);
  r.to = std::move(to);
  return r;
}

TEST(Rewrite, StripPrefixKeepsTrailingSlashAsReceived) {
  auto r = strip("/hotels");
  EXPECT_EQ(rewrite_path(r, "/hotels/rooms"), "/rooms");
  EXPECT_EQ(rewrite_path(r, "/hotels/rooms/"), "/rooms/");
  EXPECT_EQ(rewrite_path(r, "/hotels/"), "/");
  EXPECT_EQ(rewrite_path(r, "/hotels"), "/");
  EXPECT_EQ(rewrite_path(r, "/hotelsfoo"), "/hotelsfoo");  // not a path segment boundary
  EXPECT_EQ(rewrite_path(r, "/pets/x"), "/pets/x");
}

TEST(Rewrite, WildcardMapsCapture) {
  auto r = wildcard("/hotels/<*>", "/<*>");
  EXPECT_EQ(rewrite_path(r, "/hotels/a/b"), "/a/b");
  EXPECT_EQ(rewrite_path(r, "/hotels/a/b/"), "/a/b/");
  EXPECT_EQ(rewrite_path(r, "/hotels/"), "/");
  EXPECT_EQ(rewrite_path(r, "/hotels"), "/");
  EXPECT_EQ(rewrite_path(r, "/cars/x"), "/cars/x");
}

TEST(Rewrite, WildcardIntoAnotherFolder) {
  auto r = wildcard("/img/<*>", "/static/images/<*>");
  EXPECT_EQ(rewrite_path(r, "/img/a.png"), "/static/images/a.png");
  auto suffix = wildcard("/v1/<*>.json", "/api/<*>");
  EXPECT_EQ(rewrite_path(suffix, "/v1/users.json"), "/api/users");
}

TEST(Rewrite, OriginPathPrefix) {
  EXPECT_EQ(origin_path("/app", "/x/"), "/app/x/");
  EXPECT_EQ(origin_path("", "/x"), "/x");
  EXPECT_EQ(origin_path("", ""), "/");
}

}  // namespace
}  // namespace eg::proxy
