// Giving freed memory back to the kernel. The gateway binary links jemalloc (see
// docs/RATIONALE.md, "jemalloc"); tests and sanitizer builds use the system allocator.
#pragma once
#include <cstddef>

namespace eg {

// Returns the allocator's unused pages to the kernel: after a wave of connections went idle,
// resident memory should follow what is live, not what was live at the peak.
void release_free_memory();

// "jemalloc" or "glibc": which allocator this binary runs on (shown in the startup log).
const char* allocator_name();

// Memory for objects that live as long as a connection (the connection, its deadline).
// Under jemalloc they come from an arena of their own: packed together, apart from the
// per-request allocations that come and go around them, so the pages a burst of requests
// used can all be given back (docs/RATIONALE.md, "jemalloc"). Elsewhere: operator new.
void* allocate_long_lived(size_t bytes);
void free_long_lived(void* p, size_t bytes) noexcept;

// A standard allocator over allocate_long_lived, for std::allocate_shared.
template <class T>
struct LongLivedAllocator {
  using value_type = T;
  LongLivedAllocator() = default;
  template <class U>
  LongLivedAllocator(const LongLivedAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(allocate_long_lived(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { free_long_lived(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LongLivedAllocator<U>&) const {
    return true;
  }
};

}  // namespace eg
