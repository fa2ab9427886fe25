#include "origin/ipranges_backend.h"

#include <algorithm>

#include "origin/firewall_ec2.h"
#include "origin/firewall_nftables.h"
#include "origin/firewall_shield.h"

namespace eg::origin {

const std::vector<BackendSpec>& firewall_backends() {
  static const std::vector<BackendSpec> table = {
      nftables_backend_spec(),
      ec2_backend_spec(),
      shield_backend_spec(),
  };
  return table;
}

const BackendSpec* find_backend(std::string_view name) {
  for (const auto& b : firewall_backends())
    if (b.name == name) return &b;
  return nullptr;
}

size_t Plan::added() const {
  size_t n = 0;
  for (const auto& c : changes) n += c.added.size();
  return n;
}

size_t Plan::removed() const {
  size_t n = 0;
  for (const auto& c : changes) n += c.removed.size();
  return n;
}

bool Plan::has_changes() const {
  if (!actions.empty()) return true;
  return std::any_of(changes.begin(), changes.end(),
                     [](const SetChange& c) { return c.changes(); });
}

PrefixDiff diff_prefixes(const std::vector<Prefix>& current, const std::vector<Prefix>& desired) {
  PrefixDiff d;
  std::set_difference(desired.begin(), desired.end(), current.begin(), current.end(),
                      std::back_inserter(d.added));
  std::set_difference(current.begin(), current.end(), desired.begin(), desired.end(),
                      std::back_inserter(d.removed));
  return d;
}

SetChange describe_change(std::string target, const std::vector<Prefix>& current,
                          const std::vector<Prefix>& desired, const PrefixDiff& diff) {
  SetChange c;
  c.target = std::move(target);
  c.before = current.size();
  c.after = desired.size();
  c.added.reserve(diff.added.size());
  for (const auto& p : diff.added) c.added.push_back(p.to_string());
  for (const auto& p : diff.removed) c.removed.push_back(p.to_string());
  return c;
}

}  // namespace eg::origin
