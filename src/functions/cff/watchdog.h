// The compute budget's clock: one process-wide thread that asks a JSContext for its interrupt
// callback once the call running on it passes its wall-clock deadline. The callback itself
// (engine.cc) decides on CPU time, so a preempted thread is not stopped for time it did not use.
// The thread polls only while calls run; idle, it sleeps until the next call wakes it.
#pragma once
#include <cstdint>

namespace eg::functions::cff {

class ThreadRuntime;

void watchdog_register(ThreadRuntime* rt);
void watchdog_unregister(ThreadRuntime* rt);
// Called at the start of every call, after the runtime's deadline is set: wakes the watchdog if
// it sleeps (one atomic load otherwise).
void watchdog_call_started();
int64_t steady_now_ns();
int64_t thread_cpu_now_ns();

}  // namespace eg::functions::cff
