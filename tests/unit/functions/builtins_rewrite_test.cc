#include <gtest/gtest.h>

#include "builtins_support.h"

namespace eg::functions::test {
namespace {

// The path sent on ("redirect:LOCATION" when the builtin answered), and the target's check.
std::string path_for(Function& f, std::string_view target) {
  auto req = request(target);
  RequestResult r = f.on_request_now(viewer(), req);
  if (r.answer) return "redirect:" + *r.answer->headers.find("Location");
  EXPECT_EQ(req.target, req.has_query ? req.path + "?" + req.query : req.path);
  return req.target;
}

TEST(BuiltinRewrite, DirectoryIndexLikeAwsAddIndexHtmlFunction) {
  auto f = make("rewrite", EventType::ViewerRequest, R"({"directory_index": true})");
  EXPECT_EQ(path_for(*f, "/"), "/index.html");
  EXPECT_EQ(path_for(*f, "/a/?x=1"), "/a/index.html?x=1");
  EXPECT_EQ(path_for(*f, "/a"), "/a");
  EXPECT_EQ(path_for(*f, "/a/style.css"), "/a/style.css");

  auto index = make(
      "rewrite", EventType::OriginRequest,
      R"({"directory_index": true, "no_extension": "index", "index_document": "default.htm"})");
  EXPECT_EQ(path_for(*index, "/a"), "/a/default.htm");
  EXPECT_EQ(path_for(*index, "/a/"), "/a/default.htm");
  EXPECT_EQ(path_for(*index, "/v1.2/file.js"), "/v1.2/file.js");

  auto redirect = make("rewrite", EventType::ViewerRequest,
                       R"({"directory_index": true, "no_extension": "redirect"})");
  EXPECT_EQ(path_for(*redirect, "/a?q=1"), "redirect:/a/?q=1");
  EXPECT_EQ(path_for(*redirect, "/a/"), "/a/index.html");
}

TEST(BuiltinRewrite, TrailingSlashAddAndRemove) {
  auto add = make("rewrite", EventType::ViewerRequest, R"({"trailing_slash": "add"})");
  EXPECT_EQ(path_for(*add, "/a?b"), "/a/?b");
  EXPECT_EQ(path_for(*add, "/a/"), "/a/");
  EXPECT_EQ(path_for(*add, "/a.txt"), "/a.txt");
  auto remove = make("rewrite", EventType::ViewerRequest, R"({"trailing_slash": "remove"})");
  EXPECT_EQ(path_for(*remove, "/a/"), "/a");
  EXPECT_EQ(path_for(*remove, "/"), "/");
}

TEST(BuiltinRewrite, SpaFallbackAndPrefix) {
  auto spa = make("rewrite", EventType::OriginRequest, R"({"spa_fallback": true})");
  EXPECT_EQ(path_for(*spa, "/users/42?tab=1"), "/index.html?tab=1");
  EXPECT_EQ(path_for(*spa, "/static/app.js"), "/static/app.js");

  auto prefix = make("rewrite", EventType::ViewerRequest,
                     R"({"prefix": "/api/v1/", "to": "/v1/", "spa_fallback": "/app.html"})");
  EXPECT_EQ(path_for(*prefix, "/api/v1/x.json?a"), "/v1/x.json?a");
  EXPECT_EQ(path_for(*prefix, "/api/v1/users"), "/app.html");
}

// The path is edited in place when the target is path?query; any other target (absolute-form,
// or one an earlier change left behind) is rebuilt from the path and the query.
TEST(BuiltinRewrite, TargetIsRebuiltWhenItIsNotPathAndQuery) {
  auto f = make("rewrite", EventType::ViewerRequest, R"({"directory_index": true})");
  auto absolute = request("/a/?x=1");
  absolute.target = "http://example.com/a/?x=1";
  f->on_request_now(viewer(), absolute);
  EXPECT_EQ(absolute.path, "/a/index.html");
  EXPECT_EQ(absolute.target, "/a/index.html?x=1");

  auto stale = request("/b/?x=1");
  stale.query = "y=22";
  f->on_request_now(viewer(), stale);
  EXPECT_EQ(stale.target, "/b/index.html?y=22");

  auto no_query = request("/c/");
  f->on_request_now(viewer(), no_query);
  EXPECT_EQ(no_query.target, "/c/index.html");

  auto empty_query = request("/d/?");
  f->on_request_now(viewer(), empty_query);
  EXPECT_EQ(empty_query.target, "/d/index.html?");
}

TEST(BuiltinRewrite, OptionErrors) {
  std::string error;
  try_make("rewrite", EventType::ViewerRequest,
           R"({"spa_fallback": true, "directory_index": true})", error);
  EXPECT_NE(error.find("rewrite: use one of directory_index/no_extension"), std::string::npos);
  try_make("rewrite", EventType::ViewerRequest, R"({"prefix": "/a/"})", error);
  EXPECT_EQ(error, "rewrite: prefix and to go together");
  try_make("rewrite", EventType::ViewerRequest, R"({"trailing_slash": "both"})", error);
  EXPECT_EQ(error, "rewrite: trailing_slash: expected add or remove, got 'both'");
}

}  // namespace
}  // namespace eg::functions::test
