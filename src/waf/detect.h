// The built-in SQL injection and cross-site scripting detectors behind SqliMatchStatement and
// XssMatchStatement. A first working detector (issue 3); quality is measured against
// ../shared/corpora/libinjection by tests/corpus/injection_corpus (detection rate and false
// positives) and raised later. Linear in the input; no allocation on the common path.
#pragma once
#include <cstdint>
#include <string_view>

namespace eg::waf {

enum class Sensitivity : uint8_t { Low, High };

// LOW flags fewer requests (fewer false positives); HIGH flags more.
bool sqli_match(std::string_view input, Sensitivity s);
bool xss_match(std::string_view input);

}  // namespace eg::waf
