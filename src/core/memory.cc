#include "core/memory.h"

#include <malloc.h>

#include <cstddef>
#include <new>

// jemalloc's control interface, resolved only when the binary links jemalloc (weak).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));
extern "C" void* mallocx(size_t size, int flags) __attribute__((weak));
extern "C" void sdallocx(void* ptr, size_t size, int flags) __attribute__((weak));

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

namespace {

// jemalloc's MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE (from jemalloc.h, not included: the
// library is optional for everything but the gateway binary).
int long_lived_flags() {
  static const int flags = [] {
    if (!mallctl || !mallocx || !sdallocx) return -1;
    unsigned arena = 0;
    size_t len = sizeof arena;
    if (mallctl("arenas.create", &arena, &len, nullptr, 0) != 0) return -1;
    return int((arena + 1) << 20) | int((-1 + 2) << 8);
  }();
  return flags;
}

}  // namespace

void* allocate_long_lived(size_t bytes) {
  int flags = long_lived_flags();
  if (flags < 0) return ::operator new(bytes);
  void* p = mallocx(bytes, flags);
  if (!p) throw std::bad_alloc();
  return p;
}

void free_long_lived(void* p, size_t bytes) noexcept {
  int flags = long_lived_flags();
  if (flags < 0) return ::operator delete(p);
  sdallocx(p, bytes, flags);
}

}  // namespace eg
