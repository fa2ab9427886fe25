// `edgeguard waf test`: evaluates a web ACL against one request given on the command line
// and prints every rule evaluated, its match, the labels it added, the terminating rule and
// the final action, so a rule is debugged without deploying it.
#include <chrono>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "waf/acl.h"
#include "waf/state.h"

namespace eg::cli {
namespace {

struct WafTestArgs {
  std::string acl, client_ip = "192.0.2.1", method = "GET", url = "/", body;
  std::vector<std::string> ip_sets, regex_sets, rule_groups, headers;
  std::string search_strings = "auto", geo_database, asn_database, ja3, ja4;
};

int run_waf_test(const WafTestArgs& a) {
  waf::AclInput in;
  std::string error;
  auto read_all = [&](const std::vector<std::string>& paths, std::vector<waf::Document>& out) {
    for (const auto& p : paths) {
      waf::Document d;
      if (!waf::read_document(p, d, error)) return false;
      out.push_back(std::move(d));
    }
    return true;
  };
  if (!waf::read_document(a.acl, in.web_acl, error) || !read_all(a.ip_sets, in.ip_sets) ||
      !read_all(a.regex_sets, in.regex_sets) || !read_all(a.rule_groups, in.rule_groups)) {
    std::cerr << "edgeguard waf test: " << error << "\n";
    return 1;
  }
  in.search_strings = a.search_strings == "base64" ? waf::SearchStrings::Base64
                      : a.search_strings == "text" ? waf::SearchStrings::Text
                                                   : waf::SearchStrings::Auto;
  in.geo_database = a.geo_database;
  in.asn_database = a.asn_database;
  in.challenge_key = std::string(32, 'k');  // tokens are not judged here
  auto loaded = waf::load_acl(in, std::make_shared<waf::WafState>());
  if (!loaded.acl) {
    std::cerr << "edgeguard waf test: " << loaded.error << "\n";
    return 1;
  }

  auto ip = waf::parse_ip(a.client_ip);
  if (!ip) {
    std::cerr << "edgeguard waf test: --client-ip '" << a.client_ip
              << "' is not an IPv4 or IPv6 address\n";
    return 2;
  }
  http::Headers headers;
  for (const auto& h : a.headers) {
    std::pair<std::string, std::string> kv;
    if (!parse_header_arg(h, kv, error)) {
      std::cerr << "edgeguard waf test: " << error << "\n";
      return 2;
    }
    headers.add(kv.first, kv.second);
  }
  if (!a.url.starts_with("/")) {
    std::cerr << "edgeguard waf test: --url must be a path and query, starting with '/'\n";
    return 2;
  }
  std::string_view url = a.url;
  size_t q = url.find('?');
  std::string_view path = url.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : url.substr(q + 1);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  waf::Request r{*ip,    a.method, path,  query,      headers,
                 a.body, a.ja3,    a.ja4, "waf-test", !a.ja3.empty() || !a.ja4.empty(),
                 now};
  waf::Verdict v = loaded.acl->evaluate(r, true);

  std::cout << "web ACL " << loaded.acl->name() << ": " << a.method << " " << a.url << " from "
            << a.client_ip << "\n";
  for (const auto& t : v.trace) {
    std::cout << "  " << t.rule << ": " << (t.matched ? "MATCH" : "no match");
    if (t.matched)
      std::cout << " -> " << waf::action_name(t.action) << (t.terminated ? " (terminating)" : "");
    std::cout << "\n";
    for (const auto& l : t.labels_added) std::cout << "      label " << l << "\n";
    if (!t.note.empty()) std::cout << "      " << t.note << "\n";
  }
  std::cout << "terminating rule: " << v.terminating_rule << "\n";
  std::cout << "action: " << waf::action_name(v.action);
  if (v.response) std::cout << " (response " << v.response->status << ")";
  std::cout << "\n";
  for (const auto& l : v.labels) std::cout << "label: " << l << "\n";
  for (const auto& h : v.insert_headers)
    std::cout << "origin header: " << h.name << ": " << h.value << "\n";
  return 0;
}

}  // namespace

Command add_waf_command(CLI::App& app) {
  auto* waf = app.add_subcommand("waf", "Web ACL tools (AWS WAFv2 JSON)");
  waf->require_subcommand(1);
  auto* test = waf->add_subcommand(
      "test", "Evaluate a web ACL against one request and show every rule, label and the action");
  auto args = std::make_shared<WafTestArgs>();
  test->add_option("--acl", args->acl, "WebACL JSON (get-web-acl output or the bare object)")
      ->required();
  test->add_option("--ip-set", args->ip_sets, "IPSet JSON (repeatable)");
  test->add_option("--regex-set", args->regex_sets, "RegexPatternSet JSON (repeatable)");
  test->add_option("--rule-group", args->rule_groups, "RuleGroup JSON (repeatable)");
  test->add_option("--client-ip", args->client_ip, "the viewer's address")->capture_default_str();
  test->add_option("--method", args->method, "HTTP method")->capture_default_str();
  test->add_option("--url", args->url, "path and query, e.g. /login?user=x")->capture_default_str();
  test->add_option("-H,--header", args->headers, "'Name: value' (repeatable)");
  test->add_option("--body", args->body, "request body");
  test->add_option("--search-strings", args->search_strings,
                   "how SearchString is written: auto (base64 in get-web-acl output, text in a "
                   "bare object), base64 or text")
      ->check(CLI::IsMember({"auto", "base64", "text"}))
      ->capture_default_str();
  test->add_option("--geo-database", args->geo_database, "MaxMind Country/City .mmdb");
  test->add_option("--asn-database", args->asn_database, "MaxMind ASN .mmdb");
  test->add_option("--ja3", args->ja3,
                   "the viewer's JA3 fingerprint (32 hex), as a TLS listener saw it");
  test->add_option("--ja4", args->ja4, "the viewer's JA4 fingerprint (36 characters)");
  return {waf, [args, test] { return test->parsed() ? run_waf_test(*args) : 2; }};
}

}  // namespace eg::cli
