#include "waf/detect.h"
#include "waf/detect_internal.h"

namespace eg::waf {
bool xss_match(std::string_view input) { return false; }
}  // namespace eg::waf
