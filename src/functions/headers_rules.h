// The header and field rules CloudFront applies to what an edge function returns
// (aws-formats §1.5–1.7), shared by Lambda@Edge and CloudFront Functions validation, and
// the small text helpers both event builders use.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "functions/function.h"

namespace eg::functions {

// AWS's own error texts (seen on CloudFront 502 pages and in CloudWatch), quoted in our
// messages so a user can search for them.
inline constexpr std::string_view kAwsReadOnlyHeader =
    "The Lambda function result failed validation: The function tried to add, delete, or "
    "change a read-only header.";
inline constexpr std::string_view kAwsDisallowedHeader =
    "The Lambda function result failed validation: The function tried to add a blacklisted "
    "header.";
inline constexpr std::string_view kAwsBody =
    "The Lambda function result failed validation: The body is not a string, is not an "
    "object, or exceeds the maximum size.";
inline constexpr std::string_view kAwsHeadersArray =
    "The Lambda function returned an invalid entry in the headers object: Each header entry in "
    "the headers object must be an array.";
inline constexpr std::string_view kAwsHeaderValueType =
    "The Lambda function returned an invalid entry in the headers object, the value of each "
    "header value must be of string or array of string type.";
inline constexpr std::string_view kAwsNotParsable =
    "The Lambda function returned invalid JSON: The JSON output is not parsable.";
inline constexpr std::string_view kAwsNotObject =
    "The Lambda function returned invalid JSON: The JSON output must be an object type.";
inline constexpr std::string_view kAwsInvalidHeaderChar =
    "Lambda function result validation failed, the function returned an invalid header, "
    "invalid character in header value.";
inline constexpr std::string_view kAwsFailedValidation =
    "The Lambda function result failed validation.";

// §1.6: not shown to functions and never accepted from them (X-Amz-Cf-* and X-Edge-* are
// prefixes). Case-insensitive.
bool is_disallowed_header(std::string_view name);
// §1.7: readable, but adding, changing or removing one fails the function.
bool is_read_only_header(EventType event, std::string_view name);
struct ReadOnlyViolation {
  std::string detail;           // "headers.host: Host is read-only in viewer-request events, ..."
  bool viewer_country = false;  // the CloudFront-Viewer-Country rule (§1.5 rule 9)
};
// Compares what a function was shown with what it returned: §1.7, and §1.5 rule 9.
std::optional<ReadOnlyViolation> read_only_violation(EventType event,
                                                     const std::vector<http::Header>& before,
                                                     const std::vector<http::Header>& after);
std::vector<std::string_view> values_of(const std::vector<http::Header>& h, std::string_view name);
// "user-agent" -> "User-Agent": what CloudFront writes when a function omits `key`.
std::string title_case_header(std::string_view name);
bool is_lowercase(std::string_view s);
// An RFC 9110 token (a header name).
bool is_token(std::string_view s);
// Index of the first byte a header value may not hold (CR, LF, NUL, other controls but
// HTAB, DEL), or npos.
size_t find_invalid_value_char(std::string_view value);
// "'%0D' (CR)" for a message.
std::string describe_byte(char c);
bool is_ip_literal(std::string_view host);
// Letters, digits, '-' and '.', labels of 1..63, no leading/trailing '-' in a label.
bool is_dns_name(std::string_view host);
// Strict standard base64 (padding required, '=' only at the end, no whitespace).
bool is_strict_base64(std::string_view text);

// Appends s as a JSON string literal (quotes included). Bytes that are not valid UTF-8 are
// taken as ISO-8859-1 and transcoded, as CloudFront does with header and URI bytes.
void append_json_string(std::string& out, std::string_view s);
// The four fields both event formats carry about the call (Lambda@Edge's cf.config,
// CloudFront Functions' context): "distributionDomainName":..,"distributionId":..,
// "eventType":..,"requestId":.. (no braces).
void append_event_config_fields(std::string& out, const Context& c);

}  // namespace eg::functions
