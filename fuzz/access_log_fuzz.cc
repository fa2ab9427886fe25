// Formats access-log records built from fuzz bytes in both formats and checks the
// invariants a log reader relies on: a CloudFront line is exactly 33 tab-separated fields
// and one trailing '\n', with no raw space, tab, newline or other escaped byte inside a
// field; a JSON line is one valid JSON object and one trailing '\n'.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>

#include "logs/access_log.h"

namespace {

void check(bool ok, const char* what, const std::string& line) {
  if (ok) return;
  fprintf(stderr, "access_log_fuzz: %s\nline: %s\n", what, line.c_str());
  abort();
}

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool cf_must_escape(unsigned char c) {
  if (c <= 32 || c >= 127) return true;
  for (char s : std::string_view("<>\"#{}|\\^~[]'`"))  // '%' is checked as %XX below
    if (c == static_cast<unsigned char>(s)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  // Strings are kept alive here (a deque never moves its elements); the record holds views.
  std::deque<std::string> s;
  auto str = [&]() -> std::string_view {
    s.push_back(fdp.ConsumeRandomLengthString(200));
    return s.back();
  };

  eg::logs::AccessRecord r;
  r.end_time = std::chrono::system_clock::time_point(
      std::chrono::system_clock::duration(fdp.ConsumeIntegral<int64_t>()));
  r.edge_location = str();
  r.sc_bytes = fdp.ConsumeIntegral<uint64_t>();
  r.client_ip = str();
  r.client_port = fdp.ConsumeIntegral<uint16_t>();
  r.method = str();
  r.host = str();
  r.uri_stem = str();
  r.status = fdp.ConsumeIntegral<int>();
  r.referer = str();
  r.user_agent = str();
  r.query = str();
  r.cookie = str();
  r.result_type = str();
  r.request_id = str();
  r.protocol = str();
  r.cs_bytes = fdp.ConsumeIntegral<uint64_t>();
  r.time_taken = fdp.ConsumeFloatingPoint<double>();
  r.forwarded_for = str();
  r.ssl_protocol = str();
  r.ssl_cipher = str();
  r.response_result_type = str();
  r.protocol_version = str();
  r.time_to_first_byte = fdp.ConsumeFloatingPoint<double>();
  r.detailed_result_type = str();
  r.content_type = str();
  r.content_length = fdp.ConsumeIntegral<int64_t>();
  r.range_start = fdp.ConsumeIntegral<int64_t>();
  r.range_end = fdp.ConsumeIntegral<int64_t>();
  r.behavior = str();
  r.origin = fdp.ConsumeRemainingBytesAsString();
  s.push_back(std::string(r.origin));
  r.origin = s.back();

  // CloudFront
  std::string line;
  eg::logs::format_cloudfront(r, line);
  check(!line.empty() && line.back() == '\n', "no trailing newline", line);
  size_t tabs = 0;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      ++tabs;
      check(i > 0 && line[i - 1] != '\t' && line[i + 1] != '\n', "empty field", line);
      continue;
    }
    check(!cf_must_escape(c), "raw byte that must be escaped", line);
    if (c == '%')
      check(i + 2 < line.size() && is_hex_upper(line[i + 1]) && is_hex_upper(line[i + 2]),
            "bad %XX", line);
  }
  check(tabs == 32, "not 33 fields", line);

  // JSON
  std::string json;
  eg::logs::format_json(r, json);
  check(!json.empty() && json.back() == '\n', "no trailing newline (json)", json);
  check(json.find('\n') == json.size() - 1, "raw newline (json)", json);
  std::string_view body(json.data(), json.size() - 1);
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  check(!j.is_discarded(), "invalid json", json);
  check(j.is_object() && j.size() == 34, "not 34 keys", json);

  // The escaper alone, on the raw input.
  std::string esc;
  eg::logs::append_cloudfront_escaped(esc,
                                      std::string_view(reinterpret_cast<const char*>(data), size));
  for (unsigned char c : esc) check(!cf_must_escape(c), "escaper left a raw byte", esc);
  return 0;
}
