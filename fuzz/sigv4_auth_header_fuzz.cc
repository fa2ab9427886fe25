// The SigV4 parsers that see untrusted bytes on the origin side: the Authorization header,
// the credential scope and the verifier as a whole (header form and presigned query form);
// and the credential inputs: the shared config file format and credential_process output. Input
// layout: the first line is an Authorization value, the second a query string, the rest a shared
// config file. Nothing may crash, hang or leak; a parse failure must say why; a verification
// failure must carry a code and a message, and its rendered error bodies must be well formed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/shared_config.h"
#include "aws/sigv4.h"
#include "aws/sigv4_verify.h"

namespace {

using namespace eg::aws;
using namespace eg::aws::sigv4;

void check(bool ok, const char* what, std::string_view detail) {
  if (ok) return;
  fprintf(stderr, "sigv4_auth_header_fuzz: %s\n%.*s\n", what, int(detail.size()), detail.data());
  abort();
}

// Well-formed UTF-8 without the control characters XML 1.0 forbids.
bool xml_safe(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) return false;
      ++i;
      continue;
    }
    size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::string_view next_line(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view auth = next_line(in);
  std::string_view query = next_line(in);

  std::string error;
  auto parsed = parse_authorization_header(auth, error);
  check(parsed.has_value() == error.empty(), "a parse result and an error together", auth);
  if (parsed) {
    check(parsed->signature.size() == 64, "a signature that is not 64 characters", auth);
    check(parsed->credential.terminator == "aws4_request", "a bad terminator accepted", auth);
  }
  std::string scope_error;
  auto scope = parse_credential_scope(auth, scope_error);
  check(scope.has_value() == scope_error.empty(), "scope: result and error together", auth);

  static const Verifier verifier(
      {AccessKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, {}}},
      VerifierOptions{});
  const auto now = *parse_amz_date("20150830T123600Z");
  HeaderField headers[] = {{"Host", "example.amazonaws.com"},
                           {"X-Amz-Date", "20150830T123600Z"},
                           {"Authorization", auth}};
  for (int form = 0; form < 2; ++form) {
    // form 0: the Authorization header; form 1: no header, the query's presigned parameters.
    RequestView req{"GET", "/", query, std::span(headers, form == 0 ? 3 : 2), Payload::body(in)};
    VerifyResult r = verifier.verify(req, now);
    if (r.ok()) continue;
    check(!r.message.empty(), "a failure without a message", auth);
    auto xml = render_error(r, ErrorShape::kS3Xml, "fuzz");
    check(xml.body.find("<Code>") != std::string::npos, "an XML error without a code", xml.body);
    check(xml_safe(xml.body), "an XML error that is not well-formed UTF-8", xml.body);
    auto json = render_error(r, ErrorShape::kJson, "fuzz");
    auto doc = nlohmann::json::parse(json.body, nullptr, false);
    check(!doc.is_discarded() && doc.contains("message"), "an invalid JSON error", json.body);
  }

  auto process = parse_process_output(in, "fuzz");
  check((process.status == ProviderResult::Status::kFound) == process.message.empty(),
        "credential_process: found with a message, or an error without one", in);

  SharedConfigFile file;
  std::string config_error;
  bool ok = parse_shared_config(in, "fuzz", SharedConfigKind::kConfig, file, config_error);
  check(ok == config_error.empty(), "config: success with an error, or failure without", in);
  return 0;
}
