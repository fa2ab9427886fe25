#include "origin/firewall_ec2.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "origin/firewall_ec2_shapes.h"

namespace eg::origin {
namespace {

constexpr const char* kApiVersion = "2016-11-15";
constexpr size_t kRangesPerCall = 100;
constexpr int kAttempts = 4;

using Params = std::vector<std::pair<std::string, std::string>>;

std::string form_encode(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    aws::sigv4::uri_encode(k, true, out);
    out += '=';
    aws::sigv4::uri_encode(v, true, out);
  }
  return out;
}

struct Settings {
  std::string endpoint;
  std::string region;
  std::string name;
  std::string vpc_id;
  size_t rules_per_group = 60;
  std::string ca_file;
};

class Ec2Backend : public FirewallBackend {
 public:
  explicit Ec2Backend(Settings s) : s_(std::move(s)) {}

  bool plan(const DesiredState& desired, Plan& out, std::string& error) override {
    std::vector<Ec2Group> groups;
    if (!describe(groups, error)) return false;
    Ec2GroupPlan gp = plan_ec2_groups(groups, desired, s_.rules_per_group, s_.name);
    out = render(groups, gp);
    return true;
  }

  bool apply(const DesiredState& desired, Plan& out, std::string& error) override {
    std::vector<Ec2Group> groups;
    if (!describe(groups, error)) return false;
    Ec2GroupPlan gp = plan_ec2_groups(groups, desired, s_.rules_per_group, s_.name);
    size_t calls = 0;
    auto stop = [&](const std::string& what) {
      error = fmt::format("{}; {} change(s) were made before it; `apply` again finishes the rest",
                          what, calls);
      return false;
    };
    // Revoke first, so that a group has room for what it receives.
    for (auto& g : gp.groups) {
      for (size_t i = 0; i < g.revoke.size(); i += kRangesPerCall) {
        std::vector<Ec2Rule> batch(
            g.revoke.begin() + long(i),
            g.revoke.begin() + long(std::min(g.revoke.size(), i + kRangesPerCall)));
        Params p = {{"GroupId", g.group_id}};
        for (auto& kv : ip_permission_params(batch)) p.push_back(std::move(kv));
        XmlElement r;
        if (!call("RevokeSecurityGroupIngress", p, r, error)) return stop(error);
        ++calls;
      }
    }
    for (auto& g : gp.groups) {
      if (g.create) {
        Params p = {{"GroupName", g.name},
                    {"GroupDescription",
                     fmt::format("edgeguard ipranges {} ({} ranges, part {}); managed, do not edit",
                                 s_.name, g.scope, g.index)}};
        if (!s_.vpc_id.empty()) p.push_back({"VpcId", s_.vpc_id});
        p.push_back({"TagSpecification.1.ResourceType", "security-group"});
        int t = 0;
        for (auto [k, v] : {std::pair<std::string, std::string>{"Name", g.name},
                            {kNameTag, s_.name},
                            {kScopeTag, g.scope},
                            {kIndexTag, std::to_string(g.index)}}) {
          ++t;
          p.push_back({fmt::format("TagSpecification.1.Tag.{}.Key", t), k});
          p.push_back({fmt::format("TagSpecification.1.Tag.{}.Value", t), v});
        }
        XmlElement r;
        if (!call("CreateSecurityGroup", p, r, error)) return stop(error);
        ++calls;
        g.group_id = r.child_text("groupId");
        if (g.group_id.empty()) return stop("CreateSecurityGroup answered without a groupId");
      } else if (g.adopt) {
        Params p = {{"ResourceId.1", g.group_id},
                    {"Tag.1.Key", kScopeTag},
                    {"Tag.1.Value", g.scope},
                    {"Tag.2.Key", kIndexTag},
                    {"Tag.2.Value", std::to_string(g.index)}};
        XmlElement r;
        if (!call("CreateTags", p, r, error)) return stop(error);
        ++calls;
      }
      for (size_t i = 0; i < g.authorize.size(); i += kRangesPerCall) {
        std::vector<Ec2Rule> batch(
            g.authorize.begin() + long(i),
            g.authorize.begin() + long(std::min(g.authorize.size(), i + kRangesPerCall)));
        Params p = {{"GroupId", g.group_id}};
        for (auto& kv : ip_permission_params(batch)) p.push_back(std::move(kv));
        XmlElement r;
        if (!call("AuthorizeSecurityGroupIngress", p, r, error)) return stop(error);
        ++calls;
      }
    }
    out = render(groups, gp);
    return true;
  }

 private:
  Plan render(const std::vector<Ec2Group>& current, const Ec2GroupPlan& gp) {
    Plan plan;
    plan.backend =
        fmt::format("EC2 security groups tagged {}={} at {}", kNameTag, s_.name, s_.endpoint);
    size_t rules = 0;
    for (const auto& g : current) rules += g.rules.size();
    plan.current.push_back(
        fmt::format("{} group(s) found, {} CIDR rule(s); at most {} IPv4 and {} "
                    "IPv6 rules per group",
                    current.size(), rules, s_.rules_per_group, s_.rules_per_group));
    for (const auto& g : gp.groups) {
      SetChange c;
      std::string label =
          g.scope.empty() ? "spare, unassigned" : fmt::format("{} #{}", g.scope, g.index);
      c.target = g.group_id.empty() ? fmt::format("group (new) {} ({})", g.name, label)
                                    : fmt::format("group {} {} ({})", g.group_id, g.name, label);
      c.before = g.before;
      c.after = g.after;
      for (const auto& r : g.authorize) c.added.push_back(r.to_string());
      for (const auto& r : g.revoke) c.removed.push_back(r.to_string());
      if (g.create) {
        c.notes.push_back("created");
        plan.actions.push_back(fmt::format(
            "create security group {} (attach it where the other {} groups are attached: "
            "edgeguard does not attach groups)",
            g.name, s_.name));
      }
      if (g.adopt) {
        c.notes.push_back(fmt::format("adopted as {} #{}", g.scope, g.index));
        plan.actions.push_back(fmt::format("tag group {} as {} #{}", g.group_id, g.scope, g.index));
      }
      if (g.after == 0 && g.before > 0) c.notes.push_back("emptied");
      plan.changes.push_back(std::move(c));
    }
    return plan;
  }

  bool credentials(aws::Credentials& out, std::string& error) {
    if (!creds_) {
      aws::ChainOptions opts;
      auto chain = aws::make_default_chain(opts);
      aws::ProviderResult r = chain->load();
      if (r.status != aws::ProviderResult::Status::kFound) {
        error = "no AWS credentials for the EC2 API: " + r.message;
        return false;
      }
      creds_ = r.credentials;
    }
    out = *creds_;
    return true;
  }

  // One signed Query API call. A throttled or failed-on-the-server call is retried.
  bool call(const std::string& action, const Params& params, XmlElement& response,
            std::string& error) {
    aws::Credentials creds;
    if (!credentials(creds, error)) return false;
    std::string parse_error;
    auto url = aws::parse_url(s_.endpoint, parse_error);
    if (!url) {
      error = "--ec2-endpoint: " + parse_error;
      return false;
    }
    Params all = {{"Action", action}, {"Version", kApiVersion}};
    all.insert(all.end(), params.begin(), params.end());
    std::string body = form_encode(all);
    std::chrono::milliseconds backoff{250};
    for (int attempt = 1;; ++attempt) {
      const std::string host = url->host_header();
      const std::string content_type = "application/x-www-form-urlencoded; charset=utf-8";
      aws::sigv4::HeaderField fields[] = {{"Host", host}, {"Content-Type", content_type}};
      aws::sigv4::RequestView view{"POST", url->path, url->query, fields,
                                   aws::sigv4::Payload::body(body)};
      auto sp = aws::sigv4::params_for("ec2", s_.region, std::chrono::system_clock::now());
      aws::sigv4::SigningOutput signed_out;
      if (!aws::sigv4::sign_request(view, creds, sp, signed_out)) {
        error = "signing the EC2 request failed: " + signed_out.error;
        return false;
      }
      aws::HttpClientRequest req;
      req.method = "POST";
      req.url = s_.endpoint;
      req.headers = {{"Host", host}, {"Content-Type", content_type}};
      std::array<aws::sigv4::HeaderField, 4> extra;
      size_t n = signed_out.headers(extra);
      for (size_t i = 0; i < n; ++i)
        req.headers.push_back({std::string(extra[i].name), std::string(extra[i].value)});
      req.body = body;
      aws::HttpClientOptions opts;
      opts.ca_file = s_.ca_file;
      aws::HttpResult r = aws::http_request(req, opts);
      bool retry = false;
      if (!r.response) {
        error = fmt::format("EC2 {}: {}", action, r.error);
        retry = true;
      } else {
        std::string xml_error;
        XmlElement root;
        bool xml_ok = parse_xml(r.response->body, root, xml_error);
        if (r.response->status == 200 && xml_ok) {
          response = std::move(root);
          return true;
        }
        std::string what = xml_ok ? ec2_error_of(root) : "";
        if (what.empty())
          what = xml_ok ? fmt::format("status {}", r.response->status)
                        : fmt::format("status {}, unreadable answer: {}", r.response->status,
                                      xml_error);
        error = fmt::format("EC2 {}: {}", action, what);
        retry = r.response->status >= 500 || what.rfind("RequestLimitExceeded", 0) == 0 ||
                what.rfind("Throttling", 0) == 0;
      }
      if (!retry || attempt >= kAttempts) return false;
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }

  bool describe(std::vector<Ec2Group>& groups, std::string& error) {
    std::string token;
    do {
      Params p = {{"Filter.1.Name", std::string("tag:") + kNameTag}, {"Filter.1.Value.1", s_.name}};
      if (!s_.vpc_id.empty()) {
        p.push_back({"Filter.2.Name", "vpc-id"});
        p.push_back({"Filter.2.Value.1", s_.vpc_id});
      }
      if (!token.empty()) p.push_back({"NextToken", token});
      XmlElement r;
      if (!call("DescribeSecurityGroups", p, r, error)) return false;
      if (!parse_describe_security_groups(r, groups, token, error)) {
        error = "EC2 DescribeSecurityGroups: " + error;
        return false;
      }
    } while (!token.empty());
    return true;
  }

  Settings s_;
  std::optional<aws::Credentials> creds_;
};

std::unique_ptr<FirewallBackend> make_ec2(const BackendOptions& o, std::string& error) {
  Settings s;
  s.region = o.find("ec2-region")->second;
  if (s.region.empty()) {
    for (const char* env : {"AWS_REGION", "AWS_DEFAULT_REGION"})
      if (const char* v = std::getenv(env); v && *v && s.region.empty()) s.region = v;
    if (s.region.empty()) s.region = "us-east-1";
  }
  s.endpoint = o.find("ec2-endpoint")->second;
  if (s.endpoint.empty()) s.endpoint = "https://ec2." + s.region + ".amazonaws.com/";
  std::string url_error;
  if (!aws::parse_url(s.endpoint, url_error)) {
    error = "--ec2-endpoint: " + url_error;
    return nullptr;
  }
  s.name = o.find("ec2-name")->second;
  bool name_ok = !s.name.empty() && s.name.size() <= 64 && s.name.rfind("sg-", 0) != 0;
  for (char c : s.name)
    name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  if (!name_ok) {
    error = "--ec2-name: \"" + s.name + "\" is not a name (letters, digits, '-', '_'; not sg-...)";
    return nullptr;
  }
  s.vpc_id = o.find("ec2-vpc-id")->second;
  const std::string& limit = o.find("rules-per-group")->second;
  auto n = ec2_int(limit);
  if (!n || *n < 1 || *n > 1000) {
    error = "--rules-per-group: \"" + limit + "\" is not a number from 1 to 1000";
    return nullptr;
  }
  s.rules_per_group = size_t(*n);
  s.ca_file = o.find("ca-file")->second;
  return std::make_unique<Ec2Backend>(std::move(s));
}

}  // namespace

BackendSpec ec2_backend_spec() {
  return BackendSpec{
      "ec2",
      "EC2 security groups found by tag, through the EC2 Query API (SigV4)",
      {
          {"ec2-endpoint", "EC2 API endpoint (default https://ec2.<region>.amazonaws.com/)", ""},
          {"ec2-region", "signing region (default AWS_REGION, AWS_DEFAULT_REGION, us-east-1)", ""},
          {"ec2-name", "the allowlist's name: tag edgeguard:ipranges=NAME, groups NAME-<set>-<n>",
           "edgeguard"},
          {"ec2-vpc-id", "VPC of the groups (filter and CreateSecurityGroup)", ""},
          {"rules-per-group", "rules per group and IP version (EC2 quota, default 60)", "60"},
      },
      make_ec2,
  };
}

}  // namespace eg::origin
