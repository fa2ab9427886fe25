// AWS Signature Version 4 signing (AWS4-HMAC-SHA256), header and presigned-query forms.
//
// The signer sees a request through RequestView (no dependency on the proxy): the method,
// the path and query exactly as they go on the wire, the headers in wire order and the
// payload. It returns the headers to set; the caller adds them (and must first drop any
// Authorization / X-Amz-* headers it got from a viewer: see is_viewer_signing_header).
//
// Canonical form (docs/sigv4.md has the details and the choices):
//  - path: for every service but s3, dot segments and duplicate slashes removed and the
//    wire path URI-encoded once more ("double encoding"); s3: the wire path as it is.
//  - query: each name and value percent-decoded, then URI-encoded (RFC 3986 unreserved
//    kept, uppercase hex, '+' is a literal plus: %2B), sorted by name then value.
//  - headers: lowercase names, values trimmed with inner whitespace runs collapsed,
//    repeated names joined with ',' in wire order; all headers signed except
//    SigningParams::unsigned_headers.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "aws/credentials.h"

namespace eg::aws::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Headers the AWS SDKs never sign (botocore SIGNED_HEADERS_BLACKLIST): a hop may change them.
inline constexpr std::string_view kSdkUnsignedHeaders[] = {"expect", "user-agent",
                                                           "x-amzn-trace-id"};
// For a proxy's origin requests: the SDK list, hop-by-hop headers (RFC 9110 §7.6.1), and the
// forwarding headers that any proxy or load balancer between the signer and the origin appends
// to (a signature over them would break at the first such hop).
inline constexpr std::string_view kProxyUnsignedHeaders[] = {"expect",
                                                             "user-agent",
                                                             "x-amzn-trace-id",
                                                             "connection",
                                                             "keep-alive",
                                                             "proxy-authenticate",
                                                             "proxy-authorization",
                                                             "proxy-connection",
                                                             "te",
                                                             "trailer",
                                                             "transfer-encoding",
                                                             "upgrade",
                                                             "via",
                                                             "x-forwarded-for",
                                                             "x-forwarded-proto",
                                                             "x-forwarded-host",
                                                             "x-forwarded-port",
                                                             "forwarded"};

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct Payload {
  enum class Kind : uint8_t { kBody, kPrecomputedSha256, kUnsigned };
  Kind kind = Kind::kBody;
  std::string_view data;  // the body bytes, or a 64-char lowercase hex SHA-256

  static Payload body(std::string_view bytes) { return {Kind::kBody, bytes}; }
  static Payload precomputed_sha256(std::string_view hex) {
    return {Kind::kPrecomputedSha256, hex};
  }
  static Payload unsigned_payload() { return {Kind::kUnsigned, {}}; }
};

struct RequestView {
  std::string_view method;
  std::string_view path;   // as sent (percent-encoded), without the query; empty means "/"
  std::string_view query;  // as sent, without '?'
  std::span<const HeaderField> headers;  // wire order; must hold Host
  Payload payload;
};

// aws-c-auth's omit_session_token: some services want X-Amz-Security-Token added after
// signing (outside the canonical request) rather than signed.
enum class SessionTokenPlacement : uint8_t { kSigned, kAddedAfterSigning };

struct SigningParams {
  std::string_view service;
  std::string_view region;
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;              // false for s3
  bool double_encode_path = true;          // false for s3
  bool add_content_sha256_header = false;  // X-Amz-Content-Sha256 (true for s3)
  SessionTokenPlacement session_token = SessionTokenPlacement::kSigned;
  std::span<const std::string_view> unsigned_headers = kSdkUnsignedHeaders;  // lowercase
  // Keep the canonical request and string to sign in the output (tests, sign --verbose).
  bool keep_intermediates = false;
};

// The defaults AWS uses for `service`: s3 (and s3-object-lambda, s3express) do not
// normalize or double-encode the path and send X-Amz-Content-Sha256.
SigningParams params_for(std::string_view service, std::string_view region,
                         std::chrono::system_clock::time_point time);

// Whether `service` accepts UNSIGNED-PAYLOAD in place of the body's hash (S3 does; Lambda
// and API Gateway do not): what a proxy may send when a body is too large to buffer.
bool allows_unsigned_payload(std::string_view service);

// Result of header signing. Reuse one object across calls to reuse its buffers.
struct SigningOutput {
  std::string authorization;
  std::string amz_date;           // "20150830T123600Z"
  std::string session_token;      // empty: no X-Amz-Security-Token to set
  std::string content_sha256;     // empty: no X-Amz-Content-Sha256 to set
  std::string signature;          // 64 lowercase hex
  std::string canonical_request;  // only with keep_intermediates
  std::string string_to_sign;     // only with keep_intermediates
  std::string error;              // set when sign_request returns false

  // The headers to set, in the order aws-c-auth appends them (session token, date,
  // payload hash, authorization). Views into this object. Returns how many were written.
  size_t headers(std::array<HeaderField, 4>& out) const;
  // The same headers, each handed to f(name, value) (no list to clear and fill).
  template <class F>
  void for_each_header(F&& f) const {
    if (!session_token.empty())
      f(std::string_view("X-Amz-Security-Token"), std::string_view(session_token));
    f(std::string_view("X-Amz-Date"), std::string_view(amz_date));
    if (!content_sha256.empty())
      f(std::string_view("x-amz-content-sha256"), std::string_view(content_sha256));
    f(std::string_view("Authorization"), std::string_view(authorization));
  }
};

// Header-based signing. Returns false (and sets out.error) only for unusable input: no Host
// header, empty access key id or secret, a precomputed payload hash that is not 64 hex
// digits, a region or service with characters outside [A-Za-z0-9-_.].
bool sign_request(const RequestView& request, const Credentials& credentials,
                  const SigningParams& params, SigningOutput& out);

// Presigned (query) form: X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires,
// (-Security-Token), -Signature appended to the request's own query.
struct PresignOutput {
  std::string query;  // the request's query followed by the X-Amz-* parameters
  std::string signature;
  std::string canonical_request;  // only with keep_intermediates
  std::string string_to_sign;     // only with keep_intermediates
  std::string error;
};
bool presign_request(const RequestView& request, const Credentials& credentials,
                     const SigningParams& params, std::chrono::seconds expires, PresignOutput& out);

// Authorization and every X-Amz-* header: what a viewer may have sent that must not reach
// a signed origin request (remove these before signing).
bool is_viewer_signing_header(std::string_view name);
// Erases them from any list of objects with a `name` member (http::Headers::list(), ...).
template <class List>
size_t remove_viewer_signing_headers(List& list) {
  size_t before = list.size();
  std::erase_if(list, [](const auto& h) { return is_viewer_signing_header(h.name); });
  return before - list.size();
}

struct ServiceRegion {
  std::string service;
  std::string region;
};
// *.lambda-url.<region>.on.aws -> lambda; *.execute-api.<region>.amazonaws.com ->
// execute-api; <svc>.<region>.amazonaws.com[.cn] and <bucket>.s3.<region>.amazonaws.com ->
// that service. A port is ignored. nullopt when the host says nothing.
std::optional<ServiceRegion> infer_service_region(std::string_view host);

// ---- Building blocks (shared with the verifier; exposed for tests) ----

using Sha256 = std::array<uint8_t, 32>;
Sha256 sha256(std::string_view data);
std::string hex(const Sha256& digest);  // lowercase
Sha256 hmac_sha256(std::span<const uint8_t> key, std::string_view data);
// kSigning for (secret, YYYYMMDD, region, service), from a process-wide cache: the key
// changes once a day per credential, so deriving it (4 HMACs) per request is waste.
Sha256 signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service);

// "YYYYMMDDTHHMMSSZ" (seconds are truncated).
std::string format_amz_date(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s);

// URI-encoding as SigV4 defines it: unreserved characters kept, everything else %XX
// uppercase; '/' kept when encode_slash is false.
void uri_encode(std::string_view in, bool encode_slash, std::string& out);
void canonical_uri(std::string_view wire_path, bool normalize, bool double_encode,
                   std::string& out);
void canonical_query(std::string_view wire_query, std::string& out);

}  // namespace eg::aws::sigv4
