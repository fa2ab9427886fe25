// The compute budget, kept off the request path. A call only bumps a sequence number and two
// flags; one process-wide watchdog thread polls the threads whose call is running, reads each
// one's CPU clock (a syscall the request path would otherwise pay twice per call), and once a
// call has used its budget of CPU asks its JSContext for the interrupt callback, which stops it.
// The CPU a call used before the watchdog first saw it (at most one poll, 250 µs) is not
// counted, so a loop is stopped between budget and budget + 2 polls. GC time is not charged
// (a GC collects every script's garbage, and a full one can outlast a budget). The thread
// sleeps while no call runs.
#pragma once
#include <time.h>

#include <atomic>
#include <cstdint>

struct JSContext;

namespace eg::functions::cff {

struct BudgetSlot {
  JSContext* cx = nullptr;
  clockid_t cpu_clock{};  // the owning thread's CPU clock (pthread_getcpuclockid)
  std::atomic<bool> running{false};
  std::atomic<uint64_t> call_seq{0};
  std::atomic<int64_t> budget_ns{0};
  std::atomic<int64_t> gc_ns{0};       // GC time on the thread, cumulative
  std::atomic<bool> gc_active{false};  // a GC is running now: no decision until it ends
  std::atomic<uint64_t> stop_seq{0};   // the call the watchdog stopped
  // The watchdog's own notes (under its lock): where it first saw the running call.
  uint64_t seen_seq = 0;
  int64_t seen_cpu_ns = 0;
  int64_t seen_gc_ns = 0;
};

void watchdog_register(BudgetSlot* slot);
void watchdog_unregister(BudgetSlot* slot);  // before the thread's context is destroyed

// On the owning thread, around each call (and each script's top-level run).
void budget_begin(BudgetSlot& slot, int64_t budget_ns);
inline void budget_end(BudgetSlot& slot) { slot.running.store(false); }
// For the interrupt callback: has the watchdog stopped the running call?
inline bool budget_exceeded(const BudgetSlot& slot) {
  return slot.stop_seq.load() == slot.call_seq.load(std::memory_order_relaxed);
}

int64_t steady_now_ns();

}  // namespace eg::functions::cff
