// The compatibility suite's Node handlers (tests/data/functions/compat, run through the gateway
// by tests/e2e/test_functions_compat.py) straight on the runtime: each loads, and the broken
// ones fail with the kinds and messages the gateway's answers are built from.
#include <nlohmann/json.hpp>

#include "node_test_util.h"

namespace eg::functions::node_test {

using Kind = NodeOutcome::Kind;

class NodeCompat : public NodeFixture {
 protected:
  static std::string compat(const std::string& rel) {
    return std::string(EG_SOURCE_DIR) + "/tests/data/functions/compat/" + rel;
  }
  NodeFunctionSpec compat_spec(const std::string& rel) {
    NodeFunctionSpec s;
    s.file = compat(rel);
    s.workers = 1;
    return s;
  }
  std::string event_with_query(const std::string& query) {
    auto e = nlohmann::json::parse(kEvent);
    e["Records"][0]["cf"]["request"]["querystring"] = query;
    return e.dump();
  }
};

// encrypt-fields/index.js is left out: it reads the public.pem its e2e test writes next to it.
TEST_F(NodeCompat, EveryNodeHandlerLoads) {
  for (const char* rel :
       {"basic-auth.js", "security-headers.js", "legacy-succeed.js", "country-redirect.mjs",
        "normalize.js", "origin-switch.js", "generated-html.js", "with-deps/index.js",
        "warm-counter.js", "esm-pkg/context-info.js", "set-cookies.js", "error-page.js"}) {
    std::string error;
    auto pool = NodePool::create(compat_spec(rel), error);
    EXPECT_TRUE(pool) << rel << ": " << error;
  }
}

TEST_F(NodeCompat, BrokenHandlersFailAsTheGatewaySaysTheyDo) {
  EXPECT_EQ(create_error(compat_spec("bad/syntax-error.js")),
            compat("bad/syntax-error.js") + ": SyntaxError: Unexpected token ')' (line 6)");

  make(compat_spec("bad/throws.js"));
  auto out = invoke(event_with_query("boom=1"));
  EXPECT_EQ(out.kind, Kind::Exception);
  EXPECT_EQ(out.message, "function " + compat("bad/throws.js") +
                             " threw TypeError: cannot read the session cookie (at " +
                             compat("bad/throws.js") + ":6:15)");

  make(compat_spec("bad/slow.js"));
  out = invoke(event_with_query("slow=1"), "req", 300ms);
  EXPECT_EQ(out.kind, Kind::Timeout);
  EXPECT_EQ(out.message, "function " + compat("bad/slow.js") + " timed out after 300 ms");

  make(compat_spec("bad/crash.js"));
  out = invoke(event_with_query("crash=1"));
  EXPECT_EQ(out.kind, Kind::Crash);
  EXPECT_EQ(out.message, "function " + compat("bad/crash.js") +
                             " worker exited with code 1 while handling the request");

  make(compat_spec("bad/returns-undefined.js"));
  out = invoke();
  EXPECT_TRUE(out.returned_undefined()) << out.message;
}

}  // namespace eg::functions::node_test
