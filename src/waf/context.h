// Per-request evaluation state: the request, the labels added so far, and every field in its
// transformed form, computed lazily and once per request.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "waf/model.h"

namespace eg::waf {

class WafState;

struct ForwardedIpConfig {
  enum class Position : uint8_t { First, Last, Any };
  std::string header;  // lowercased
  bool fallback_match = false;
  Position position = Position::First;
};

// The addresses a ForwardedIPConfig selects: absent header = the statement does not apply;
// malformed = FallbackBehavior decides.
struct ForwardedIps {
  enum class Status : uint8_t { Absent, Malformed, Ok } status = Status::Absent;
  std::vector<IpAddress> addresses;
};

class EvalContext {
 public:
  EvalContext(const Request& r, const AclModel& m, WafState& s, std::vector<std::string>& labels)
      : request(r), model(m), state(s), labels(labels), cache_(m.fields.size()) {}

  const Request& request;
  const AclModel& model;
  WafState& state;
  std::vector<std::string>& labels;         // added by earlier rules (visible to LabelMatch)
  std::vector<std::string> pending_labels;  // added at the end of the current rule
  std::string* note = nullptr;              // trace text for `waf test`, when tracing
  std::vector<RateMatch>* rate_matches = nullptr;
  const CompiledRule* rule = nullptr;  // the rule being evaluated

  const FieldValues& field(const FieldSpec& f);
  ForwardedIps forwarded_ips(const ForwardedIpConfig& c, bool all) const;
  bool has_label(std::string_view label) const;

 private:
  std::vector<std::optional<FieldValues>> cache_;
};

// Extraction of one field, without transformations (fields.cc).
void extract_field(const FieldSpec& f, const Request& r, size_t body_limit, FieldValues& out);

}  // namespace eg::waf
