// Request ids in CloudFront's x-amz-cf-id shape: 56 characters of base64url, from a
// per-thread generator (xoshiro256** seeded from the OS); unique, not secret.
#pragma once
#include <string>

namespace eg {

std::string new_request_id();

}  // namespace eg
