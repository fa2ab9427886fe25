// JsonBody inspection (aws-formats.md §3.3): a lenient JSON reader in the spirit of AWS's
// (missing commas/colons and extra colons tolerated; stops at invalid characters, duplicate
// keys, truncation, or a root that is not an object or array), yielding the keys and/or
// values that a statement inspects. Untrusted bytes: fuzzed by fuzz/json_body_fuzz.cc.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eg::waf {

enum class JsonScope : uint8_t { All, Key, Value };
enum class JsonInvalidFallback : uint8_t { EvaluateUpToError, Match, NoMatch, EvaluateAsString };

struct JsonBodySpec {
  // JSON Pointers (RFC 6901), each selecting the keys and values inside one node; empty = All.
  // "/" alone is the whole document (AWS's pattern lists it apart), not the member "".
  std::vector<std::string> included_paths;
  JsonScope scope = JsonScope::All;
  JsonInvalidFallback fallback = JsonInvalidFallback::EvaluateUpToError;
};

struct JsonBodyResult {
  enum class Outcome : uint8_t { Inspect, Match, NoMatch } outcome = Outcome::Inspect;
  // What the statement inspects (when outcome is Inspect): keys and/or scalar values as text
  // (strings unescaped, numbers/true/false/null as written), or the whole body for
  // EvaluateAsString on invalid JSON.
  std::vector<std::string> items;
  bool valid = true;  // false: the body was not (entirely) valid JSON
};

// Validates a JSON Pointer at load time; empty result = valid, else the reason.
std::string check_json_pointer(std::string_view pointer);

// An empty or whitespace-only body yields no items and is valid (nothing to inspect). Rules
// and choices where AWS is silent: docs/waf/json-body.md.
JsonBodyResult inspect_json_body(std::string_view body, const JsonBodySpec& spec);

}  // namespace eg::waf
