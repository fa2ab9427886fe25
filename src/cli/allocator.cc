// jemalloc's defaults for the gateway binary (read by jemalloc at startup; ignored when the
// binary runs on another allocator). muzzy_decay_ms:0 — pages jemalloc gives back are
// MADV_DONTNEED'd, not MADV_FREE'd: lazily freed pages stay in RSS until the kernel is short
// of memory, and RSS is what operators watch. The worker purges explicitly after a wave of
// connections went idle (core/memory.h).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:false,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
