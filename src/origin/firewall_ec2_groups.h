// How the EC2 backend spreads rules over security groups. Pure logic, no API calls, so the
// splitting can be tested alone.
//
// A rule is one CIDR on one TCP port range (what EC2 counts against its quota). Each scope
// (all, or global / regional when kept apart) has its own groups, numbered 1, 2, 3...; a
// group holds at most `rules_per_group` IPv4 rules and as many IPv6 rules (EC2 counts the
// two separately). Rules already in place stay where they are: only missing rules are
// authorized (in the first group with room, then in new groups) and only stale ones revoked.
// Groups are never deleted (they may be attached to instances); a group left without rules
// stays, empty, and is filled again first when the ranges grow. A group found by the
// allowlist's tag but without a scope tag (made by hand, say, and already attached where it
// is needed) is spare: it is left alone until a scope needs room, then adopted (tagged with
// scope and index) before any new group is created; the spare group already holding the
// most of the missing rules goes first. Groups of a scope no longer desired
// (GLOBAL kept apart before, not now) are spare too, and emptied unless adopted. A group
// holding more rules than the limit (the limit was lowered) keeps them: it only gets no more.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "origin/ipranges_prefix.h"
#include "origin/ipranges_selection.h"

namespace eg::origin {

struct Ec2Rule {
  std::string protocol = "tcp";  // "tcp", "udp", "icmp", "-1" (all), or a number
  int from_port = 0;             // -1 when the protocol has no ports
  int to_port = 0;
  Prefix prefix;
  std::string to_string() const;  // "tcp 443 from 1.2.3.0/24"
  friend bool operator==(const Ec2Rule&, const Ec2Rule&) = default;
  friend auto operator<=>(const Ec2Rule& a, const Ec2Rule& b) {
    if (auto c = a.prefix <=> b.prefix; c != 0) return c;
    if (auto c = a.protocol <=> b.protocol; c != 0) return c;
    if (auto c = a.from_port <=> b.from_port; c != 0) return c;
    return a.to_port <=> b.to_port;
  }
};

struct Ec2Group {
  std::string id;     // sg-...
  std::string name;   // GroupName
  std::string scope;  // tag edgeguard:set ("all", "global", "regional"); empty: not assigned yet
  int index = 0;      // tag edgeguard:index; 0 when absent
  std::vector<Ec2Rule> rules;  // ingress CIDR rules
  size_t other_rules = 0;      // ingress rules naming groups or prefix lists: left alone
};

struct Ec2GroupChange {
  std::string group_id;  // empty: to be created
  std::string name;      // GroupName (for a new group, the one to create)
  std::string scope;
  int index = 0;
  bool create = false;
  bool adopt = false;  // an unassigned group that receives scope and index tags
  std::vector<Ec2Rule> revoke;
  std::vector<Ec2Rule> authorize;
  size_t before = 0;  // CIDR rules before
  size_t after = 0;
};

struct Ec2GroupPlan {
  std::vector<Ec2GroupChange> groups;  // every managed group, changed or not, then new ones
};

std::string scope_tag(Scope scope);  // "all", "global", "regional"
// "NAME-all-2": a group's name from the allowlist's name, scope and index.
std::string ec2_group_name(const std::string& base, const std::string& scope, int index);

// The rules each scope of the desired state needs: every prefix on every port range.
std::vector<std::pair<std::string, std::vector<Ec2Rule>>> desired_ec2_rules(const DesiredState& d);

Ec2GroupPlan plan_ec2_groups(const std::vector<Ec2Group>& current, const DesiredState& desired,
                             size_t rules_per_group, const std::string& base_name);

}  // namespace eg::origin
