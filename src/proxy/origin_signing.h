// SigV4 on the edge side: the last change to an origin request (after functions, rewrites
// and custom headers), so the signature covers exactly what goes on the wire.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "aws/credentials.h"
#include "config/snapshot.h"
#include "http/message.h"

namespace eg::proxy {

// One refreshing credential source per distinct (profile, files) of the signed origins,
// shared by every worker and kept across reloads (the refresh thread is not restarted).
class SigningCredentials {
 public:
  aws::RefreshingCredentials& get(const config::Origin::SigV4& cfg);

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<aws::RefreshingCredentials>> by_key_;
};

struct SigningError {
  int status = 0;     // 0: signed
  std::string cause;  // metrics label: no_credentials, body_too_large, invalid_request
  std::string message;
};

// Removes Authorization / X-Amz-* the viewer sent, sets Host to the origin's own authority
// (origin_authority) and adds the signature headers. `target` is the origin request target
// (path?query).
SigningError sign_origin_request(const config::Origin& origin, const aws::Credentials& creds,
                                 std::string_view method, std::string_view target,
                                 std::string_view body, http::Headers& headers);

}  // namespace eg::proxy
