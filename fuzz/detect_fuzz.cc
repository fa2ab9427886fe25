// The SQL injection and XSS detectors on fuzz bytes. They see attacker-controlled text on
// every inspected request, so they must never crash, read outside the input or hang (they
// promise linear time). And the sensitivity levels must nest: whatever LOW flags, HIGH flags.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "waf/detect.h"

// Undefined behaviour is a finding like a crash: UBSan stops at its first report (the build
// lets it recover otherwise, and libFuzzer would not notice).
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eg::waf;
  // The input is exactly `size` bytes on the heap, so ASan sees any read past its end.
  std::string_view input(reinterpret_cast<const char*>(data), size);
  bool low = sqli_match(input, Sensitivity::Low);
  bool high = sqli_match(input, Sensitivity::High);
  if (low && !high) {
    fprintf(stderr, "detect_fuzz: SQLi LOW matches where HIGH does not\n%s\n",
            std::string(input).c_str());
    abort();
  }
  (void)xss_match(input);
  return 0;
}
