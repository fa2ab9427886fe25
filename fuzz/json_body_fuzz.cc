// JsonBody inspection on fuzz bytes: the first byte picks the spec (scope, fallback, included
// paths), the rest is the body. Nothing may crash or hang, and the results must be coherent:
// each fallback does what it says; validity does not depend on the spec; a narrower scope or
// fewer paths only drop items; a valid document cut before its last bracket is invalid; and
// every document strict JSON (nlohmann) accepts, with an object or array root, no duplicate
// key and at most 64 levels, is valid and yields exactly the keys and values a reference walk
// of nlohmann's tree gives.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "waf/json_body.h"

namespace {

using namespace eg::waf;
using Json = nlohmann::ordered_json;

void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  fprintf(stderr, "json_body_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

const std::vector<std::vector<std::string>> kPathSets = {
    {},
    {"/"},
    {"/a"},
    {"/a/b", "/0"},
    {"/items/0/name", "/a~1b"},
    {"/0/0", "/a/0", "/~0"},
    {"/", "/a"},
    {"/b", "/a/b/c", "/1"},
};

JsonBodySpec spec_from(uint8_t selector) {
  JsonBodySpec spec;
  spec.scope = JsonScope(selector % 3);
  spec.fallback = JsonInvalidFallback((selector / 3) % 4);
  spec.included_paths = kPathSets[(selector / 12) % kPathSets.size()];
  return spec;
}

bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
  size_t j = 0;
  for (const auto& item : part) {
    while (j < whole.size() && whole[j] != item) ++j;
    if (j == whole.size()) return false;
    ++j;
  }
  return true;
}

// Strict parse; ok only for an object/array root without duplicate keys within 64 levels.
bool strict_document(const std::string& body, Json& doc) {
  std::vector<std::set<std::string>> open;  // keys per open container (unused for arrays)
  bool duplicate = false;
  size_t max_depth = 0;
  Json::parser_callback_t watch = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        open.emplace_back();
        max_depth = std::max(max_depth, open.size());
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second)
          duplicate = true;
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  };
  doc = Json::parse(body, watch, /*allow_exceptions=*/false);
  return !doc.is_discarded() && (doc.is_object() || doc.is_array()) && !duplicate &&
         max_depth <= 64;
}

struct ReferenceWalk {
  const JsonBodySpec& spec;
  std::set<const Json*> selected_nodes;
  std::vector<const Json*> out;  // keys are pushed as string nodes, so they compare alike
  std::vector<Json> keys;

  void walk(const Json& node, bool selected) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (selected && spec.scope != JsonScope::Value) emit_key(it.key());
        walk(it.value(), selected || selected_nodes.count(&it.value()));
      }
    } else if (node.is_array()) {
      for (const auto& element : node) walk(element, selected || selected_nodes.count(&element));
    } else if (selected && spec.scope != JsonScope::Key) {
      out.push_back(&node);
    }
  }
  void emit_key(const std::string& key) {
    keys.emplace_back(key);
    out.push_back(nullptr);  // resolved against keys in order
  }
};

void compare_with_reference(const Json& doc, const JsonBodySpec& spec,
                            const std::vector<std::string>& items, const std::string& body) {
  ReferenceWalk ref{spec, {}, {}, {}};
  bool root_selected = spec.included_paths.empty();
  for (const auto& path : spec.included_paths) {
    if (path == "/") {
      root_selected = true;
      continue;
    }
    try {
      ref.selected_nodes.insert(&doc.at(Json::json_pointer(path)));
    } catch (const Json::exception&) {
      // absent, "-", or an index with a leading zero: selects nothing
    }
  }
  ref.walk(doc, root_selected);
  check(items.size() == ref.out.size(), "item count differs from the reference walk", body);
  size_t key = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& expected = ref.out[i] ? *ref.out[i] : ref.keys[key++];
    if (expected.is_string()) {
      check(items[i] == expected.get<std::string>(), "a string differs from nlohmann's", body);
    } else {
      Json as_written = Json::parse(items[i], nullptr, false);
      check(!as_written.is_discarded() && as_written == expected,
            "a scalar's text is not the value nlohmann read", items[i]);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const JsonBodySpec spec = spec_from(data[0]);
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

  JsonBodyResult r = inspect_json_body(body, spec);
  if (r.valid) {
    check(r.outcome == JsonBodyResult::Outcome::Inspect, "a valid body with a forced outcome");
  } else {
    switch (spec.fallback) {
      case JsonInvalidFallback::EvaluateUpToError:
        check(r.outcome == JsonBodyResult::Outcome::Inspect, "up-to-error forced an outcome");
        break;
      case JsonInvalidFallback::Match:
        check(r.outcome == JsonBodyResult::Outcome::Match && r.items.empty(), "MATCH not forced");
        break;
      case JsonInvalidFallback::NoMatch:
        check(r.outcome == JsonBodyResult::Outcome::NoMatch && r.items.empty(),
              "NO_MATCH not forced");
        break;
      case JsonInvalidFallback::EvaluateAsString:
        check(r.outcome == JsonBodyResult::Outcome::Inspect && r.items.size() == 1 &&
                  r.items[0] == body,
              "EVALUATE_AS_STRING did not inspect the body");
        break;
    }
  }

  JsonBodySpec everything;
  JsonBodyResult all = inspect_json_body(body, everything);
  check(all.valid == r.valid, "validity depends on the spec", body);
  if (r.valid || spec.fallback == JsonInvalidFallback::EvaluateUpToError)
    check(is_subsequence(r.items, all.items), "a narrower spec yielded an item All did not", body);

  if (all.valid) {
    size_t root = body.find_first_of("{[");
    size_t last = body.find_last_not_of(" \t\r\n");
    if (root != std::string::npos && last > root) {
      size_t cut = root + 1 + size_t(data[0]) % (last - root);
      check(!inspect_json_body(body.substr(0, cut), everything).valid,
            "a cut-short document was called valid", body.substr(0, cut));
    }
  }

  // nlohmann takes a NUL outside a string as the end of the input; such bodies are skipped.
  if (body.find('\0') == std::string::npos) {
    Json doc;
    if (strict_document(body, doc)) {
      check(r.valid, "a strict JSON document was called invalid", body);
      compare_with_reference(doc, spec, r.items, body);
      compare_with_reference(doc, everything, all.items, body);
    }
  }
  return 0;
}
