// The AWS ip-ranges.json document and its change notification (aws-formats.md §6).
//
// Both parsers read untrusted bytes (a URL's answer, an SNS delivery) and never throw: they
// return the model or every problem found, each naming the place in the document, e.g.
//   prefixes[12].ip_prefix: "1.2.3/24" is not an IPv4 prefix
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/ipranges_prefix.h"

namespace eg::origin {

struct RangeEntry {
  Prefix prefix;        // as published: host bits may be set (normalisation reports it)
  std::string region;   // "us-east-1" or "GLOBAL"
  std::string service;  // "CLOUDFRONT_ORIGIN_FACING", "AMAZON", ...
  std::string network_border_group;  // empty in documents that predate the field (2018)
};

struct Document {
  std::string sync_token;                 // Unix seconds, as the string AWS publishes
  std::string create_date;                // "YYYY-MM-DD-hh-mm-ss" (UTC)
  std::vector<RangeEntry> prefixes;       // IPv4
  std::vector<RangeEntry> ipv6_prefixes;  // IPv6
  std::string md5;                        // of the exact bytes parsed, lowercase hex
  size_t bytes = 0;
};

// At most this many problems are listed; the last line then says how many more there were.
inline constexpr size_t kMaxListedErrors = 20;

struct DocumentResult {
  std::optional<Document> document;  // set exactly when errors is empty
  std::vector<std::string> errors;
};

// Keys AWS may add later are ignored; every key edgeguard reads is checked. `prefixes` is
// required, `ipv6_prefixes` optional (documents before 2016 have none).
DocumentResult parse_document(std::string_view bytes);

// The SNS message AWS publishes on AmazonIpSpaceChanged.
struct Notification {
  std::string create_time;  // "2018-01-16-15-12-10" or "2018-01-16T15:12:10+00:00"
  std::string sync_token;
  std::string md5;  // lowercase hex
  std::string url;
  std::string source;  // "message", "SNS envelope" or "Lambda event": what the input was
};

struct NotificationResult {
  std::optional<Notification> notification;
  std::vector<std::string> errors;
};

// Accepts the message itself ({"create-time", "synctoken", "md5", "url"}), an SNS HTTP/S
// delivery or SNS-to-SQS envelope ({"Type": "Notification", "Message": "<the message as a
// string>", ...}) or a Lambda event ({"Records": [{"Sns": {"Message": "..."}}]}).
NotificationResult parse_notification(std::string_view bytes);
// The message alone, already extracted from its envelope; `where` prefixes error paths.
NotificationResult parse_notification_message(std::string_view message, std::string_view where);

std::string md5_hex(std::string_view bytes);

// Refuses a document whose MD5 is not the notification's; the error names both hashes.
std::optional<std::string> check_md5(const Document& d, const Notification& n);

}  // namespace eg::origin
