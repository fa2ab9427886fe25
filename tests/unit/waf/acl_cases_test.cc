// Data-driven web ACL cases: tests/cases/waf/*.yaml, each holding a web ACL (and the sets and
// groups it references), requests, and what must happen to each. Read a case file, not this
// harness, to learn what is checked.
//
//   acl: {Name: ..., DefaultAction: ..., Rules: [...]}   # a WebACL in YAML; SearchString as text
//   ip_sets: [{Name: ..., IPAddressVersion: IPV4, Addresses: [...]}]
//   regex_sets: [...]      rule_groups: [...]
//   requests:
//     - name: what this request shows
//       client_ip: 192.0.2.1          # default 192.0.2.1
//       method: GET                   # default GET
//       url: /path?query              # default /
//       headers: [[Name, value], ...] # in order
//       body: text
//       repeat: 12                    # send it this many times; expectations apply to the last
//       expect:
//         action: BLOCK               # ALLOW, BLOCK, CAPTCHA, CHALLENGE
//         rule: name                  # terminating rule ("Default_Action", "Group/Rule")
//         status: 403                 # the answer's status (Block/Captcha/Challenge)
//         labels: [...]               # present, fully qualified
//         no_labels: [...]            # absent
//         counted: [...]              # non-terminating matches (display names), in order
//         headers: {x-amzn-waf-a: v}  # inserted toward the origin
//         body_contains: text         # in the answer's body
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "waf/acl.h"
#include "waf/state.h"

namespace eg::waf {
namespace {

namespace fs = std::filesystem;

// YAML -> JSON with integers and booleans typed (the WAF documents need them typed).
nlohmann::json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : n) a.push_back(to_json(v));
    return a;
  }
  if (n.IsNull()) return nlohmann::json::object();  // `Allow: {}` written as `Allow:`
  std::string s = n.as<std::string>();
  if (n.Tag() != "!") {
    if (s == "true") return true;
    if (s == "false") return false;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0') return v;
  }
  return s;
}

std::vector<Document> documents(const YAML::Node& list, const std::string& what) {
  std::vector<Document> out;
  if (!list) return out;
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back({what + "[" + std::to_string(i) + "]", to_json(list[i]).dump()});
  return out;
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n)
    for (const auto& v : n) out.push_back(v.as<std::string>());
  return out;
}

class AclCases : public ::testing::TestWithParam<std::string> {};

TEST_P(AclCases, Run) {
  YAML::Node c = YAML::LoadFile(GetParam());
  AclInput in;
  in.web_acl = {"acl", to_json(c["acl"]).dump()};
  in.ip_sets = documents(c["ip_sets"], "ip_sets");
  in.regex_sets = documents(c["regex_sets"], "regex_sets");
  in.rule_groups = documents(c["rule_groups"], "rule_groups");
  in.challenge_key = std::string(32, 'k');
  if (c["count_only"]) in.count_only = c["count_only"].as<bool>();
  auto loaded = load_acl(in, std::make_shared<WafState>());
  if (c["load_error"]) {
    ASSERT_FALSE(loaded.acl) << "the ACL loaded but should have been refused";
    EXPECT_NE(loaded.error.find(c["load_error"].as<std::string>()), std::string::npos)
        << loaded.error;
    return;
  }
  ASSERT_TRUE(loaded.acl) << loaded.error;
  int64_t now = 1'800'000'000'000;
  for (const auto& rq : c["requests"]) {
    std::string name = rq["name"].as<std::string>();
    SCOPED_TRACE(name);
    http::Headers headers;
    if (rq["headers"])
      for (const auto& h : rq["headers"])
        headers.add(h[0].as<std::string>(), h[1].as<std::string>());
    std::string url = rq["url"] ? rq["url"].as<std::string>() : "/";
    std::string method = rq["method"] ? rq["method"].as<std::string>() : "GET";
    std::string body = rq["body"] ? rq["body"].as<std::string>() : "";
    auto ip = parse_ip(rq["client_ip"] ? rq["client_ip"].as<std::string>() : "192.0.2.1");
    ASSERT_TRUE(ip);
    size_t q = url.find('?');
    std::string path = url.substr(0, q), query = q == std::string::npos ? "" : url.substr(q + 1);
    int repeat = rq["repeat"] ? rq["repeat"].as<int>() : 1;
    Verdict v;
    for (int i = 0; i < repeat; ++i) {
      Request r{*ip, method, path, query, headers, body, {}, {}, "case", false, now};
      v = loaded.acl->evaluate(r);
    }
    const YAML::Node& e = rq["expect"];
    if (e["action"]) {
      EXPECT_EQ(action_name(v.action), e["action"].as<std::string>());
    }
    if (e["rule"]) {
      EXPECT_EQ(v.terminating_rule, e["rule"].as<std::string>());
    }
    if (e["status"]) {
      ASSERT_TRUE(v.response) << "no answer; action " << action_name(v.action);
      EXPECT_EQ(v.response->status, e["status"].as<int>());
    }
    if (e["body_contains"]) {
      ASSERT_TRUE(v.response);
      EXPECT_NE(v.response->body.find(e["body_contains"].as<std::string>()), std::string::npos)
          << v.response->body;
    }
    std::string all_labels;
    for (const auto& l : v.labels) all_labels += l + "\n";
    for (const auto& l : strings(e["labels"]))
      EXPECT_NE(std::find(v.labels.begin(), v.labels.end(), l), v.labels.end())
          << "missing label " << l << "; labels:\n"
          << all_labels;
    for (const auto& l : strings(e["no_labels"]))
      EXPECT_EQ(std::find(v.labels.begin(), v.labels.end(), l), v.labels.end())
          << "unexpected label " << l;
    if (e["counted"]) {
      std::vector<std::string> counted;
      Verdict traced;
      // Counted rules by name, from a traced evaluation of the same request.
      Request r{*ip, method, path, query, headers, body, {}, {}, "case", false, now};
      traced = loaded.acl->evaluate(r, true);
      for (const auto& t : traced.trace)
        if (t.matched && !t.terminated) counted.push_back(t.rule);
      EXPECT_EQ(counted, strings(e["counted"]));
    }
    if (e["headers"])
      for (const auto& kv : e["headers"]) {
        std::string want = kv.first.as<std::string>(), value = kv.second.as<std::string>();
        bool found = false;
        for (const auto& h : v.insert_headers)
          if (h.name == want) {
            found = true;
            EXPECT_EQ(h.value, value);
          }
        EXPECT_TRUE(found) << "no inserted header " << want;
      }
  }
}

std::vector<std::string> case_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(EG_SOURCE_DIR) / "tests/cases/waf"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, AclCases, ::testing::ValuesIn(case_files()), [](const auto& info) {
  std::string n = fs::path(info.param).stem().string();
  for (auto& ch : n)
    if (!std::isalnum((unsigned char)ch)) ch = '_';
  return n;
});

}  // namespace
}  // namespace eg::waf
