// Giving freed memory back to the kernel. The gateway binary links jemalloc (see
// docs/RATIONALE.md, "jemalloc"); tests and sanitizer builds use the system allocator.
#pragma once

namespace eg {

// Returns the allocator's unused pages to the kernel: after a wave of connections went idle,
// resident memory should follow what is live, not what was live at the peak.
void release_free_memory();

// "jemalloc" or "glibc": which allocator this binary runs on (shown in the startup log).
const char* allocator_name();

}  // namespace eg
