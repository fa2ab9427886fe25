#include "origin/firewall_ec2_groups.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>

namespace eg::origin {

std::string Ec2Rule::to_string() const {
  std::string proto = protocol == "-1" ? "all" : protocol;
  if (from_port < 0 || protocol == "-1")
    return fmt::format("{} from {}", proto, prefix.to_string());
  if (from_port == to_port)
    return fmt::format("{} {} from {}", proto, from_port, prefix.to_string());
  return fmt::format("{} {}-{} from {}", proto, from_port, to_port, prefix.to_string());
}

std::string scope_tag(Scope scope) {
  switch (scope) {
    case Scope::Global:
      return "global";
    case Scope::Regional:
      return "regional";
    default:
      return "all";
  }
}

std::string ec2_group_name(const std::string& base, const std::string& scope, int index) {
  return fmt::format("{}-{}-{}", base, scope, index);
}

std::vector<std::pair<std::string, std::vector<Ec2Rule>>> desired_ec2_rules(const DesiredState& d) {
  std::vector<std::pair<std::string, std::vector<Ec2Rule>>> out;
  for (const auto& set : d.sets) {
    std::string scope = scope_tag(set.scope);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == scope; });
    if (it == out.end()) {
      out.push_back({scope, {}});
      it = out.end() - 1;
    }
    for (const auto& prefix : set.prefixes)
      for (const auto& ports : d.ports)
        it->second.push_back(Ec2Rule{"tcp", ports.first, ports.last, prefix});
  }
  for (auto& [scope, rules] : out) {
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
  }
  return out;
}

namespace {

struct Slot {
  Ec2GroupChange change;
  size_t other = 0;
  size_t count[2] = {0, 0};  // kept + authorized, IPv4 and IPv6
  size_t family(const Ec2Rule& r) const { return r.prefix.version == IpVersion::V4 ? 0 : 1; }
  bool has_room(const Ec2Rule& r, size_t limit) const { return count[family(r)] + other < limit; }
  void keep(const Ec2Rule& r) { ++count[family(r)]; }
};

bool by_index(const Ec2Group* a, const Ec2Group* b) {
  if (a->index != b->index) return a->index < b->index;
  if (a->name != b->name) return a->name < b->name;
  return a->id < b->id;
}

}  // namespace

Ec2GroupPlan plan_ec2_groups(const std::vector<Ec2Group>& current, const DesiredState& desired,
                             size_t rules_per_group, const std::string& base_name) {
  auto wanted = desired_ec2_rules(desired);
  std::set<std::string> desired_scopes;
  for (const auto& w : wanted) desired_scopes.insert(w.first);

  // Spare groups: first those edgeguard assigned to a scope no longer desired, then those
  // never assigned; each list in index order.
  std::vector<const Ec2Group*> stale, unassigned;
  std::map<std::string, std::vector<const Ec2Group*>> by_scope;
  for (const auto& g : current) {
    if (g.scope.empty())
      unassigned.push_back(&g);
    else if (!desired_scopes.count(g.scope))
      stale.push_back(&g);
    else
      by_scope[g.scope].push_back(&g);
  }
  std::sort(stale.begin(), stale.end(), by_index);
  std::sort(unassigned.begin(), unassigned.end(), by_index);
  std::vector<const Ec2Group*> spare = stale;
  spare.insert(spare.end(), unassigned.begin(), unassigned.end());
  size_t next_spare = 0;

  Ec2GroupPlan plan;
  auto start_slot = [](const Ec2Group& g) {
    Slot s;
    s.change.group_id = g.id;
    s.change.name = g.name;
    s.change.scope = g.scope;
    s.change.index = g.index;
    s.change.before = g.rules.size();
    s.other = g.other_rules;
    return s;
  };

  std::set<const Ec2Group*> adopted;
  for (const auto& [scope, rules] : wanted) {
    std::vector<const Ec2Group*>& groups = by_scope[scope];
    std::sort(groups.begin(), groups.end(), by_index);
    std::vector<Slot> slots;
    std::set<Ec2Rule> placed;
    const std::set<Ec2Rule> want(rules.begin(), rules.end());
    int max_index = 0;
    // Existing rules stay where they are, once each; everything else in the group goes.
    auto settle = [&](const Ec2Group& g, Slot& slot) {
      for (const auto& r : g.rules) {
        if (want.count(r) && placed.insert(r).second)
          slot.keep(r);
        else
          slot.change.revoke.push_back(r);
      }
    };
    for (const Ec2Group* g : groups) {
      Slot slot = start_slot(*g);
      settle(*g, slot);
      max_index = std::max(max_index, g->index);
      slots.push_back(std::move(slot));
    }
    for (const auto& r : rules) {
      if (placed.count(r)) continue;
      Slot* room = nullptr;
      for (auto& s : slots)
        if (s.has_room(r, rules_per_group)) {
          room = &s;
          break;
        }
      while (!room) {
        Slot slot;
        if (next_spare < spare.size()) {
          // The spare group that already holds the most of what is missing moves the fewest
          // rules; ties keep the order (assigned before unassigned, by index).
          size_t best = next_spare, best_count = 0;
          for (size_t i = next_spare; i < spare.size(); ++i) {
            size_t n = 0;
            for (const auto& have : spare[i]->rules) n += want.count(have) && !placed.count(have);
            if (n > best_count) best = i, best_count = n;
          }
          std::swap(spare[next_spare], spare[best]);
          std::stable_sort(spare.begin() + long(next_spare) + 1, spare.end(),
                           [&](auto* a, auto* b) {
                             bool a_stale = !a->scope.empty(), b_stale = !b->scope.empty();
                             if (a_stale != b_stale) return a_stale;
                             return by_index(a, b);
                           });
          const Ec2Group* g = spare[next_spare++];
          adopted.insert(g);
          slot = start_slot(*g);
          slot.change.adopt = true;
          slot.change.scope = scope;
          slot.change.index = ++max_index;
          settle(*g, slot);
        } else {
          slot.change.create = true;
          slot.change.scope = scope;
          slot.change.index = ++max_index;
          slot.change.name = ec2_group_name(base_name, scope, slot.change.index);
        }
        slots.push_back(std::move(slot));
        // An adopted group may already be full of what it keeps (or of other rules).
        if (slots.back().has_room(r, rules_per_group)) room = &slots.back();
        if (rules_per_group == 0) break;
      }
      if (!room) break;
      if (placed.count(r)) continue;  // the adopted group already held it
      room->keep(r);
      room->change.authorize.push_back(r);
      placed.insert(r);
    }
    for (auto& s : slots) {
      std::sort(s.change.revoke.begin(), s.change.revoke.end());
      std::sort(s.change.authorize.begin(), s.change.authorize.end());
      s.change.after = s.count[0] + s.count[1];
      plan.groups.push_back(std::move(s.change));
    }
  }
  // Spare groups nobody needed: emptied when edgeguard had assigned them, untouched otherwise.
  for (const Ec2Group* g : spare) {
    if (adopted.count(g)) continue;
    Slot slot = start_slot(*g);
    if (!g->scope.empty()) slot.change.revoke = g->rules;
    std::sort(slot.change.revoke.begin(), slot.change.revoke.end());
    slot.change.after = slot.change.before - slot.change.revoke.size();
    plan.groups.push_back(std::move(slot.change));
  }
  return plan;
}

}  // namespace eg::origin
