// Request ids in CloudFront's x-amz-cf-id shape: 56 characters of base64url, from a
// per-thread generator (xoshiro256** seeded from the OS); unique, not secret.
#pragma once
#include <string>

namespace eg {

inline constexpr size_t kRequestIdLength = 56;
// Fills out[0..56) (no terminator): no allocation on the request path.
void new_request_id(char* out);
std::string new_request_id();

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from 16 bytes (AWS request ids, lock tokens).
std::string format_uuid(const unsigned char* bytes16);
// A random (version 4) UUID from the same generator: unique, not secret.
std::string new_uuid();

}  // namespace eg
