#include "aws/sigv4_verify.h"

#include <fmt/format.h>

#include <algorithm>

#include "aws/sigv4_internal.h"
#include "core/http_date.h"
#include "core/strings.h"

namespace eg::aws::sigv4 {
namespace {

constexpr size_t kMaxEcho = 256;  // how much of a malformed value an error message quotes

std::string quote_untrusted(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxEcho)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_header_name_char(char c) {
  // Lowercase RFC 9110 token characters: what a canonical header name can be.
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

const HeaderField* find_header(const RequestView& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

VerifyResult fail(VerifyFailure f, std::string message) {
  VerifyResult r;
  r.failure = f;
  r.message = std::move(message);
  return r;
}

// The signed header names, validated, sorted and de-duplicated.
bool parse_signed_headers(std::string_view list, std::vector<std::string_view>& out,
                          std::string& error) {
  out.clear();
  if (list.empty()) {
    error = "SignedHeaders is empty";
    return false;
  }
  for (auto name : split(list, ';')) {
    if (name.empty()) {
      error = "SignedHeaders has an empty header name: '" + quote_untrusted(list) + "'";
      return false;
    }
    for (char c : name)
      if (!is_header_name_char(c)) {
        error = "SignedHeaders must list lowercase header names separated by ';', not '" +
                quote_untrusted(list) + "'";
        return false;
      }
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool allowed(const std::vector<std::string>& list, std::string_view v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

// What the header and presigned forms share once their parameters are read.
struct SignatureInputs {
  CredentialScope scope;
  std::string amz_date;  // YYYYMMDDTHHMMSSZ
  std::vector<std::string_view> signed_headers;
  std::string_view signature;
  std::string_view session_token;  // as sent; empty when none
  bool has_session_token = false;
  bool presigned = false;
};

std::string skew_message(std::chrono::system_clock::time_point request_time,
                         std::chrono::system_clock::time_point now, std::chrono::seconds skew) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(skew).count();
  std::string window = minutes * 60 == skew.count() ? fmt::format("{} min.", minutes)
                                                    : fmt::format("{} s", skew.count());
  // The wording AWS services use (IAM "Troubleshoot signed requests").
  if (request_time < now)
    return fmt::format("Signature expired: {} is now earlier than {} ({} - {})",
                       format_amz_date(request_time), format_amz_date(now - skew),
                       format_amz_date(now), window);
  return fmt::format("Signature not yet current: {} is still later than {} ({} + {})",
                     format_amz_date(request_time), format_amz_date(now + skew),
                     format_amz_date(now), window);
}

}  // namespace

// ---- Parsing ----

std::optional<CredentialScope> parse_credential_scope(std::string_view credential,
                                                      std::string& error) {
  auto parts = split(credential, '/');
  if (parts.size() != 5) {
    error = fmt::format(
        "Credential must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request "
        "(5 parts separated by '/'), not {} part(s): '{}'",
        parts.size(), quote_untrusted(credential));
    return std::nullopt;
  }
  CredentialScope s{parts[0], parts[1], parts[2], parts[3], parts[4]};
  if (s.access_key_id.empty()) {
    error = "Credential has an empty access key id: '" + quote_untrusted(credential) + "'";
    return std::nullopt;
  }
  if (s.date.size() != 8 || !is_digits(s.date) ||
      !parse_amz_date(std::string(s.date) + "T000000Z")) {
    error = "Invalid credential date '" + quote_untrusted(s.date) +
            "'. Date is not the required format: yyyyMMdd.";
    return std::nullopt;
  }
  if (!detail::is_scope_token(s.region)) {
    error = "Credential has an invalid region: '" + quote_untrusted(s.region) + "'";
    return std::nullopt;
  }
  if (!detail::is_scope_token(s.service)) {
    error = "Credential has an invalid service: '" + quote_untrusted(s.service) + "'";
    return std::nullopt;
  }
  if (s.terminator != "aws4_request") {
    error = "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
            quote_untrusted(s.terminator) + "'.";
    return std::nullopt;
  }
  return s;
}

std::optional<AuthorizationHeader> parse_authorization_header(std::string_view value,
                                                              std::string& error) {
  value = trim(value);
  if (value.size() < kAlgorithm.size() || value.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (value.size() > kAlgorithm.size() && value[kAlgorithm.size()] != ' ')) {
    size_t sp = value.find(' ');
    error = "Unsupported Authorization type '" +
            quote_untrusted(value.substr(0, std::min(sp, value.size()))) +
            "': only AWS4-HMAC-SHA256 is accepted";
    return std::nullopt;
  }
  std::string_view rest = trim(value.substr(kAlgorithm.size()));
  std::optional<std::string_view> credential, signed_headers, signature;
  if (!rest.empty()) {
    for (auto component : split(rest, ',')) {
      component = trim(component);
      size_t eq = component.find('=');
      if (eq == std::string_view::npos) {
        error = "Invalid key=value pair (missing equal-sign) in Authorization header: '" +
                quote_untrusted(component) + "'";
        return std::nullopt;
      }
      std::string_view key = component.substr(0, eq), v = component.substr(eq + 1);
      std::optional<std::string_view>* slot = nullptr;
      if (key == "Credential")
        slot = &credential;
      else if (key == "SignedHeaders")
        slot = &signed_headers;
      else if (key == "Signature")
        slot = &signature;
      else {
        error = "Unknown component '" + quote_untrusted(key) +
                "' in Authorization header (expected Credential, SignedHeaders, Signature)";
        return std::nullopt;
      }
      if (*slot) {
        error = "Authorization header has '" + std::string(key) + "' more than once";
        return std::nullopt;
      }
      *slot = v;
    }
  }
  if (!credential || !signed_headers || !signature) {
    error.clear();
    if (!credential) error += "Authorization header requires 'Credential' parameter. ";
    if (!signature) error += "Authorization header requires 'Signature' parameter. ";
    if (!signed_headers) error += "Authorization header requires 'SignedHeaders' parameter. ";
    error += "Authorization=" + quote_untrusted(value);
    return std::nullopt;
  }
  AuthorizationHeader h;
  auto scope = parse_credential_scope(*credential, error);
  if (!scope) return std::nullopt;
  h.credential = *scope;
  std::vector<std::string_view> names;
  if (!parse_signed_headers(*signed_headers, names, error)) return std::nullopt;
  h.signed_headers = *signed_headers;
  if (!detail::is_lower_hex64(*signature)) {
    error = "Signature must be 64 lowercase hexadecimal characters, not '" +
            quote_untrusted(*signature) + "'";
    return std::nullopt;
  }
  h.signature = *signature;
  return h;
}

// ---- Error codes ----

std::string_view s3_error_code(VerifyFailure f) {
  switch (f) {
    case VerifyFailure::kNone:
      return "";
    case VerifyFailure::kMissingAuthentication:
      return "AccessDenied";
    case VerifyFailure::kIncompleteSignature:
      return "AuthorizationHeaderMalformed";
    case VerifyFailure::kUnknownAccessKey:
      return "InvalidAccessKeyId";
    case VerifyFailure::kInvalidScope:
      return "AuthorizationHeaderMalformed";
    case VerifyFailure::kAccessDenied:
      return "AccessDenied";
    case VerifyFailure::kRequestTimeTooSkewed:
      return "RequestTimeTooSkewed";
    case VerifyFailure::kPresignedExpired:
      return "AccessDenied";
    case VerifyFailure::kInvalidToken:
      return "InvalidToken";
    case VerifyFailure::kContentSha256Mismatch:
      return "XAmzContentSHA256Mismatch";
    case VerifyFailure::kSignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
  }
  return "AccessDenied";
}

std::string_view json_error_type(VerifyFailure f) {
  switch (f) {
    case VerifyFailure::kNone:
      return "";
    case VerifyFailure::kMissingAuthentication:
      return "MissingAuthenticationTokenException";
    case VerifyFailure::kIncompleteSignature:
      return "IncompleteSignatureException";
    case VerifyFailure::kUnknownAccessKey:
      return "UnrecognizedClientException";
    case VerifyFailure::kAccessDenied:
      return "AccessDeniedException";
    case VerifyFailure::kInvalidToken:
      return "UnrecognizedClientException";
    case VerifyFailure::kInvalidScope:
    case VerifyFailure::kRequestTimeTooSkewed:
    case VerifyFailure::kPresignedExpired:
    case VerifyFailure::kContentSha256Mismatch:
    case VerifyFailure::kSignatureDoesNotMatch:
      return "InvalidSignatureException";
  }
  return "AccessDeniedException";
}

std::string_view failure_name(VerifyFailure f) {
  switch (f) {
    case VerifyFailure::kNone:
      return "ok";
    case VerifyFailure::kMissingAuthentication:
      return "missing_authentication";
    case VerifyFailure::kIncompleteSignature:
      return "incomplete_signature";
    case VerifyFailure::kUnknownAccessKey:
      return "unknown_access_key";
    case VerifyFailure::kInvalidScope:
      return "invalid_scope";
    case VerifyFailure::kAccessDenied:
      return "access_denied";
    case VerifyFailure::kRequestTimeTooSkewed:
      return "request_time_too_skewed";
    case VerifyFailure::kPresignedExpired:
      return "presigned_expired";
    case VerifyFailure::kInvalidToken:
      return "invalid_token";
    case VerifyFailure::kContentSha256Mismatch:
      return "content_sha256_mismatch";
    case VerifyFailure::kSignatureDoesNotMatch:
      return "signature_does_not_match";
  }
  return "unknown";
}

// ---- Verifier ----

Verifier::Verifier(std::vector<AccessKey> keys, VerifierOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

const AccessKey* Verifier::find_key(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.access_key_id == id) return &k;
  return nullptr;
}

namespace {

// Checks shared by both forms, then recomputes the signature.
VerifyResult check_and_compare(const RequestView& request, const SignatureInputs& in,
                               const AccessKey* key, const VerifierOptions& options,
                               std::chrono::system_clock::time_point now,
                               std::chrono::system_clock::time_point request_time,
                               std::string_view payload_line) {
  const CredentialScope& scope = in.scope;
  VerifyResult r;
  r.presigned = in.presigned;
  r.access_key_id = std::string(scope.access_key_id);
  auto failed = [&r](VerifyFailure f, std::string msg) {
    r.failure = f;
    r.message = std::move(msg);
    return r;
  };

  if (!key)
    return failed(VerifyFailure::kUnknownAccessKey,
                  "The AWS Access Key Id you provided does not exist in our records.");
  if (scope.date != std::string_view(in.amz_date).substr(0, 8))
    return failed(VerifyFailure::kInvalidScope,
                  fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                              "version of date from HTTP: '{}' != '{}', from '{}'.",
                              quote_untrusted(scope.date), in.amz_date.substr(0, 8), in.amz_date));
  if (!options.region.empty() && scope.region != options.region)
    return failed(VerifyFailure::kInvalidScope,
                  fmt::format("Credential should be scoped to a valid region, not '{}'. ",
                              quote_untrusted(scope.region)));
  if (!options.service.empty() && scope.service != options.service)
    return failed(
        VerifyFailure::kInvalidScope,
        fmt::format("Credential should be scoped to correct service: '{}'. ", options.service));
  if (!allowed(key->regions, scope.region) || !allowed(key->services, scope.service))
    return failed(VerifyFailure::kAccessDenied,
                  fmt::format("Access key {} is not allowed to sign for region '{}' and "
                              "service '{}'.",
                              key->access_key_id, quote_untrusted(scope.region),
                              quote_untrusted(scope.service)));

  // Session token: exactly the configured one, or none for a long-term key.
  if (!key->session_token.empty()) {
    if (!in.has_session_token)
      return failed(VerifyFailure::kInvalidToken,
                    "The request must include X-Amz-Security-Token: access key " +
                        key->access_key_id + " is a temporary credential.");
    if (!detail::constant_time_equal(in.session_token, key->session_token))
      return failed(VerifyFailure::kInvalidToken,
                    "The security token included in the request is invalid.");
  } else if (in.has_session_token) {
    return failed(VerifyFailure::kInvalidToken,
                  "The security token included in the request is invalid.");
  }

  if (!contains(in.signed_headers, "host"))
    return failed(VerifyFailure::kAccessDenied,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  // Unsigned x-amz-* headers could change what the request means (S3 refuses them too);
  // the session token is the exception the suites show (post-sts-header-after).
  for (const auto& h : request.headers) {
    if (h.name.size() < 6 || !iequals(h.name.substr(0, 6), "x-amz-")) continue;
    if (iequals(h.name, "x-amz-security-token")) continue;
    bool is_signed = false;
    for (auto n : in.signed_headers) is_signed = is_signed || iequals(n, h.name);
    if (!is_signed) {
      r.details.emplace_back("HeadersNotSigned", to_lower(h.name));
      return failed(VerifyFailure::kAccessDenied,
                    "There were headers present in the request which were not signed");
    }
  }

  // Recompute.
  thread_local std::vector<detail::CanonicalHeader> headers;
  thread_local std::string canonical, signed_names, string_to_sign, lowercase;
  headers.clear();
  for (auto name : in.signed_headers) {
    bool found = false;
    for (const auto& h : request.headers)
      if (iequals(h.name, name)) {
        headers.push_back({h.name, h.value});
        found = true;
      }
    if (!found) headers.push_back({name, {}});
  }
  detail::lowercase_names(headers, lowercase);
  SigningParams service_rules = params_for(scope.service, scope.region, request_time);
  detail::CanonicalRequestParts parts;
  parts.method = request.method;
  parts.path = request.path;
  parts.query = request.query;
  parts.normalize_path = options.normalize_path.value_or(service_rules.normalize_path);
  parts.double_encode_path = options.double_encode_path.value_or(service_rules.double_encode_path);
  parts.payload_hash = payload_line;
  if (in.presigned) parts.skip_query_name = "X-Amz-Signature";
  detail::build_canonical_request(parts, headers, canonical, signed_names);
  detail::build_string_to_sign(in.amz_date, scope.region, scope.service, canonical, string_to_sign);
  char expected[64];
  detail::signature_hex(key->secret_access_key, scope.date, scope.region, scope.service,
                        string_to_sign, expected);
  if (!detail::constant_time_equal(std::string_view(expected, 64), in.signature)) {
    r.details.emplace_back("AWSAccessKeyId", key->access_key_id);
    r.details.emplace_back("StringToSign", string_to_sign);
    r.details.emplace_back("SignatureProvided", std::string(in.signature));
    r.details.emplace_back("CanonicalRequest", canonical);
    return failed(VerifyFailure::kSignatureDoesNotMatch,
                  "The request signature we calculated does not match the signature you "
                  "provided. Check your AWS Secret Access Key and signing method. Consult "
                  "the service documentation for details.");
  }
  (void)now;
  return r;
}

// The payload line for header-signed requests: X-Amz-Content-Sha256 when present (it must
// match the body), else the body's hash.
bool payload_line_for(const RequestView& request, const VerifierOptions& options, std::string& line,
                      VerifyResult& failure) {
  const HeaderField* h = find_header(request, "x-amz-content-sha256");
  std::string actual;
  auto actual_hash = [&]() -> bool {
    switch (request.payload.kind) {
      case Payload::Kind::kBody:
        actual = hex(sha256(request.payload.data));
        return true;
      case Payload::Kind::kPrecomputedSha256:
        actual = std::string(request.payload.data);
        return true;
      case Payload::Kind::kUnsigned:
        return false;
    }
    return false;
  };
  if (h) {
    std::string_view claimed = trim(h->value);
    if (claimed == kUnsignedPayload) {
      if (!options.allow_unsigned_payload) {
        failure = fail(VerifyFailure::kContentSha256Mismatch,
                       "UNSIGNED-PAYLOAD is not accepted here: sign the SHA-256 of the body");
        return false;
      }
      line = kUnsignedPayload;
      return true;
    }
    if (!detail::is_lower_hex64(claimed)) {
      failure = fail(VerifyFailure::kContentSha256Mismatch,
                     "x-amz-content-sha256 must be the body's SHA-256 as 64 lowercase hex "
                     "digits or UNSIGNED-PAYLOAD (streaming payloads are not supported), not '" +
                         quote_untrusted(claimed) + "'");
      return false;
    }
    if (!actual_hash()) {
      failure = fail(VerifyFailure::kContentSha256Mismatch,
                     "The request body was not buffered, so its x-amz-content-sha256 cannot "
                     "be checked");
      return false;
    }
    if (actual != claimed) {
      failure = fail(VerifyFailure::kContentSha256Mismatch,
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed.");
      failure.details.emplace_back("ClientComputedContentSHA256", std::string(claimed));
      failure.details.emplace_back("S3ComputedContentSHA256", actual);
      return false;
    }
    line.assign(claimed);
    return true;
  }
  if (!actual_hash()) {
    failure = fail(VerifyFailure::kContentSha256Mismatch,
                   "The request body was not buffered and no x-amz-content-sha256 header "
                   "says UNSIGNED-PAYLOAD: the signature cannot be checked");
    return false;
  }
  line = std::move(actual);
  return true;
}

}  // namespace

VerifyResult Verifier::verify(const RequestView& request,
                              std::chrono::system_clock::time_point now) const {
  const HeaderField* auth = find_header(request, "authorization");
  if (auth) return verify_header(request, auth->value, now);
  if (options_.allow_presigned) {
    for (auto piece : split(request.query, '&')) {
      std::string_view name = piece.substr(0, piece.find('='));
      if (name == "X-Amz-Signature" || name == "X-Amz-Algorithm" || name == "X-Amz-Credential") {
        VerifyResult r = verify_presigned(request, now);
        r.presigned = true;
        return r;
      }
    }
  }
  return fail(VerifyFailure::kMissingAuthentication, "Missing Authentication Token");
}

VerifyResult Verifier::verify_header(const RequestView& request, std::string_view authorization,
                                     std::chrono::system_clock::time_point now) const {
  std::string error;
  auto parsed = parse_authorization_header(authorization, error);
  if (!parsed) return fail(VerifyFailure::kIncompleteSignature, error);

  SignatureInputs in;
  in.scope = parsed->credential;
  in.signature = parsed->signature;
  if (!parse_signed_headers(parsed->signed_headers, in.signed_headers, error))
    return fail(VerifyFailure::kIncompleteSignature, error);

  std::optional<std::chrono::system_clock::time_point> request_time;
  if (const HeaderField* d = find_header(request, "x-amz-date")) {
    request_time = parse_amz_date(trim(d->value));
    if (!request_time)
      return fail(VerifyFailure::kIncompleteSignature,
                  "X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', not '" +
                      quote_untrusted(d->value) + "'");
    if (!contains(in.signed_headers, "x-amz-date"))
      return fail(VerifyFailure::kAccessDenied,
                  "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  } else if (const HeaderField* d = find_header(request, "date")) {
    auto t = parse_http_date(d->value);
    if (!t)
      return fail(VerifyFailure::kIncompleteSignature,
                  "Date is not a valid HTTP date: '" + quote_untrusted(d->value) + "'");
    request_time = std::chrono::system_clock::from_time_t(*t);
    if (!contains(in.signed_headers, "date"))
      return fail(VerifyFailure::kAccessDenied,
                  "'Date' must be a 'SignedHeader' in the AWS Authorization.");
  } else {
    return fail(VerifyFailure::kIncompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header. Authorization=" +
                    quote_untrusted(authorization));
  }
  in.amz_date = format_amz_date(*request_time);

  if (*request_time < now - options_.max_skew || *request_time > now + options_.max_skew) {
    VerifyResult r = fail(VerifyFailure::kRequestTimeTooSkewed,
                          skew_message(*request_time, now, options_.max_skew));
    r.access_key_id = std::string(in.scope.access_key_id);
    r.details.emplace_back("RequestTime", in.amz_date);
    r.details.emplace_back("ServerTime", format_amz_date(now));
    r.details.emplace_back(
        "MaxAllowedSkewMilliseconds",
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_skew).count()));
    return r;
  }

  if (const HeaderField* t = find_header(request, "x-amz-security-token")) {
    in.has_session_token = true;
    in.session_token = trim(t->value);
  }

  const AccessKey* key = find_key(in.scope.access_key_id);
  std::string payload;
  if (key) {
    VerifyResult payload_failure;
    if (!payload_line_for(request, options_, payload, payload_failure)) {
      payload_failure.access_key_id = std::string(in.scope.access_key_id);
      return payload_failure;
    }
  }
  return check_and_compare(request, in, key, options_, now, *request_time, payload);
}

VerifyResult Verifier::verify_presigned(const RequestView& request,
                                        std::chrono::system_clock::time_point now) const {
  // Decoded X-Amz-* parameters.
  std::string algorithm, credential, date, expires, signed_headers, signature, token;
  bool has_token = false;
  for (auto piece : split(request.query, '&')) {
    size_t eq = piece.find('=');
    std::string name, value;
    detail::percent_decode_lenient(piece.substr(0, eq), name);
    if (eq != std::string_view::npos) detail::percent_decode_lenient(piece.substr(eq + 1), value);
    std::string* slot = nullptr;
    if (name == "X-Amz-Algorithm") slot = &algorithm;
    if (name == "X-Amz-Credential") slot = &credential;
    if (name == "X-Amz-Date") slot = &date;
    if (name == "X-Amz-Expires") slot = &expires;
    if (name == "X-Amz-SignedHeaders") slot = &signed_headers;
    if (name == "X-Amz-Signature") slot = &signature;
    if (name == "X-Amz-Security-Token") {
      slot = &token;
      if (has_token)
        return fail(VerifyFailure::kIncompleteSignature,
                    "X-Amz-Security-Token appears more than once in the query string");
      has_token = true;
    }
    if (!slot) continue;
    if (!slot->empty() && slot != &token)
      return fail(VerifyFailure::kIncompleteSignature,
                  name + " appears more than once in the query string");
    *slot = std::move(value);
  }
  if (algorithm.empty() || credential.empty() || date.empty() || expires.empty() ||
      signed_headers.empty() || signature.empty())
    return fail(VerifyFailure::kIncompleteSignature,
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                "X-Amz-Expires parameters.");
  if (algorithm != kAlgorithm)
    return fail(VerifyFailure::kIncompleteSignature,
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\", not '" +
                    quote_untrusted(algorithm) + "'");
  std::string error;
  SignatureInputs in;
  in.presigned = true;
  auto scope = parse_credential_scope(credential, error);
  if (!scope) return fail(VerifyFailure::kIncompleteSignature, error);
  in.scope = *scope;
  if (!parse_signed_headers(signed_headers, in.signed_headers, error))
    return fail(VerifyFailure::kIncompleteSignature, error);
  if (!detail::is_lower_hex64(signature))
    return fail(VerifyFailure::kIncompleteSignature,
                "X-Amz-Signature must be 64 lowercase hexadecimal characters");
  in.signature = signature;
  auto request_time = parse_amz_date(date);
  if (!request_time)
    return fail(VerifyFailure::kIncompleteSignature,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", not '" +
                    quote_untrusted(date) + "'");
  in.amz_date = date;
  auto expires_s = parse_uint(expires);
  if (!expires_s || *expires_s < 1 ||
      *expires_s > static_cast<uint64_t>(options_.max_presigned_expires.count()))
    return fail(VerifyFailure::kIncompleteSignature,
                fmt::format("X-Amz-Expires must be a number of seconds between 1 and {}, not "
                            "'{}'",
                            options_.max_presigned_expires.count(), quote_untrusted(expires)));
  if (*request_time > now + options_.max_skew) {
    VerifyResult r = fail(VerifyFailure::kRequestTimeTooSkewed,
                          skew_message(*request_time, now, options_.max_skew));
    r.access_key_id = std::string(in.scope.access_key_id);
    r.presigned = true;
    return r;
  }
  auto expiry = *request_time + std::chrono::seconds(*expires_s);
  if (now > expiry) {
    VerifyResult r = fail(VerifyFailure::kPresignedExpired, "Request has expired");
    r.access_key_id = std::string(in.scope.access_key_id);
    r.presigned = true;
    r.details.emplace_back("X-Amz-Expires", expires);
    r.details.emplace_back("Expires", format_amz_date(expiry));
    r.details.emplace_back("ServerTime", format_amz_date(now));
    return r;
  }
  in.has_session_token = has_token;
  in.session_token = token;

  // S3 presigned URLs sign UNSIGNED-PAYLOAD (the URL is made before the body exists); other
  // services sign the body's hash as in the header form.
  std::string payload;
  const AccessKey* key = find_key(in.scope.access_key_id);
  SigningParams rules = params_for(in.scope.service, in.scope.region, *request_time);
  if (rules.add_content_sha256_header) {
    payload = kUnsignedPayload;
  } else if (key) {
    VerifyResult payload_failure;
    if (!payload_line_for(request, options_, payload, payload_failure)) {
      payload_failure.access_key_id = std::string(in.scope.access_key_id);
      payload_failure.presigned = true;
      return payload_failure;
    }
  }
  return check_and_compare(request, in, key, options_, now, *request_time, payload);
}

// ---- Rendering ----

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Error bodies quote request bytes; whatever they hold, the XML and JSON we send must be
// well formed, so bytes that are not UTF-8 become U+FFFD (and, in XML, so do the control
// characters XML 1.0 cannot carry at all).
// Walks s: invalid UTF-8 bytes become U+FFFD, multi-byte characters are copied, and each
// ASCII byte goes to escape_ascii.
template <class EscapeAscii>
void append_utf8_escaped(std::string_view s, std::string& out, EscapeAscii escape_ascii) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      escape_ascii(s[i++]);
    }
  }
}

void append_xml_escaped(std::string_view s, std::string& out) {
  append_utf8_escaped(s, out, [&out](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f)
          out += kReplacement;
        else
          out.push_back(c);
    }
  });
}

void append_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
  append_utf8_escaped(s, out, [&out](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20)
          out += fmt::format("\\u{:04x}", u);
        else
          out.push_back(c);
    }
  });
  out.push_back('"');
}

int s3_status(VerifyFailure f) {
  // S3's documented statuses (ErrorResponses.html): malformed input is a 400.
  switch (f) {
    case VerifyFailure::kIncompleteSignature:
    case VerifyFailure::kInvalidScope:
    case VerifyFailure::kInvalidToken:
    case VerifyFailure::kContentSha256Mismatch:
      return 400;
    default:
      return 403;
  }
}

}  // namespace

ErrorResponse render_error(const VerifyResult& result, ErrorShape shape,
                           std::string_view request_id) {
  ErrorResponse e;
  if (shape == ErrorShape::kS3Xml) {
    // Shape: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    // (<Error><Code/><Message/>...<RequestId/></Error>; SignatureDoesNotMatch adds
    // AWSAccessKeyId, StringToSign, SignatureProvided, CanonicalRequest).
    std::string_view code = s3_error_code(result.failure);
    if (result.failure == VerifyFailure::kIncompleteSignature && result.presigned)
      code = "AuthorizationQueryParametersError";
    e.status = s3_status(result.failure);
    std::string& b = e.body;
    b = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
    b += code;
    b += "</Code><Message>";
    append_xml_escaped(result.message, b);
    b += "</Message>";
    for (const auto& [name, value] : result.details) {
      b += "<" + name + ">";
      append_xml_escaped(value, b);
      b += "</" + name + ">";
    }
    b += "<RequestId>";
    append_xml_escaped(request_id, b);
    b += "</RequestId></Error>";
    e.headers.emplace_back("Content-Type", "application/xml");
    e.headers.emplace_back("x-amz-request-id", std::string(request_id));
    return e;
  }
  // JSON services (API Gateway, Lambda function URLs): 403, {"message": ...} and the error
  // type in x-amzn-ErrorType (docs: aws-formats.md §8.4, API Gateway's IAM errors).
  e.status = 403;
  std::string message = result.message;
  if (result.failure == VerifyFailure::kUnknownAccessKey)
    message = "The security token included in the request is invalid.";
  if (result.failure == VerifyFailure::kSignatureDoesNotMatch) {
    // API Gateway's wording: the canonical request, then the string to sign.
    for (std::string_view wanted : {"CanonicalRequest", "StringToSign"})
      for (const auto& [name, value] : result.details) {
        if (name != wanted) continue;
        message +=
            wanted == "CanonicalRequest"
                ? "\n\nThe Canonical String for this request should have been\n'" + value + "'"
                : "\n\nThe String-to-Sign should have been\n'" + value + "'\n";
      }
  }
  e.body = "{\"message\":";
  append_json_string(message, e.body);
  e.body += "}";
  e.headers.emplace_back("Content-Type", "application/json");
  e.headers.emplace_back("x-amzn-ErrorType", std::string(json_error_type(result.failure)));
  e.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  return e;
}

}  // namespace eg::aws::sigv4
