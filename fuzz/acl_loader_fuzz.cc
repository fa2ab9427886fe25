// Loads fuzz bytes as AWS WAFv2 documents and evaluates requests on what loads.
//
// The input is up to five sections separated by "\n%%\n": a WebACL, an IPSet, a RuleGroup, a
// RegexPatternSet, and a request ("METHOD\nTARGET\nName: value\n...\n\nBODY"); an empty or
// missing section is left out. The load must succeed or fail with a message that names the
// document and a place in it ("fuzz.json: Rules[0]...: what"). A loaded ACL must evaluate any
// request, coherently (a final action, an answer exactly when it is not Allow, at most one
// terminating rule, the last one traced), and its log record must be one line of JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "waf/acl.h"
#include "waf/state.h"

namespace {

using namespace eg::waf;

constexpr std::string_view kSeparator = "\n%%\n";
constexpr int64_t kNow = 1'800'000'000'000;

void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  fprintf(stderr, "acl_loader_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

std::vector<std::string_view> sections(std::string_view in) {
  std::vector<std::string_view> out;
  while (out.size() < 4) {
    size_t at = in.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.push_back(in.substr(0, at));
    in.remove_prefix(at + kSeparator.size());
  }
  out.push_back(in);
  out.resize(5);
  return out;
}

// The fuzz-built request's parts; the views point into the input.
struct RequestParts {
  std::string_view method = "GET", path = "/", query;
  eg::http::Headers headers;
  std::string_view body;
};

RequestParts parse_request(std::string_view in) {
  RequestParts r;
  auto line = [&in]() {
    size_t nl = in.find('\n');
    std::string_view l = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    return l;
  };
  if (!in.empty()) r.method = line();
  if (!in.empty()) {
    std::string_view target = line();
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string_view::npos) r.query = target.substr(q + 1);
  }
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    std::string_view h = line();
    if (h.empty()) break;
    size_t colon = h.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.add(h.substr(0, colon), value);
  }
  r.body = in;
  return r;
}

void evaluate_and_log(const Acl& acl, const Request& r) {
  Verdict v = acl.evaluate(r, /*trace=*/true);
  std::string where = acl.name() + " on " + std::string(r.method) + " " + std::string(r.uri_path);
  check(v.action != Action::Count, "the final action is COUNT", where);
  check(v.response.has_value() == (v.action != Action::Allow),
        "an answer without a non-Allow action, or the reverse", where);
  if (v.action == Action::Captcha) check(v.response->status == 405, "CAPTCHA is not 405", where);
  if (v.action == Action::Challenge)
    check(v.response->status == 202, "Challenge is not 202", where);
  check(v.default_action == (v.terminating == nullptr), "default_action disagrees", where);
  check(v.default_action == (v.terminating_rule == "Default_Action"),
        "terminating_rule disagrees with default_action", v.terminating_rule);
  size_t terminated = 0;
  for (const auto& t : v.trace) terminated += t.terminated;
  check(terminated == (v.terminating ? 1u : 0u), "terminated rules in the trace", where);
  if (v.terminating)
    check(v.trace.back().terminated && v.trace.back().rule == v.terminating_rule,
          "the terminating rule is not the last one traced", v.terminating_rule);
  for (const auto& l : v.labels) check(!l.empty(), "an empty label", where);

  // One JSON object on one line (a full re-parse here would halve the fuzzer's speed).
  std::string record = acl.log_record(r, v, "HTTP/1.1", kNow);
  check(record.size() > 2 && record.front() == '{' && record.back() == '}' &&
            record.find('\n') == std::string::npos,
        "a log record that is not one JSON object on one line", record);
}

}  // namespace

// Undefined behaviour is a finding like a crash: UBSan stops at its first report (the build
// lets it recover otherwise, and libFuzzer would not notice).
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> part = sections(input);

  AclInput in;
  in.web_acl = {"fuzz.json", std::string(part[0])};
  if (!part[1].empty()) in.ip_sets.push_back({"ipset.json", std::string(part[1])});
  if (!part[2].empty()) in.rule_groups.push_back({"rulegroup.json", std::string(part[2])});
  if (!part[3].empty()) in.regex_sets.push_back({"regexset.json", std::string(part[3])});
  in.challenge_key = std::string(32, 'k');
  in.rate_max_keys = 64;
  // Sampling serialises the request once per matched rule, a quarter of the time per run at
  // -O0; inputs of odd length sample, the others do not, so both paths are kept.
  in.sampled_per_rule = size % 2 ? 2 : 0;

  AclLoad load = load_acl(in, std::make_shared<WafState>());
  // For triage and for checking the seeds: ACL_LOADER_FUZZ_VERBOSE=1 prints each outcome.
  static const bool verbose = getenv("ACL_LOADER_FUZZ_VERBOSE") != nullptr;
  if (verbose) fprintf(stderr, "load: %s\n", load.acl ? "ok" : load.error.c_str());
  if (!load.acl) {
    const std::string& e = load.error;
    bool named = false;
    for (const char* doc : {"fuzz.json", "ipset.json", "rulegroup.json", "regexset.json"})
      named = named || (e.starts_with(doc) && e.size() > strlen(doc) && e[strlen(doc)] == ':');
    check(named, "a load error that does not start with the document's name", e);
    check(e.find(": ") != std::string::npos, "a load error without \": \"", e);
    return 0;
  }
  check(load.error.empty(), "an ACL loaded with an error", load.error);
  const Acl& acl = *load.acl;

  eg::http::Headers fixed_headers;
  fixed_headers.add("Host", "www.example.com");
  fixed_headers.add("User-Agent", "Mozilla/5.0 sqlmap/1.7 ${jndi:ldap://x}");
  fixed_headers.add("Accept", "text/html");
  fixed_headers.add("Cookie", "session=0123456789abcdef0123; aws-waf-token=x.y");
  fixed_headers.add("X-Forwarded-For", "192.0.2.50, 203.0.113.7");
  fixed_headers.add("Content-Type", "application/json");
  Request fixed{*parse_ip("198.51.100.7"),
                "POST",
                "/admin/../etc/passwd",
                "id=1%27%20OR%20%271%27%3D%271&q=%3Cscript%3Ealert(1)%3C/script%3E",
                fixed_headers,
                R"({"user": {"name": "eve", "role": "admin"}, "ids": [1, 2.5, true, null]})",
                "e7d705a3286e19ea42f587b344ee6865",
                "t13d1516h2_8daaf6152771_b186095e22b6",
                "fixed",
                true,
                kNow};
  evaluate_and_log(acl, fixed);

  RequestParts p = parse_request(part[4]);
  Request fuzzed{*parse_ip(p.body.size() % 2 ? "2001:db8:bad::5" : "203.0.113.9"),
                 p.method,
                 p.path,
                 p.query,
                 p.headers,
                 p.body,
                 {},
                 {},
                 "fuzzed",
                 false,
                 kNow + 1000};
  evaluate_and_log(acl, fuzzed);

  for (const auto& m : acl.metrics()) check(!m.name.empty(), "a rule metric without a name");
  return 0;
}
