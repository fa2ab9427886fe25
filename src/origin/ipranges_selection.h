// From a document to the desired state: which prefixes, in which named sets, on which ports.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/ipranges_document.h"
#include "origin/ipranges_prefix.h"

namespace eg::origin {

inline constexpr std::string_view kDefaultService = "CLOUDFRONT_ORIGIN_FACING";
inline constexpr std::string_view kGlobalRegion = "GLOBAL";

struct Selection {
  std::vector<std::string> services;  // empty: kDefaultService; "ALL" (any case): every service
  std::vector<std::string> regions;   // empty: every region
  bool include_global = true;         // GLOBAL ranges, whatever `regions` says
  bool split_global = false;          // GLOBAL and regional ranges in separate sets
  bool ipv4 = true;
  bool ipv6 = true;
};

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  std::string to_string() const;  // "443" or "8000-8080"
  friend bool operator==(const PortRange&, const PortRange&) = default;
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};

// "80,443", "8000-8080"; sorted, duplicates and overlaps refused. nullopt + error otherwise.
std::optional<std::vector<PortRange>> parse_ports(std::string_view text, std::string* error);
std::string ports_to_string(const std::vector<PortRange>& ports);  // "80,443"

enum class Scope : uint8_t { All, Global, Regional };

struct AddressSet {
  std::string name;  // "ipv4", "ipv6"; split: "global_ipv4", "regional_ipv6", ...
  Scope scope = Scope::All;
  IpVersion version = IpVersion::V4;
  std::vector<Prefix> prefixes;  // normalised, sorted
  NormaliseReport normalisation;
};

struct DesiredState {
  std::vector<AddressSet> sets;
  std::vector<PortRange> ports;
  std::vector<std::string> services;  // as selected ("ALL" expanded)
  std::string description;            // one line: services, regions, versions, ports
  std::string document_line;          // "document syncToken ..., md5 ...": file headers, logs
  size_t selected_entries = 0;        // document entries that matched, before normalisation
  size_t prefix_count() const;
  const AddressSet* find(std::string_view name) const;
};

struct SelectResult {
  std::optional<DesiredState> state;
  std::vector<std::string> errors;  // a service or region that the document never mentions
};

SelectResult select_ranges(const Document& doc, const Selection& selection,
                           std::vector<PortRange> ports);

std::string set_name(Scope scope, IpVersion version);

}  // namespace eg::origin
