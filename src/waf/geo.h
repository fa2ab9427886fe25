// Country, subdivision and ASN of an address from MaxMind-format databases (libmaxminddb),
// for GeoMatchStatement, AsnMatchStatement and the awswaf:clientip:geo labels. Opened once per
// ACL snapshot (memory-mapped), read-only afterwards, safe to share between threads.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "waf/ip_address.h"

namespace eg::waf {

struct GeoInfo {
  char country[3] = "XX";      // ISO 3166-1 alpha-2; "XX" when unknown (AWS's label value)
  char subdivision[4] = "XX";  // ISO 3166-2 subdivision code without the country; "XX" unknown
};

class GeoDatabase {
 public:
  // Opens a GeoLite2/GeoIP2 Country or City database (or any MMDB with country.iso_code and
  // optionally subdivisions[0].iso_code). nullptr with `error` set when the file cannot be used.
  static std::unique_ptr<GeoDatabase> open(const std::string& path, std::string& error);
  ~GeoDatabase();
  GeoInfo lookup(const IpAddress& a) const;

 private:
  GeoDatabase();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class AsnDatabase {
 public:
  // A GeoLite2-ASN style database (autonomous_system_number).
  static std::unique_ptr<AsnDatabase> open(const std::string& path, std::string& error);
  ~AsnDatabase();
  std::optional<uint32_t> lookup(const IpAddress& a) const;

 private:
  AsnDatabase();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::waf
