// The nftables backend: the origin host's kernel admits only the selected ranges on the
// given TCP ports.
//
// It owns one table (default `inet edgeguard`) holding a named interval set per desired set
// (allow_ipv4, allow_ipv6, or allow_global_ipv4 ... when GLOBAL is kept apart) and a chain
// `input` hooked at input (priority filter, policy accept) that accepts loopback and
// established traffic, accepts the sets on the ports, and drops every other packet to those
// ports. Each rule carries a comment that names what it does; a chain whose comments differ
// from the desired ones is rewritten. The current state is read with `nft -j list table`;
// changes go in one `nft -f -` script, which the kernel applies as one transaction: only the
// element difference (delete element / add element), plus the table, sets and chain when
// they are missing or different.
#pragma once
#include <string>
#include <vector>

#include "origin/ipranges_backend.h"

namespace eg::origin {

BackendSpec nftables_backend_spec();

// What the script would be, for tests and `plan --show-script`: empty when nothing differs.
struct NftablesPlan {
  Plan plan;
  std::string script;
};

// The pieces, exposed for unit tests (no nft needed).
struct NftablesState {
  bool table_exists = false;
  struct Set {
    std::string name;
    std::string type;  // "ipv4_addr"
    bool interval = false;
    std::vector<Prefix> prefixes;  // normalised
  };
  std::vector<Set> sets;
  bool chain_exists = false;
  bool chain_hook_ok = false;  // filter, hook input, priority 0, policy accept
  std::vector<std::string> rule_comments;
};

// Parses `nft -j list table FAMILY NAME` output.
bool parse_nft_listing(const std::string& json, NftablesState& out, std::string& error);
NftablesPlan plan_nftables(const std::string& family, const std::string& table,
                           const NftablesState& current, const DesiredState& desired);

}  // namespace eg::origin
