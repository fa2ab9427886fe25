// Firewall backends for `edgeguard ipranges`: one interface, one table of backends.
//
// A backend reads what its firewall holds now, works out the difference to a DesiredState
// (plan), and changes only that difference (apply). Adding a backend is one file in
// src/origin (firewall_<name>.cc defining its BackendSpec) and one line in
// ipranges_backend.cc's table.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "origin/ipranges_prefix.h"
#include "origin/ipranges_selection.h"

namespace eg::origin {

// The change to one set (nftables, shield) or one group (EC2).
struct SetChange {
  std::string target;  // "set allow_ipv4", "group sg-0abc (edgeguard-ipv4-2)", "file /etc/x"
  size_t before = 0;   // entries now
  size_t after = 0;    // entries once applied
  std::vector<std::string> added;  // "1.2.3.0/24" or, for rules, "tcp 443 from 1.2.3.0/24"
  std::vector<std::string> removed;
  std::vector<std::string> notes;  // "created", "deleted", "emptied", ...
  bool changes() const { return !added.empty() || !removed.empty() || !notes.empty(); }
};

struct Plan {
  std::string backend;               // "nftables table inet edgeguard"
  std::vector<std::string> current;  // how the current state was read, one line each
  std::vector<SetChange> changes;    // every set or group, changed or not
  std::vector<std::string> actions;  // structural work: "create table", "rewrite chain input"
  size_t added() const;
  size_t removed() const;
  bool has_changes() const;
};

class FirewallBackend {
 public:
  virtual ~FirewallBackend() = default;
  // Reads the current state and fills `out` with what apply would change. false + error when
  // the current state cannot be read.
  virtual bool plan(const DesiredState& desired, Plan& out, std::string& error) = 0;
  // Reads the current state again and changes only the difference; `out` says what was
  // changed. Doing nothing when nothing differs is part of the contract (idempotence).
  virtual bool apply(const DesiredState& desired, Plan& out, std::string& error) = 0;
  // May start reading the current state in the background, while the document is fetched
  // and parsed; the next plan or apply then uses that reading. Optional.
  virtual void prefetch() {}
};

// Values of a backend's own flags, by flag name without dashes ("nft-table"); every option
// of the spec is present, with its default when not given.
using BackendOptions = std::map<std::string, std::string, std::less<>>;

struct BackendOption {
  std::string name;  // flag without dashes: "nft-table"
  std::string help;
  std::string default_value;  // empty: none
};

struct BackendSpec {
  std::string name;  // --backend NAME
  std::string summary;
  std::vector<BackendOption> options;
  // nullptr + error when an option is invalid; error names the flag.
  std::unique_ptr<FirewallBackend> (*make)(const BackendOptions& options, std::string& error);
};

// The table, in --help order.
const std::vector<BackendSpec>& firewall_backends();
const BackendSpec* find_backend(std::string_view name);

// The difference between two normalised, sorted prefix lists.
struct PrefixDiff {
  std::vector<Prefix> added;
  std::vector<Prefix> removed;
};
PrefixDiff diff_prefixes(const std::vector<Prefix>& current, const std::vector<Prefix>& desired);
SetChange describe_change(std::string target, const std::vector<Prefix>& current,
                          const std::vector<Prefix>& desired, const PrefixDiff& diff);

}  // namespace eg::origin
