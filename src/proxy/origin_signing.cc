#include "proxy/origin_signing.h"

#include <ctime>
#include <vector>

#include "aws/sigv4.h"
#include "core/strings.h"
#include "proxy/origin_request.h"

namespace eg::proxy {

namespace sigv4 = aws::sigv4;

aws::RefreshingCredentials& SigningCredentials::get(const config::Origin::SigV4& cfg) {
  std::string key = cfg.profile + '\n' + cfg.credentials_file + '\n' + cfg.config_file;
  std::lock_guard lk(mu_);
  auto& slot = by_key_[key];
  if (!slot) {
    aws::ChainOptions opts;
    opts.profile = cfg.profile;
    opts.credentials_file = cfg.credentials_file;
    opts.config_file = cfg.config_file;
    slot = std::make_unique<aws::RefreshingCredentials>(aws::make_default_chain(opts));
    slot->start();
  }
  return *slot;
}

namespace {

// origin_authority() builds a string from pieces; a signed origin needs it on every request,
// so each thread keeps the last one with what it was made from.
std::string_view authority_of(const config::Origin& origin) {
  thread_local std::string host;
  thread_local uint16_t port = 0;
  thread_local bool https = false;
  thread_local std::string authority;
  if (authority.empty() || origin.port != port || origin.https != https || origin.host != host) {
    authority = origin_authority(origin);
    host = origin.host;
    port = origin.port;
    https = origin.https;
  }
  return authority;
}

}  // namespace

SigningError sign_origin_request(const config::Origin& origin, const aws::Credentials& creds,
                                 std::string_view method, std::string_view target,
                                 std::string_view body, http::Headers& headers) {
  const auto& cfg = *origin.sigv4;
  // Authorization and X-Amz-* from the viewer go; our own request id (X-Amz-Cf-Id, set by
  // the edge for this request) stays and is signed like the rest.
  std::erase_if(headers.list(), [](const http::Header& h) {
    return sigv4::is_viewer_signing_header(h.name) && !iequals(h.name, kRequestIdHeader);
  });
  headers.set("Host", authority_of(origin));  // the origin's own host, whatever was forwarded

  size_t q = target.find('?');
  // The signature carries whole seconds: time() (the kernel's current second, what the Date
  // header uses too) costs no clock read, unlike system_clock::now().
  auto params = sigv4::params_for(cfg.service, cfg.region,
                                  std::chrono::system_clock::from_time_t(std::time(nullptr)));
  sigv4::Payload payload = sigv4::Payload::body(body);
  if (body.size() > cfg.max_signed_body) {
    if (cfg.service != "s3")
      return {413, "body_too_large",
              "the request body (" + std::to_string(body.size()) +
                  " bytes) is larger than "
                  "sign.sigv4.max_signed_body (" +
                  std::to_string(cfg.max_signed_body) + ") and " + cfg.service +
                  " does not accept UNSIGNED-PAYLOAD"};
    payload = sigv4::Payload::unsigned_payload();
  }
  thread_local std::vector<sigv4::HeaderField> fields;  // reused: no allocation per request
  fields.resize(headers.size());
  size_t i = 0;
  for (const auto& h : headers) fields[i++] = {h.name, h.value};
  sigv4::RequestView view{method, target.substr(0, q),
                          q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                          fields, payload};
  params.unsigned_headers = sigv4::kProxyUnsignedHeaders;
  static thread_local sigv4::SigningOutput out;  // reused buffers
  if (!sigv4::sign_request(view, creds, params, out))
    return {500, "invalid_request", "cannot sign the origin request: " + out.error};
  // None of these is present any more (Authorization and X-Amz-* went above): add, not set.
  size_t n = 0;
  out.for_each_header([&n](std::string_view, std::string_view) { ++n; });
  headers.list().reserve(headers.size() + n);  // at most one move of the list, usually none
  out.for_each_header(
      [&headers](std::string_view name, std::string_view value) { headers.add(name, value); });
  return {};
}

}  // namespace eg::proxy
