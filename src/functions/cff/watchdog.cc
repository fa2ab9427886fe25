#include "functions/cff/watchdog.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "functions/cff/jsapi.h"

namespace eg::functions::cff {

namespace {

constexpr auto kPollInterval = std::chrono::microseconds(250);
// With no call seen for this long the watchdog sleeps until the next call.
constexpr auto kIdleAfter = std::chrono::seconds(1);

int64_t cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

class Watchdog {
 public:
  static Watchdog& instance() {
    // Leaked on purpose: threads may still unregister while static objects are destroyed.
    static Watchdog* w = new Watchdog();
    return *w;
  }

  void add(BudgetSlot* slot) {
    std::lock_guard lock(mu_);
    slots_.push_back(slot);
    if (!thread_started_) {
      thread_started_ = true;
      std::thread([this] { loop(); }).detach();
    }
  }
  void remove(BudgetSlot* slot) {
    std::lock_guard lock(mu_);
    slots_.erase(std::remove(slots_.begin(), slots_.end(), slot), slots_.end());
  }
  void call_started() {
    if (!sleeping_.load()) return;
    std::lock_guard lock(mu_);
    sleeping_.store(false);
    wake_.notify_one();
  }

 private:
  // Under mu_: a slot (and its context) cannot be unregistered and destroyed meanwhile, and
  // JS_RequestInterruptCallback is the one JSAPI call meant for other threads.
  bool check(BudgetSlot& slot) {
    if (!slot.running.load()) return false;
    if (slot.gc_active.load()) return true;  // decided after the GC, with its time known
    const uint64_t seq = slot.call_seq.load(std::memory_order_acquire);
    const int64_t cpu = cpu_ns(slot.cpu_clock);
    const int64_t gc = slot.gc_ns.load(std::memory_order_relaxed);
    if (seq != slot.seen_seq) {
      slot.seen_seq = seq;
      slot.seen_cpu_ns = cpu;
      slot.seen_gc_ns = gc;
      return true;
    }
    const int64_t used = (cpu - slot.seen_cpu_ns) - (gc - slot.seen_gc_ns);
    if (used >= slot.budget_ns.load(std::memory_order_relaxed)) {
      slot.stop_seq.store(seq);
      JS_RequestInterruptCallback(slot.cx);  // again at each poll until the call ends
    }
    return true;
  }

  void loop() {
    auto last_active = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    for (;;) {
      bool any_running = false;
      for (BudgetSlot* slot : slots_) any_running |= check(*slot);
      const auto now = std::chrono::steady_clock::now();
      if (any_running) last_active = now;
      if (now - last_active > kIdleAfter) {
        // Announce the sleep, then look once more: a call that started after the scan above
        // either sees sleeping_ and wakes us, or is seen here (seq_cst on both sides).
        sleeping_.store(true);
        bool started = false;
        for (BudgetSlot* slot : slots_) started |= slot->running.load();
        if (!started) wake_.wait(lock, [this] { return !sleeping_.load(); });
        sleeping_.store(false);
        last_active = std::chrono::steady_clock::now();
        continue;
      }
      lock.unlock();
      std::this_thread::sleep_for(kPollInterval);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<BudgetSlot*> slots_;
  std::atomic<bool> sleeping_{false};
  bool thread_started_ = false;
};

}  // namespace

void watchdog_register(BudgetSlot* slot) { Watchdog::instance().add(slot); }
void watchdog_unregister(BudgetSlot* slot) { Watchdog::instance().remove(slot); }

void budget_begin(BudgetSlot& slot, int64_t budget_ns) {
  slot.budget_ns.store(budget_ns, std::memory_order_relaxed);
  slot.call_seq.fetch_add(1, std::memory_order_release);
  slot.running.store(true);
  Watchdog::instance().call_started();
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace eg::functions::cff
