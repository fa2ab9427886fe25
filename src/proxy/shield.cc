#include "proxy/shield.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <chrono>
#include <string>
#include <vector>

#include "aws/sigv4_verify.h"

namespace eg::proxy {
namespace {

namespace sigv4 = aws::sigv4;

struct CheckResult {
  bool ok = false;
  std::string_view reason;
  std::optional<Reply> refusal;  // set when the check has its own error shape
};

CheckResult check_verify_header(const config::Shield& s, const http::Request& req) {
  const std::string* got = req.headers.find(s.verify_header);
  if (!got) return {false, "origin_verify_missing", {}};
  if (req.headers.count(s.verify_header) != 1) return {false, "origin_verify_mismatch", {}};
  for (const auto& want : s.verify_values)  // constant time per candidate: no timing oracle
    if (want.size() == got->size() && CRYPTO_memcmp(want.data(), got->data(), want.size()) == 0)
      return {true, {}, {}};
  return {false, "origin_verify_mismatch", {}};
}

CheckResult check_address(const config::Shield& s, const ViewerInfo& viewer) {
  uint8_t addr[16];
  bool v6 = viewer.client_ip.find(':') != std::string::npos;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, viewer.client_ip.c_str(), addr) == 1)
    for (const auto& p : s.addresses)
      if (p.contains(v6, addr)) return {true, {}, {}};
  return {false, "address_not_allowed", {}};
}

CheckResult check_sigv4(const config::Shield& s, const http::Request& req,
                        std::string_view request_id) {
  std::vector<sigv4::HeaderField> fields;
  fields.reserve(req.headers.size());
  for (const auto& h : req.headers) fields.push_back({h.name, h.value});
  sigv4::RequestView view{req.method, req.path, req.query, fields, sigv4::Payload::body(req.body)};
  sigv4::VerifyResult r = s.sigv4->verify(view, std::chrono::system_clock::now());
  if (r.ok()) return {true, {}, {}};
  auto err = sigv4::render_error(
      r, s.sigv4_json_errors ? sigv4::ErrorShape::kJson : sigv4::ErrorShape::kS3Xml, request_id);
  Reply reply;
  reply.response.status = err.status;
  reply.response.headers.add("Server", "edgeguard");
  for (const auto& [n, v] : err.headers) reply.response.headers.add(n, v);
  reply.response.body = std::move(err.body);
  reply.result_type = "Error";
  static thread_local std::string reason;  // failure names are a small fixed set
  reason = "sigv4_" + std::string(sigv4::failure_name(r.failure));
  return {false, reason, std::move(reply)};
}

}  // namespace

ShieldVerdict check_shield(const config::Shield& shield, const http::Request& req,
                           const ViewerInfo& viewer, std::string_view request_id) {
  if (!shield.enabled()) return {};
  bool any = shield.mode == config::Shield::Mode::Any;
  std::optional<CheckResult> first_failure;
  auto judge = [&](CheckResult r) -> bool {  // true when the verdict is decided
    if (r.ok) return any;
    if (!first_failure) first_failure = std::move(r);
    return !any;
  };
  bool decided = false;
  if (!shield.verify_header.empty()) decided = judge(check_verify_header(shield, req));
  if (!decided && shield.check_addresses) decided = judge(check_address(shield, viewer));
  if (!decided && shield.sigv4) decided = judge(check_sigv4(shield, req, request_id));
  if (!first_failure || (any && decided)) return {};

  ShieldVerdict v;
  v.admitted = false;
  v.reason = first_failure->reason;
  if (first_failure->refusal) {
    v.refusal = std::move(first_failure->refusal);
  } else {
    v.refusal = local_reply(403,
                            "403 Forbidden: this origin is reachable only through its edge (" +
                                std::string(v.reason) + ")\nrequest id: " + std::string(request_id),
                            "Error");
  }
  v.refusal->detailed_result_type = "ShieldRefused";
  return v;
}

}  // namespace eg::proxy
