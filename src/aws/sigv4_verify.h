// SigV4 verification for the origin side: parses the Authorization header (or the presigned
// query form), checks the access key, the credential scope, the clock skew, the session
// token and the payload hash, recomputes the signature and compares in constant time.
// Failures carry AWS's error codes and messages; render_error() builds AWS's error bodies.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.h"

namespace eg::aws::sigv4 {

// ---- Parsing (untrusted input; fuzzed by fuzz/sigv4_auth_header_fuzz.cc) ----

// "AKID/20150830/us-east-1/service/aws4_request"
struct CredentialScope {
  std::string_view access_key_id;
  std::string_view date;  // YYYYMMDD
  std::string_view region;
  std::string_view service;
  std::string_view terminator;  // must be "aws4_request"
};
// Errors name what is wrong, in AWS's words where AWS has words for it.
std::optional<CredentialScope> parse_credential_scope(std::string_view credential,
                                                      std::string& error);

// "AWS4-HMAC-SHA256 Credential=<scope>, SignedHeaders=a;b, Signature=<64 hex>"
// (components in any order, separated by ',' with optional spaces).
struct AuthorizationHeader {
  CredentialScope credential;
  std::string_view signed_headers;  // as written: lowercase names joined with ';'
  std::string_view signature;
};
std::optional<AuthorizationHeader> parse_authorization_header(std::string_view value,
                                                              std::string& error);

// ---- Verification ----

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
  // When set, the request must carry exactly this X-Amz-Security-Token (temporary
  // credentials); when empty, a request carrying a token is refused.
  std::string session_token;
  std::vector<std::string> regions;   // empty: any
  std::vector<std::string> services;  // empty: any
};

struct VerifierOptions {
  std::string service;                 // the signing name requests must be scoped to; empty: any
  std::string region;                  // empty: any
  std::chrono::seconds max_skew{300};  // X-Amz-Date this far from now, either way
  bool allow_presigned = true;
  // X-Amz-Content-Sha256: UNSIGNED-PAYLOAD accepted (S3 allows it; Lambda does not).
  bool allow_unsigned_payload = false;
  std::chrono::seconds max_presigned_expires{604800};
  // Path rules; unset: those of the scope's service (params_for: s3 neither normalizes nor
  // double-encodes, every other service does both).
  std::optional<bool> normalize_path;
  std::optional<bool> double_encode_path;
};

enum class VerifyFailure : uint8_t {
  kNone,
  kMissingAuthentication,  // neither Authorization nor X-Amz-Signature
  kIncompleteSignature,    // malformed Authorization / presigned parameters, no date
  kUnknownAccessKey,       // access key id not configured
  kInvalidScope,           // wrong terminator, date, region or service in the scope
  kAccessDenied,           // key not allowed for this region/service
  kRequestTimeTooSkewed,   // X-Amz-Date outside the skew window
  kPresignedExpired,       // X-Amz-Date + X-Amz-Expires in the past
  kInvalidToken,           // session token missing, unexpected or wrong
  kContentSha256Mismatch,  // X-Amz-Content-Sha256 is not the body's hash
  kSignatureDoesNotMatch,
};

struct VerifyResult {
  VerifyFailure failure = VerifyFailure::kNone;
  std::string message;  // AWS's message for the failure
  std::string access_key_id;
  bool presigned = false;
  // Extra elements of S3's XML error (RequestTime, ServerTime, StringToSign,
  // CanonicalRequest, ...), in order.
  std::vector<std::pair<std::string, std::string>> details;

  bool ok() const { return failure == VerifyFailure::kNone; }
};

// Error codes for each failure in the two families of AWS services.
std::string_view s3_error_code(VerifyFailure f);    // "SignatureDoesNotMatch", ...
std::string_view json_error_type(VerifyFailure f);  // "InvalidSignatureException", ...
std::string_view failure_name(VerifyFailure f);     // stable names for metrics

class Verifier {
 public:
  Verifier(std::vector<AccessKey> keys, VerifierOptions options);

  // `request.payload`: the body (kBody), its precomputed hash, or kUnsigned when the body
  // was not buffered (then only an X-Amz-Content-Sha256 of UNSIGNED-PAYLOAD, when allowed,
  // can verify). Thread-safe.
  VerifyResult verify(const RequestView& request, std::chrono::system_clock::time_point now) const;

  const VerifierOptions& options() const { return options_; }

 private:
  const AccessKey* find_key(std::string_view id) const;
  VerifyResult verify_header(const RequestView& request, std::string_view authorization,
                             std::chrono::system_clock::time_point now) const;
  VerifyResult verify_presigned(const RequestView& request,
                                std::chrono::system_clock::time_point now) const;

  std::vector<AccessKey> keys_;
  VerifierOptions options_;
};

// ---- AWS's error answers ----

enum class ErrorShape : uint8_t {
  kS3Xml,  // <Error><Code/><Message/>...<RequestId/></Error>, S3's status codes
  kJson,   // {"message": "..."} + x-amzn-ErrorType (Lambda URLs, API Gateway), 403
};

struct ErrorResponse {
  int status = 403;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, x-amzn-ErrorType
  std::string body;
};

ErrorResponse render_error(const VerifyResult& result, ErrorShape shape,
                           std::string_view request_id);

}  // namespace eg::aws::sigv4
