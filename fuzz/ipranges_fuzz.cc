// The ip-ranges parsers on fuzz bytes: the document (ip-ranges.json), the change notification
// in its three envelopes, the SNS delivery, and the answers read back from nft and EC2.
// Nothing may crash, hang or leak, and results must be consistent: a model exactly when there
// are no errors, every error with a message, every prefix printable and parsed back the same,
// normalisation sorted, free of containment and idempotent; and the document's own JSON
// reader accepts exactly what nlohmann accepts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "origin/firewall_ec2_shapes.h"
#include "origin/firewall_ec2_xml.h"
#include "origin/firewall_nftables.h"
#include "origin/firewall_shield.h"
#include "origin/ipranges_document.h"
#include "origin/ipranges_sns.h"

namespace {

using namespace eg::origin;

void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  fprintf(stderr, "ipranges_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

void check_prefixes(const std::vector<RangeEntry>& entries) {
  std::vector<Prefix> all;
  for (const auto& e : entries) {
    std::string text = e.prefix.to_string();
    auto back = parse_prefix(text);
    check(back && *back == e.prefix, "a prefix does not survive printing and parsing", text);
    check(!e.region.empty() && !e.service.empty(), "an entry without region or service");
    all.push_back(e.prefix);
  }
  auto once = normalise(all);
  for (size_t i = 1; i < once.size(); ++i) {
    check(once[i - 1] < once[i], "normalised prefixes out of order");
    check(!once[i - 1].contains(once[i]), "a normalised prefix contains the next",
          once[i - 1].to_string() + " " + once[i].to_string());
  }
  for (const auto& p : once) check(p.host_bits_zero(), "host bits left set", p.to_string());
  check(normalise(once) == once, "normalisation is not idempotent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);

  DocumentResult doc = parse_document(text);
  // The document reader is edgeguard's own JSON reader: it must agree with nlohmann on what
  // is JSON at all. (Except with a NUL byte: nlohmann takes one outside a string as the end
  // of the input and ignores the rest; the reader refuses it, as RFC 8259 does.)
  if (text.find('\0') == std::string::npos) {
    bool json = nlohmann::json::accept(text);
    bool said_not_json = !doc.errors.empty() && doc.errors[0].rfind("not JSON", 0) == 0;
    check(json != said_not_json, json ? "valid JSON called \"not JSON\"" : "invalid JSON accepted",
          doc.errors.empty() ? "" : doc.errors[0]);
  }
  check(doc.errors.size() <= kMaxListedErrors + 1, "too many errors listed");
  for (const auto& e : doc.errors) check(!e.empty(), "an empty error");
  if (doc.document) {
    check(doc.document->md5 == md5_hex(text), "the md5 is not the input's");
    check_prefixes(doc.document->prefixes);
    check_prefixes(doc.document->ipv6_prefixes);
    for (const auto& e : doc.document->prefixes)
      check(e.prefix.version == IpVersion::V4, "IPv6 in prefixes");
    for (const auto& e : doc.document->ipv6_prefixes)
      check(e.prefix.version == IpVersion::V6, "IPv4 in ipv6_prefixes");
  }

  NotificationResult note = parse_notification(text);
  check(note.notification.has_value() == note.errors.empty(),
        "a notification exactly when no errors");
  if (note.notification) {
    check(note.notification->md5.size() == 32, "an md5 that is not 32 hex digits");
    check(!note.notification->url.empty() && !note.notification->sync_token.empty(),
          "a notification without url or synctoken");
  }

  SnsParse sns = parse_sns_message(text);
  check(sns.message.has_value() == sns.error.empty(), "an SNS message exactly when no error");
  if (sns.message) {
    std::string sts = sns_string_to_sign(*sns.message);
    check(sts.rfind("Message\n", 0) == 0, "the string to sign does not start with Message");
    std::string error;
    check(!verify_sns_signature(*sns.message, "not a certificate", error),
          "verified without a key");
  }

  NftablesState state;
  std::string error;
  if (parse_nft_listing(text, state, error)) {
    for (const auto& s : state.sets)
      for (const auto& p : s.prefixes)
        check(p.host_bits_zero(), "nft element with host bits", p.to_string());
  }

  XmlElement root;
  if (parse_xml(text, root, error)) {
    std::vector<Ec2Group> groups;
    std::string token;
    parse_describe_security_groups(root, groups, token, error);
    ec2_error_of(root);
  }

  std::vector<Prefix> shield;
  parse_shield_file(text, "fuzz", shield, error);
  return 0;
}
