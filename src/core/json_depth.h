// JSON parsers recurse once per level of nesting (nlohmann, and the code walking a document):
// without a bound, a deep enough untrusted document overflows the stack. This scan finds
// the nesting before any parser sees it.
#pragma once
#include <cstddef>
#include <string_view>

namespace eg {

// The offset of the first '[' or '{' nested deeper than max_depth, or npos. Brackets inside
// strings are not counted.
size_t json_too_deep(std::string_view text, size_t max_depth);

}  // namespace eg
