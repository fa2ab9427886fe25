// Pieces shared by the signer and the verifier; not part of the module's public API.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.h"

namespace eg::aws::sigv4::detail {

// A header chosen for the canonical request. `name` is lowercase (lowercase_names).
struct CanonicalHeader {
  std::string_view name;
  std::string_view value;
};

// Points every name at a lowercase copy in `arena`, which must then outlive `headers`' use
// and not be passed again while they are in use.
void lowercase_names(std::vector<CanonicalHeader>& headers, std::string& arena);

// Sorts `headers` (lowercase names) by name, keeping wire order among equal names, then
// appends "name:value\n" lines (values trimmed, whitespace runs collapsed, equal names joined
// with ',') to `canonical` and "a;b;c" to `signed_names`.
void append_canonical_headers(std::vector<CanonicalHeader>& headers, std::string& canonical,
                              std::string& signed_names);

// METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n PAYLOAD, into `out` (replaced).
struct CanonicalRequestParts {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  bool normalize_path = true;
  bool double_encode_path = true;
  std::string_view payload_hash;
  // Query parameter to leave out (X-Amz-Signature when verifying a presigned request).
  std::string_view skip_query_name;
};
void build_canonical_request(const CanonicalRequestParts& parts,
                             std::vector<CanonicalHeader>& headers, std::string& out,
                             std::string& signed_names);

// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256>"
void build_string_to_sign(std::string_view amz_date, std::string_view region,
                          std::string_view service, std::string_view canonical_request,
                          std::string& out);

// Lowercase hex of HMAC(signing key, string_to_sign), into a 64-char buffer, with the key of
// (secret, date, region, service) from the thread's key cache, whose entries keep the HMAC's
// precomputed inner and outer states.
void signature_hex(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service, std::string_view string_to_sign, char out[64]);

void append_hex(const uint8_t* data, size_t n, std::string& out);
bool is_lower_hex64(std::string_view s);
// Decodes valid %XX escapes; anything else (including '+') is kept as it is.
void percent_decode_lenient(std::string_view in, std::string& out);
// SigV4 region / service names: [A-Za-z0-9._-]+.
bool is_scope_token(std::string_view s);
// Constant-time equality (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace eg::aws::sigv4::detail
