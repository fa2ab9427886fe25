#include "origin/firewall_nftables.h"

#include <fmt/core.h>

#include <algorithm>
#include <future>

#include "origin/firewall_process.h"
#include "origin/ipranges_json.h"
#include "origin/ipranges_json_reader.h"

namespace eg::origin {
namespace {

constexpr const char* kChain = "input";
constexpr size_t kElementsPerLine = 500;

std::string nft_set_name(const AddressSet& s) { return "allow_" + s.name; }

std::string port_match(const std::vector<PortRange>& ports) {
  if (ports.size() == 1) return "tcp dport " + ports[0].to_string();
  std::string out = "tcp dport { ";
  for (size_t i = 0; i < ports.size(); ++i) out += (i ? ", " : "") + ports[i].to_string();
  return out + " }";
}

struct Rule {
  std::string body;
  std::string comment;
};

// The chain's rules, in order. The comment is the rule's identity when the chain is read back.
std::vector<Rule> desired_rules(const DesiredState& d) {
  std::string ports = ports_to_string(d.ports);
  std::vector<Rule> rules = {
      {"iif \"lo\" accept", "edgeguard: loopback"},
      {"ct state established,related accept", "edgeguard: established"},
  };
  for (const auto& s : d.sets) {
    std::string name = nft_set_name(s);
    rules.push_back({fmt::format("{} {} saddr @{} accept", port_match(d.ports),
                                 s.version == IpVersion::V4 ? "ip" : "ip6", name),
                     fmt::format("edgeguard: allow @{} on tcp {}", name, ports)});
  }
  rules.push_back({port_match(d.ports) + " drop", "edgeguard: drop tcp " + ports});
  return rules;
}

// A set element as nft -j lists it: "1.2.3.4", {"prefix": {...}}, {"range": [a, b]}, or any
// of these wrapped in {"elem": {"val": ...}} when the element has a comment or timeout.
bool read_element(const Json& e, std::vector<Prefix>& out) {
  if (e.is_object() && e.contains("elem")) {
    const Json& inner = e["elem"];
    return inner.is_object() && inner.contains("val") && read_element(inner["val"], out);
  }
  if (e.is_string()) {
    auto p = parse_address(e.get_ref<const std::string&>());
    if (!p) return false;
    out.push_back(*p);
    return true;
  }
  if (!e.is_object()) return false;
  if (auto it = e.find("prefix"); it != e.end()) {
    if (!it->is_object()) return false;
    auto addr = it->find("addr"), length = it->find("len");
    if (addr == it->end() || length == it->end() || !addr->is_string() ||
        !length->is_number_unsigned() || length->get<uint64_t>() > 128)
      return false;
    auto p = parse_address(addr->get_ref<const std::string&>());
    unsigned len = unsigned(length->get<uint64_t>());
    if (!p || len > unsigned(p->max_length())) return false;
    p->length = uint8_t(len);
    out.push_back(*p);
    return true;
  }
  if (auto it = e.find("range"); it != e.end()) {
    if (!it->is_array() || it->size() != 2 || !(*it)[0].is_string() || !(*it)[1].is_string())
      return false;
    auto a = parse_address((*it)[0].get_ref<const std::string&>());
    auto b = parse_address((*it)[1].get_ref<const std::string&>());
    if (!a || !b || a->version != b->version) return false;
    for (const auto& p : range_to_prefixes(*a, *b)) out.push_back(p);
    return true;
  }
  return false;
}

std::string element_lines(const char* verb, const std::string& target,
                          const std::vector<Prefix>& prefixes) {
  std::string out;
  for (size_t i = 0; i < prefixes.size(); i += kElementsPerLine) {
    out += fmt::format("{} element {} {{ ", verb, target);
    size_t end = std::min(prefixes.size(), i + kElementsPerLine);
    for (size_t j = i; j < end; ++j) out += (j > i ? ", " : "") + prefixes[j].to_string();
    out += " }\n";
  }
  return out;
}

class NftablesBackend : public FirewallBackend {
 public:
  NftablesBackend(std::string family, std::string table, std::string command)
      : family_(std::move(family)), table_(std::move(table)), command_(std::move(command)) {}

  bool plan(const DesiredState& desired, Plan& out, std::string& error) override {
    NftablesState current;
    if (!read(current, error)) return false;
    out = plan_nftables(family_, table_, current, desired).plan;
    return true;
  }

  bool apply(const DesiredState& desired, Plan& out, std::string& error) override {
    NftablesState current;
    if (!read(current, error)) return false;
    NftablesPlan p = plan_nftables(family_, table_, current, desired);
    out = p.plan;
    if (p.script.empty()) return true;
    ProcessResult r = run_process({command_, "-f", "-"}, p.script);
    if (r.exit_code != 0) {
      error =
          fmt::format("nft -f refused the change (nothing was applied): {}", trim_output(r.err));
      return false;
    }
    // Read back: what the kernel holds now must be exactly the desired state.
    NftablesState after;
    if (!read(after, error)) return false;
    NftablesPlan left = plan_nftables(family_, table_, after, desired);
    if (left.plan.has_changes()) {
      error = "nft applied the script but the table still differs from the desired state";
      return false;
    }
    return true;
  }

 private:
  static std::string trim_output(const std::string& s) {
    std::string out = s.substr(0, 2000);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  // `nft -j list` of a table holding thousands of elements takes as long as parsing the
  // document (tens of ms): the two overlap.
  void prefetch() override {
    listing_ = std::async(std::launch::async, [this] { return list(); });
  }

  ProcessResult list() { return run_process({command_, "-j", "list", "table", family_, table_}); }

  bool read(NftablesState& out, std::string& error) {
    ProcessResult r = listing_.valid() ? listing_.get() : list();
    if (r.exit_code != 0) {
      if (r.err.find("No such file or directory") != std::string::npos) {
        out = NftablesState{};
        return true;  // the table does not exist yet
      }
      error = fmt::format("cannot read table {} {} with {}: {}", family_, table_, command_,
                          r.exit_code < 0 && r.err.empty() ? "it did not run" : trim_output(r.err));
      return false;
    }
    if (!parse_nft_listing(r.out, out, error)) {
      error = "cannot understand `nft -j list table`: " + error;
      return false;
    }
    return true;
  }

  std::string family_, table_, command_;
  std::future<ProcessResult> listing_;
};

bool valid_nft_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::unique_ptr<FirewallBackend> make_nftables(const BackendOptions& options, std::string& error) {
  std::string spec = options.find("nft-table")->second;
  std::string family = "inet", table = spec;
  if (auto sp = spec.find(' '); sp != std::string::npos) {
    family = spec.substr(0, sp);
    table = spec.substr(sp + 1);
  }
  if (family != "inet") {
    error =
        "--nft-table: the family must be inet (one table holds the IPv4 and IPv6 sets), "
        "found \"" +
        family + "\"";
    return nullptr;
  }
  if (!valid_nft_name(table)) {
    error = "--nft-table: \"" + table +
            "\" is not a table name (a letter, then letters, digits, "
            "'_' or '-')";
    return nullptr;
  }
  return std::make_unique<NftablesBackend>(family, table, options.find("nft-command")->second);
}

}  // namespace

namespace {

// A string member, "" when absent or of another type (Json::value would throw).
std::string text_of(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A set, streamed: its elements can number in the thousands (the reader is at its '{').
bool read_set(JsonReader& json, NftablesState::Set& s, std::string& error) {
  json.begin_object();
  std::string key;
  while (json.next_key(key)) {
    if (key == "elem" && json.peek() == JsonReader::Kind::Array) {
      json.begin_array();
      while (json.next_element()) {
        Json el;
        if (!json.read_value(el)) break;
        if (!read_element(el, s.prefixes)) {
          error = fmt::format("set {}: element {} is not an address, prefix or range", s.name,
                              el.dump(-1, ' ', false, Json::error_handler_t::replace));
          return false;
        }
      }
      continue;
    }
    Json v;
    if (!json.read_value(v)) break;
    if (key == "name" && v.is_string()) s.name = v.get<std::string>();
    if (key == "type" && v.is_string()) s.type = v.get<std::string>();
    if (key == "flags" && v.is_array())
      for (const Json& flag : v) s.interval = s.interval || flag == "interval";
  }
  s.prefixes = normalise(std::move(s.prefixes));
  return true;
}

}  // namespace

bool parse_nft_listing(const std::string& json_text, NftablesState& out, std::string& error) {
  out = NftablesState{};
  JsonReader json(json_text);
  bool saw_list = false;
  if (json.peek() == JsonReader::Kind::Object) {
    json.begin_object();
    std::string key;
    while (json.next_key(key)) {
      if (key != "nftables" || json.peek() != JsonReader::Kind::Array) {
        json.skip_value();
        continue;
      }
      saw_list = true;
      json.begin_array();
      while (json.next_element()) {
        if (json.peek() != JsonReader::Kind::Object) {
          json.skip_value();
          continue;
        }
        json.begin_object();
        std::string kind;
        while (json.next_key(kind)) {
          if (kind == "set" && json.peek() == JsonReader::Kind::Object) {
            NftablesState::Set s;
            if (!read_set(json, s, error)) return false;
            out.sets.push_back(std::move(s));
            continue;
          }
          Json v;
          if (!json.read_value(v)) break;
          if (!v.is_object()) continue;
          if (kind == "table") out.table_exists = true;
          if (kind == "chain" && text_of(v, "name") == kChain) {
            out.chain_exists = true;
            out.chain_hook_ok = text_of(v, "type") == "filter" && text_of(v, "hook") == "input" &&
                                v.contains("prio") && v["prio"] == 0 &&
                                text_of(v, "policy") == "accept";
          }
          if (kind == "rule" && text_of(v, "chain") == kChain) {
            auto c = v.find("comment");
            out.rule_comments.push_back(c != v.end() && c->is_string() ? c->get<std::string>()
                                                                       : "");
          }
        }
      }
    }
  }
  if (!json.finish()) {
    error = "not JSON: " + json.error();
    return false;
  }
  if (!saw_list) {
    error = "expected {\"nftables\": [...]}";
    return false;
  }
  return true;
}

NftablesPlan plan_nftables(const std::string& family, const std::string& table,
                           const NftablesState& current, const DesiredState& desired) {
  NftablesPlan result;
  Plan& plan = result.plan;
  const std::string qualified = family + " " + table;
  plan.backend = "nftables table " + qualified;
  plan.current.push_back(current.table_exists
                             ? fmt::format("table {}: {} set(s), chain {} {}", qualified,
                                           current.sets.size(), kChain,
                                           current.chain_exists ? "present" : "absent")
                             : fmt::format("table {}: absent", qualified));

  std::vector<Rule> rules = desired_rules(desired);
  std::vector<std::string> want_comments;
  for (const auto& r : rules) want_comments.push_back(r.comment);
  bool rewrite_chain =
      !current.chain_exists || !current.chain_hook_ok || current.rule_comments != want_comments;

  auto find_current = [&](const std::string& name) -> const NftablesState::Set* {
    for (const auto& s : current.sets)
      if (s.name == name) return &s;
    return nullptr;
  };

  std::string head, drops, sets, elements;
  if (!current.table_exists) {
    plan.actions.push_back("create table " + qualified);
    head += "add table " + qualified + "\n";
  }
  static const std::vector<Prefix> kNone;
  std::vector<std::string> to_create;
  for (const auto& s : desired.sets) {
    std::string name = nft_set_name(s);
    std::string type = s.version == IpVersion::V4 ? "ipv4_addr" : "ipv6_addr";
    const NftablesState::Set* have = find_current(name);
    bool recreate = have && (have->type != type || !have->interval);
    if (!have || recreate) {
      plan.actions.push_back(fmt::format("{} set {} (type {}, flags interval)",
                                         recreate ? "recreate" : "create", name, type));
      if (recreate) {
        rewrite_chain = true;  // its rules must let go of the set before it can be deleted
        drops += fmt::format("delete set {} {}\n", qualified, name);
      }
      sets += fmt::format("add set {} {} {{ type {}; flags interval; }}\n", qualified, name, type);
    }
    const std::vector<Prefix>& before = (have && !recreate) ? have->prefixes : kNone;
    PrefixDiff diff = diff_prefixes(before, s.prefixes);
    plan.changes.push_back(describe_change("set " + name, before, s.prefixes, diff));
    const std::string target = qualified + " " + name;
    elements += element_lines("delete", target, diff.removed);
    elements += element_lines("add", target, diff.added);
  }
  for (const auto& s : current.sets) {
    bool wanted = std::any_of(desired.sets.begin(), desired.sets.end(),
                              [&](const AddressSet& d) { return nft_set_name(d) == s.name; });
    if (wanted) continue;
    rewrite_chain = true;
    SetChange c = describe_change("set " + s.name, s.prefixes, {}, {{}, s.prefixes});
    c.notes.push_back("deleted: not part of the desired state");
    plan.changes.push_back(std::move(c));
    drops += fmt::format("delete set {} {}\n", qualified, s.name);
  }

  std::string chain;
  if (rewrite_chain) {
    plan.actions.push_back(fmt::format(
        "{} chain {}: accept loopback and established, accept {} on tcp {}, drop the rest on "
        "those ports",
        current.chain_exists ? "rewrite" : "create", kChain,
        [&] {
          std::string names;
          for (const auto& s : desired.sets)
            names += (names.empty() ? "@" : ", @") + nft_set_name(s);
          return names;
        }(),
        ports_to_string(desired.ports)));
    if (current.chain_exists) {
      // A chain hooked differently cannot be changed in place: it goes, empty, and comes back.
      std::string prefix = fmt::format("flush chain {} {}\n", qualified, kChain);
      if (!current.chain_hook_ok) prefix += fmt::format("delete chain {} {}\n", qualified, kChain);
      drops = prefix + drops;
    }
    if (!current.chain_exists || !current.chain_hook_ok)
      chain += fmt::format(
          "add chain {} {} {{ type filter hook input priority filter; policy accept; }}\n",
          qualified, kChain);
    for (const auto& r : rules)
      chain +=
          fmt::format("add rule {} {} {} comment \"{}\"\n", qualified, kChain, r.body, r.comment);
  }

  if (plan.has_changes()) {
    // Order matters inside the one transaction: rules must drop their references before a set
    // goes, and sets must exist before rules and elements name them.
    result.script = "# edgeguard ipranges: " + desired.description + "\n" + head + drops + sets +
                    chain + elements;
  }
  return result;
}

BackendSpec nftables_backend_spec() {
  return BackendSpec{
      "nftables",
      "nftables sets and an input chain on this host (run it on the origin, as root)",
      {
          {"nft-table", "nftables table that edgeguard owns: \"inet NAME\"", "inet edgeguard"},
          {"nft-command", "the nft program", "nft"},
      },
      make_nftables,
  };
}

}  // namespace eg::origin
