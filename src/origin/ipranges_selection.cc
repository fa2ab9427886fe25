#include "origin/ipranges_selection.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "core/strings.h"

namespace eg::origin {

std::string PortRange::to_string() const {
  return first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
}

std::string ports_to_string(const std::vector<PortRange>& ports) {
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ',';
    out += p.to_string();
  }
  return out;
}

std::optional<std::vector<PortRange>> parse_ports(std::string_view text, std::string* error) {
  std::vector<PortRange> out;
  auto port = [](std::string_view s) -> std::optional<uint16_t> {
    auto v = parse_uint(trim(s));
    if (!v || *v < 1 || *v > 65535) return std::nullopt;
    return uint16_t(*v);
  };
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    size_t dash = item.find('-');
    auto first = port(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : port(item.substr(dash + 1));
    if (!first || !last || *last < *first) {
      *error = fmt::format("ports: \"{}\" is not a port (1-65535) or a range like 8000-8080",
                           std::string(item));
      return std::nullopt;
    }
    out.push_back({*first, *last});
  }
  if (out.empty()) {
    *error = "ports: at least one port is needed";
    return std::nullopt;
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first <= out[i - 1].last) {
      *error = fmt::format("ports: {} overlaps {}", out[i].to_string(), out[i - 1].to_string());
      return std::nullopt;
    }
  }
  return out;
}

std::string set_name(Scope scope, IpVersion version) {
  std::string v = version == IpVersion::V4 ? "ipv4" : "ipv6";
  switch (scope) {
    case Scope::Global:
      return "global_" + v;
    case Scope::Regional:
      return "regional_" + v;
    default:
      return v;
  }
}

size_t DesiredState::prefix_count() const {
  size_t n = 0;
  for (const auto& s : sets) n += s.prefixes.size();
  return n;
}

const AddressSet* DesiredState::find(std::string_view name) const {
  for (const auto& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

}  // namespace

SelectResult select_ranges(const Document& doc, const Selection& sel,
                           std::vector<PortRange> ports) {
  SelectResult result;
  std::set<std::string, std::less<>> doc_services, doc_regions;
  for (const auto* list : {&doc.prefixes, &doc.ipv6_prefixes})
    for (const auto& e : *list) {
      doc_services.insert(e.service);
      doc_regions.insert(e.region);
    }

  // Names that the document never mentions are typos until proven otherwise: an allowlist
  // silently built from nothing would lock the origin out.
  std::vector<std::string> services = sel.services;
  if (services.empty()) services.push_back(std::string(kDefaultService));
  bool all_services = std::any_of(services.begin(), services.end(),
                                  [](const std::string& s) { return iequals(s, "ALL"); });
  if (all_services) services.assign(doc_services.begin(), doc_services.end());
  for (const auto& s : services)
    if (!doc_services.count(s))
      result.errors.push_back(fmt::format(
          "service {} is not in the document (it lists: {})", s,
          join(std::vector<std::string>(doc_services.begin(), doc_services.end()), ", ")));
  for (const auto& r : sel.regions)
    if (!doc_regions.count(r))
      result.errors.push_back(fmt::format("region {} is not in the document ({} regions, e.g. {})",
                                          r, doc_regions.size(),
                                          doc_regions.empty() ? "none" : *doc_regions.begin()));
  if (!sel.ipv4 && !sel.ipv6) result.errors.push_back("neither IPv4 nor IPv6 selected");
  if (!result.errors.empty()) return result;

  std::set<std::string, std::less<>> service_set(services.begin(), services.end());
  std::set<std::string, std::less<>> region_set(sel.regions.begin(), sel.regions.end());
  auto wanted = [&](const RangeEntry& e) {
    if (!service_set.count(e.service)) return false;
    if (e.region == kGlobalRegion) return sel.include_global;
    return region_set.empty() || region_set.count(e.region) > 0;
  };

  DesiredState state;
  state.ports = std::move(ports);
  state.services = services;
  std::vector<Scope> scopes = sel.split_global ? std::vector<Scope>{Scope::Global, Scope::Regional}
                                               : std::vector<Scope>{Scope::All};
  for (Scope scope : scopes) {
    for (IpVersion v : {IpVersion::V4, IpVersion::V6}) {
      if ((v == IpVersion::V4 && !sel.ipv4) || (v == IpVersion::V6 && !sel.ipv6)) continue;
      const auto& entries = v == IpVersion::V4 ? doc.prefixes : doc.ipv6_prefixes;
      std::vector<Prefix> picked;
      for (const auto& e : entries) {
        if (!wanted(e)) continue;
        bool global = e.region == kGlobalRegion;
        if (scope == Scope::Global && !global) continue;
        if (scope == Scope::Regional && global) continue;
        picked.push_back(e.prefix);
      }
      state.selected_entries += picked.size();
      AddressSet set;
      set.name = set_name(scope, v);
      set.scope = scope;
      set.version = v;
      set.prefixes = normalise(std::move(picked), &set.normalisation);
      state.sets.push_back(std::move(set));
    }
  }
  std::string regions = sel.regions.empty() ? "every region" : join(sel.regions, ", ");
  regions += sel.include_global ? (sel.regions.empty() ? "" : " and GLOBAL") : " except GLOBAL";
  state.description = fmt::format(
      "services {}; {}; {}; tcp ports {}{}",
      all_services ? fmt::format("ALL ({})", services.size()) : join(services, ", "), regions,
      sel.ipv4 && sel.ipv6 ? "IPv4 and IPv6" : (sel.ipv4 ? "IPv4 only" : "IPv6 only"),
      ports_to_string(state.ports), sel.split_global ? "; GLOBAL and regional ranges apart" : "");
  result.state = std::move(state);
  return result;
}

}  // namespace eg::origin
