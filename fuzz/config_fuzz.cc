// Loads fuzz bytes as a config (YAML or JSON). It must never crash, hang or leak, and the
// result must be consistent: a snapshot exactly when there are no errors, every error with a
// message, and no "internal error" (a yaml-cpp accessor misused on an unexpected tree).
// Relative paths resolve against tests/cases/config, so seeds can reach the fixture files.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/loader.h"

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    std::string here = __FILE__;
    return here.substr(0, here.rfind('/') + 1) + "../tests/cases/config/fuzz.yaml";
  }();
  return path;
}

void check(bool ok, const char* what, const std::string& detail) {
  if (ok) return;
  fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = eg::config::load_text(text, config_path());
  check((result.snapshot == nullptr) == !result.errors.empty(),
        "a snapshot must come exactly when there are no errors", "");
  for (const auto& e : result.errors) {
    std::string line = e.to_string();
    check(!e.message.empty(), "an error without a message", line);
    check(e.line >= 0 && e.column >= 0, "a negative position", line);
    check(e.message.rfind("internal error while reading", 0) != 0, "internal error", line);
  }
  if (result.snapshot) {
    const auto& s = *result.snapshot;
    check(!s.listeners.empty() && !s.origins.empty() && !s.behaviors.empty(),
          "a snapshot without listeners, origins or behaviors", "");
    check(s.behaviors.back().is_default, "the last behavior is not the default", "");
    for (const auto& b : s.behaviors)
      check(b.origin_index < s.origins.size() && s.origins[b.origin_index].name == b.origin,
            "a behavior points at the wrong origin", b.origin);
  }
  return 0;
}
