#include "core/memory.h"

#include <malloc.h>

#include <cstddef>

// jemalloc's control interface, resolved only when the binary links jemalloc (weak).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace eg {

void release_free_memory() {
  if (mallctl) {
    // MALLCTL_ARENAS_ALL (4096): purge every arena's dirty and muzzy pages now.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  ::malloc_trim(0);
}

const char* allocator_name() { return mallctl ? "jemalloc" : "glibc"; }

}  // namespace eg
