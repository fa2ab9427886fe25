#include "functions/cff/watchdog.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "functions/cff/engine.h"

namespace eg::functions::cff {

namespace {

// How often a running call's deadline is checked: a call over budget is stopped at most this
// much (plus its CPU check) after its deadline.
constexpr auto kPollInterval = std::chrono::microseconds(250);
// With no call seen for this long the watchdog sleeps until the next call.
constexpr auto kIdleAfter = std::chrono::seconds(1);

class Watchdog {
 public:
  static Watchdog& instance() {
    // Leaked on purpose: worker threads may still unregister while static objects are destroyed.
    static Watchdog* w = new Watchdog();
    return *w;
  }

  void add(ThreadRuntime* rt) {
    std::lock_guard lock(mu_);
    runtimes_.push_back(rt);
    if (!thread_started_) {
      thread_started_ = true;
      std::thread([this] { loop(); }).detach();
    }
  }
  void remove(ThreadRuntime* rt) {
    std::lock_guard lock(mu_);
    runtimes_.erase(std::remove(runtimes_.begin(), runtimes_.end(), rt), runtimes_.end());
  }
  void call_started() {
    if (!sleeping_.load()) return;
    std::lock_guard lock(mu_);
    sleeping_.store(false);
    wake_.notify_one();
  }

 private:
  void loop() {
    auto last_active = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    for (;;) {
      bool any_running = false;
      const int64_t now = steady_now_ns();
      for (ThreadRuntime* rt : runtimes_) {
        const int64_t deadline = rt->deadline_ns.load(std::memory_order_relaxed);
        if (deadline == 0) continue;
        any_running = true;
        // Under mu_, so the runtime (and its context) cannot be destroyed meanwhile;
        // JS_RequestInterruptCallback is the one JSAPI call meant for other threads.
        if (now >= deadline) JS_RequestInterruptCallback(rt->cx());
      }
      const auto t = std::chrono::steady_clock::now();
      if (any_running) last_active = t;
      if (t - last_active > kIdleAfter) {
        // Announce the sleep, then look once more: a call that started after the scan above
        // either sees sleeping_ and wakes us, or is seen by this second scan (seq_cst on both).
        sleeping_.store(true);
        bool started = false;
        for (ThreadRuntime* rt : runtimes_) started |= rt->deadline_ns.load() != 0;
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
  std::vector<ThreadRuntime*> runtimes_;
  std::atomic<bool> sleeping_{false};
  bool thread_started_ = false;
};

}  // namespace

void watchdog_register(ThreadRuntime* rt) { Watchdog::instance().add(rt); }
void watchdog_unregister(ThreadRuntime* rt) { Watchdog::instance().remove(rt); }
void watchdog_call_started() { Watchdog::instance().call_started(); }

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t thread_cpu_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace eg::functions::cff
