// The secrets store parser on fuzz bytes. Nothing may crash, hang or leak, and results must be
// consistent: a store exactly when there are no errors, every error naming the file; a store
// serialises to text that parses back to the same text; and the rotation steps (create, then
// finish) on every secret leave a store that still parses.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "origin/secret_store.h"

namespace {

using namespace eg::origin;

void check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  fprintf(stderr, "secret_store_fuzz: %s\n%s\n", what, detail.c_str());
  abort();
}

SecretStore reparse(const std::string& text, const char* what) {
  std::vector<std::string> errors;
  auto back = SecretStore::parse(text, "fuzz.json", errors);
  check(back.has_value(), what, text + "\n" + (errors.empty() ? "" : errors[0]));
  return *back;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto store = SecretStore::parse(text, "fuzz.json", errors);
  check(store.has_value() == errors.empty(), "a store must come exactly without errors");
  for (const auto& e : errors)
    check(e.rfind("fuzz.json: ", 0) == 0 && e.size() > 11, "an error must name the file", e);
  if (!store) return 0;

  std::string once = store->serialize();
  check(reparse(once, "a serialised store must parse").serialize() == once,
        "serialising must be stable", once);

  for (const auto& name : store->names()) {
    std::string error;
    auto pending = store->stage_pending(name, "fuzz-new-version", "fuzz-value", error);
    if (!pending) continue;  // the id was taken
    auto finished = store->finish(name, error);
    check(finished.has_value(), "finish must succeed after create", error);
    check(finished->current == pending->id, "the PENDING version becomes CURRENT");
    auto cur = store->find_stage(name, kStageCurrent);
    check(cur && cur->id == pending->id, "CURRENT is on the finished version");
    check(!store->find_stage(name, kStagePending), "no PENDING after finish");
  }
  reparse(store->serialize(), "a rotated store must parse");
  return 0;
}
