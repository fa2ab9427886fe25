// FieldToMatch and TextTransformations: parsing (load time) into an interned FieldSpec.
#pragma once
#include "waf/document.h"
#include "waf/model.h"

namespace eg::waf {

struct FieldParseOptions {
  bool allow_ja3_ja4 = false;  // only ByteMatchStatement with EXACTLY
};

// Parses statement["FieldToMatch"], statement["TextTransformations"] and
// statement["PreParseTextTransformations"] into a FieldSpec (not yet interned).
FieldSpec parse_field(const JNode& statement, const FieldParseOptions& o);
std::vector<Transform> parse_transforms(const JNode& list);

}  // namespace eg::waf
