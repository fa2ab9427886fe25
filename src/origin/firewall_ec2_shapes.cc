#include "origin/firewall_ec2_shapes.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

namespace eg::origin {

std::optional<int> ec2_int(const std::string& s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (*end) return std::nullopt;
  return int(v);
}

std::string ec2_error_of(const XmlElement& root) {
  const XmlElement* errors = root.name == "Response" ? root.child("Errors") : nullptr;
  if (!errors && root.name == "ErrorResponse") errors = &root;  // some services' shape
  if (!errors) return "";
  const XmlElement* e = errors->child("Error");
  if (!e) return "";
  return e->child_text("Code") + ": " + e->child_text("Message");
}

bool parse_describe_security_groups(const XmlElement& root, std::vector<Ec2Group>& out,
                                    std::string& next_token, std::string& error) {
  if (root.name != "DescribeSecurityGroupsResponse") {
    error = "expected DescribeSecurityGroupsResponse, found <" + root.name + ">";
    return false;
  }
  next_token = root.child_text("nextToken");
  for (const XmlElement* item : root.items("securityGroupInfo")) {
    Ec2Group g;
    g.id = item->child_text("groupId");
    g.name = item->child_text("groupName");
    if (g.id.empty()) {
      error = "a security group without a groupId";
      return false;
    }
    for (const XmlElement* tag : item->items("tagSet")) {
      std::string key = tag->child_text("key"), value = tag->child_text("value");
      if (key == kScopeTag) g.scope = value;
      if (key == kIndexTag) g.index = ec2_int(value).value_or(0);
    }
    for (const XmlElement* perm : item->items("ipPermissions")) {
      Ec2Rule base;
      base.protocol = perm->child_text("ipProtocol");
      base.from_port = ec2_int(perm->child_text("fromPort")).value_or(-1);
      base.to_port = ec2_int(perm->child_text("toPort")).value_or(-1);
      for (const char* list : {"ipRanges", "ipv6Ranges"}) {
        const char* field = std::string_view(list) == "ipRanges" ? "cidrIp" : "cidrIpv6";
        for (const XmlElement* range : perm->items(list)) {
          auto p = parse_prefix(range->child_text(field));
          if (!p) {
            ++g.other_rules;
            continue;
          }
          Ec2Rule r = base;
          r.prefix = *p;
          g.rules.push_back(r);
        }
      }
      g.other_rules += perm->items("groups").size() + perm->items("prefixListIds").size();
    }
    std::sort(g.rules.begin(), g.rules.end());
    out.push_back(std::move(g));
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ip_permission_params(
    const std::vector<Ec2Rule>& rules) {
  // One IpPermissions entry per protocol and port range, holding every CIDR of it.
  std::map<std::tuple<std::string, int, int>, std::vector<const Ec2Rule*>> by_ports;
  for (const auto& r : rules) by_ports[{r.protocol, r.from_port, r.to_port}].push_back(&r);
  std::vector<std::pair<std::string, std::string>> out;
  int n = 0;
  for (const auto& [key, list] : by_ports) {
    ++n;
    const auto& [proto, from, to] = key;
    std::string base = fmt::format("IpPermissions.{}.", n);
    out.push_back({base + "IpProtocol", proto});
    if (proto != "-1" && from >= 0) {
      out.push_back({base + "FromPort", std::to_string(from)});
      out.push_back({base + "ToPort", std::to_string(to)});
    }
    int v4 = 0, v6 = 0;
    for (const Ec2Rule* r : list) {
      if (r->prefix.version == IpVersion::V4)
        out.push_back({fmt::format("{}IpRanges.{}.CidrIp", base, ++v4), r->prefix.to_string()});
      else
        out.push_back({fmt::format("{}Ipv6Ranges.{}.CidrIpv6", base, ++v6), r->prefix.to_string()});
    }
  }
  return out;
}

}  // namespace eg::origin
