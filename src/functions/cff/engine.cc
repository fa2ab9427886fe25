// The per-thread SpiderMonkey runtime and run_cff(): one JSContext per thread (SpiderMonkey's
// rule), one global per script on it, the compute budget (watchdog + interrupt callback on CPU
// time) and the memory limit (the GC heap's maximum).
#include "functions/cff/engine.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/strings.h"
#include "functions/cff/cff.h"
#include "functions/cff/watchdog.h"

namespace eg::functions::cff {

namespace {

// Native stack SpiderMonkey may use before it throws "too much recursion": well inside the
// 8 MB of a default thread and of the gateway's workers.
constexpr size_t kNativeStackQuota = 1u << 20;
// The context's nursery: minor GCs stay cheap and a call's young objects count towards the
// memory limit soon after they are made.
constexpr uint32_t kMaxNurseryBytes = 1u << 20;
// A script's top level runs once per thread at load; it gets more room than a call.
constexpr std::chrono::microseconds kMinTopLevelBudget{50'000};

const JSClass kGlobalClass = {
    "global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps, nullptr, nullptr, nullptr};

bool g_js_initialized = false;
std::once_flag g_js_init_once;
// SpiderMonkey wants contexts created one at a time; the first context's self-hosted code is
// kept (as SpiderMonkey's own cache format) so other threads decode instead of parsing it.
std::mutex g_context_mu;
std::vector<uint8_t>* g_self_hosted_cache = nullptr;
std::atomic<int> g_live_contexts{0};

// libmozjs's own static destructors crash (a busy mutex) unless JS_ShutDown ran first, and
// JS_ShutDown needs every context gone: by exit the main thread's context has been destroyed
// with its thread_locals; a context still alive on another thread means a worker was not
// joined, and then shutting down under it would be worse than the crash.
void shutdown_at_exit() {
  if (g_live_contexts.load() == 0) JS_ShutDown();
}

// The self-hosted code cache is SpiderMonkey's transcoding format, which is stamped with a build
// id the embedder provides; the cache never leaves the process, so any fixed id will do.
bool process_build_id(JS::BuildIdCharVector* id) {
  static constexpr char kId[] = "edgeguard-mozjs-102";
  return id->append(kId, sizeof kId - 1);
}

void init_process() {
  JS::SetProcessBuildIdOp(process_build_id);
  // The JIT stays on under AddressSanitizer too: libmozjs is not instrumented, its generated
  // code is invisible to ASan, and the unit tests run clean with it (wasm, whose signal
  // handling would be the trouble, is off).
  g_js_initialized = JS_Init();
  warm_digests();
  if (g_js_initialized) std::atexit(shutdown_at_exit);
}

bool save_self_hosted(JSContext*, JS::SelfHostedCache cache) {
  g_self_hosted_cache = new std::vector<uint8_t>(cache.begin(), cache.end());
  return true;
}

// eval() and new Function() reach this through SpiderMonkey's CSP hook; the refusal's message
// is rewritten in take_exception_message (SpiderMonkey reports its own "blocked by CSP").
bool refuse_runtime_code(JSContext*, JS::RuntimeCode, JS::HandleString) { return false; }
const JSSecurityCallbacks kSecurityCallbacks = {refuse_runtime_code, nullptr};

bool on_interrupt(JSContext* cx) {
  ThreadRuntime* rt = ThreadRuntime::current();
  CallState* call = rt ? rt->call() : nullptr;
  if (!call || !budget_exceeded(rt->budget)) return true;
  call->over_budget = true;
  return false;  // uncatchable: the script stops here
}

void gc_enter() {
  ThreadRuntime* rt = ThreadRuntime::current();
  if (!rt || rt->gc_depth++ > 0) return;
  rt->gc_start_ns = steady_now_ns();
  rt->budget.gc_active.store(true);
}

void gc_leave() {
  ThreadRuntime* rt = ThreadRuntime::current();
  if (!rt || rt->gc_depth == 0 || --rt->gc_depth > 0) return;
  rt->budget.gc_ns.fetch_add(steady_now_ns() - rt->gc_start_ns, std::memory_order_relaxed);
  rt->budget.gc_active.store(false);
}

void on_gc_slice(JSContext*, JS::GCProgress progress, const JS::GCDescription&) {
  if (progress == JS::GC_SLICE_BEGIN) gc_enter();
  if (progress == JS::GC_SLICE_END) gc_leave();
}

void on_nursery_collection(JSContext*, JS::GCNurseryProgress progress, JS::GCReason) {
  if (progress == JS::GCNurseryProgress::GC_NURSERY_COLLECTION_START) gc_enter();
  if (progress == JS::GCNurseryProgress::GC_NURSERY_COLLECTION_END) gc_leave();
}

thread_local std::unique_ptr<ThreadRuntime> t_runtime;
thread_local bool t_runtime_failed = false;
thread_local std::string t_runtime_error;

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

std::string describe(JSContext* cx, const JS::ExceptionStack& stack, bool compiling) {
  JS::ErrorReportBuilder report(cx);
  if (!report.init(cx, stack, JS::ErrorReportBuilder::NoSideEffects)) {
    JS_ClearPendingException(cx);
    return "uncaught exception (not describable)";
  }
  std::string message = report.toStringResult() ? report.toStringResult().c_str() : "";
  replace_all(message, "call to eval() blocked by CSP", "CloudFront Functions do not allow eval");
  replace_all(message, "call to Function() blocked by CSP",
              "CloudFront Functions do not allow eval (new Function)");
  const JSErrorReport* r = report.report();
  if (r && r->filename && r->lineno > 0)
    return std::string(r->filename) + ":" + std::to_string(r->lineno) + ":" +
           std::to_string(r->column + (compiling ? 1 : 0)) + ": " + message;
  return message;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Job queue

JSObject* CallJobQueue::getIncumbentGlobal(JSContext* cx) { return JS::CurrentGlobalOrNull(cx); }

bool CallJobQueue::enqueuePromiseJob(JSContext* cx, JS::HandleObject, JS::HandleObject job,
                                     JS::HandleObject, JS::HandleObject) {
  if (!jobs_.append(job)) {
    JS_ReportOutOfMemory(cx);
    return false;
  }
  return true;
}

js::UniquePtr<JS::JobQueue::SavedJobQueue> CallJobQueue::saveJobQueue(JSContext* cx) {
  // Only the debugger saves queues, and no debugger runs here.
  JS_ReportOutOfMemory(cx);
  return nullptr;
}

bool CallJobQueue::drain(JSContext* cx) {
  JS::RootedObject job(cx);
  JS::RootedValue ignored(cx);
  for (size_t i = 0; i < jobs_.length(); ++i) {
    job = jobs_[i];
    JSAutoRealm ar(cx, job);
    if (!JS::Call(cx, JS::UndefinedHandleValue, job, JS::HandleValueArray::empty(), &ignored)) {
      // Reaction jobs catch what their callbacks throw; a failure here is uncatchable.
      jobs_.clear();
      return false;
    }
  }
  jobs_.clear();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Thread runtime

ThreadRuntime* ThreadRuntime::current() { return t_runtime.get(); }

ThreadRuntime* ThreadRuntime::get(std::string& error) {
  if (t_runtime) return t_runtime.get();
  if (t_runtime_failed) {
    error = t_runtime_error;
    return nullptr;
  }
  std::unique_ptr<ThreadRuntime> rt(new ThreadRuntime());
  if (!rt->init(error)) {
    t_runtime_failed = true;
    t_runtime_error = error;
    return nullptr;
  }
  t_runtime = std::move(rt);
  watchdog_register(&t_runtime->budget);
  return t_runtime.get();
}

bool ThreadRuntime::init(std::string& error) {
  std::call_once(g_js_init_once, init_process);
  if (!g_js_initialized) {
    error = "CloudFront Functions: SpiderMonkey failed to initialize (JS_Init)";
    return false;
  }
  std::lock_guard lock(g_context_mu);
  cx_ = JS_NewContext(JS::DefaultHeapMaxBytes);
  if (!cx_) {
    error = "CloudFront Functions: could not create a JavaScript context";
    return false;
  }
  g_live_contexts.fetch_add(1);
  JS::ContextOptionsRef(cx_).setWasm(false).setAsmJS(false);
  JS_SetNativeStackQuota(cx_, kNativeStackQuota);
  const bool self_hosted =
      g_self_hosted_cache
          ? JS::InitSelfHostedCode(
                cx_, JS::SelfHostedCache(g_self_hosted_cache->data(), g_self_hosted_cache->size()))
          : JS::InitSelfHostedCode(cx_, nullptr, save_self_hosted);
  if (!self_hosted) {
    error = "CloudFront Functions: SpiderMonkey's self-hosted code failed to initialize";
    JS_DestroyContext(cx_);
    g_live_contexts.fetch_sub(1);
    cx_ = nullptr;
    return false;
  }
  budget.cx = cx_;
  pthread_getcpuclockid(pthread_self(), &budget.cpu_clock);
  jobs_ = std::make_unique<CallJobQueue>(cx_);
  JS::SetJobQueue(cx_, jobs_.get());
  JS_AddInterruptCallback(cx_, on_interrupt);
  JS::SetGCSliceCallback(cx_, on_gc_slice);
  JS::SetGCNurseryCollectionCallback(cx_, on_nursery_collection);
  JS_SetSecurityCallbacks(cx_, &kSecurityCallbacks);
  JS_SetGCParameter(cx_, JSGC_MAX_NURSERY_BYTES, kMaxNurseryBytes);
  // A call that reaches the heap limit gets one full GC before it is refused, every time
  // (SpiderMonkey otherwise skips that last-ditch GC if one ran in the last minute).
  JS_SetGCParameter(cx_, JSGC_MIN_LAST_DITCH_GC_PERIOD, 0);
  return true;
}

ThreadRuntime::~ThreadRuntime() {
  watchdog_unregister(&budget);
  if (!cx_) return;
  // Rooted things first: they unlink themselves from the context's root lists.
  instances_.clear();
  tools_global_.reset();
  JS::SetJobQueue(cx_, nullptr);
  jobs_.reset();
  JS_DestroyContext(cx_);
  g_live_contexts.fetch_sub(1);
}

void ThreadRuntime::set_heap_limit(size_t bytes) {
  if (bytes == heap_limit_) return;
  heap_limit_ = bytes;
  JS_SetGCParameter(cx_, JSGC_MAX_BYTES,
                    static_cast<uint32_t>(std::min<size_t>(bytes, UINT32_MAX)));
}

JSObject* ThreadRuntime::tools_global() {
  if (tools_global_) return *tools_global_;
  JS::RealmOptions realm_options;
  JS::RootedObject global(
      cx_, JS_NewGlobalObject(cx_, &kGlobalClass, nullptr, JS::FireOnNewGlobalHook, realm_options));
  if (!global) return nullptr;
  JSAutoRealm ar(cx_, global);
  if (!JS::InitRealmStandardClasses(cx_) || !JS_InitReflectParse(cx_, global)) return nullptr;
  tools_global_ = std::make_unique<JS::PersistentRootedObject>(cx_, global);
  return global;
}

ScriptInstance* ThreadRuntime::instance(const CffScript& script, std::string& error) {
  if (auto it = instances_.find(script.id()); it != instances_.end()) return it->second.get();
  // A new script usually means a new config snapshot: drop the globals of scripts now gone.
  std::erase_if(instances_, [](const auto& kv) { return kv.second->script.expired(); });

  auto inst = std::make_unique<ScriptInstance>(cx_);
  inst->script = script.weak_from_this();
  JS::RealmOptions realm_options;
  inst->global =
      JS_NewGlobalObject(cx_, &kGlobalClass, nullptr, JS::FireOnNewGlobalHook, realm_options);
  if (!inst->global) {
    error = script.name() + ": could not create a JavaScript global";
    JS_ClearPendingException(cx_);
    return nullptr;
  }
  JSAutoRealm ar(cx_, inst->global);
  const CffOptions& opt = script.options();
  JS::RootedValue json(cx_);
  RecordAdapters adapters{&inst->build_request_event, &inst->flatten_request};
  if (!JS::InitRealmStandardClasses(cx_) || !install_prelude(cx_, opt.version, adapters) ||
      !JS_GetProperty(cx_, inst->global, "JSON", &json) || !json.isObject()) {
    error = script.name() + ": runtime setup failed: " + take_exception_message(cx_);
    return nullptr;
  }
  JS::RootedObject json_object(cx_, &json.toObject());
  if (!JS_GetProperty(cx_, json_object, "stringify", &inst->stringify)) {
    error = script.name() + ": runtime setup failed: " + take_exception_message(cx_);
    return nullptr;
  }

  JS::CompileOptions compile_options(cx_);
  // Everything is compiled now rather than on a function's first call, so the first request on
  // a thread does not pay (and is not stopped by the compute budget for) lazy compilation.
  compile_options.setFileAndLine(script.name().c_str(), 1)
      .setForceStrictMode()
      .setEagerDelazificationStrategy(JS::DelazificationOption::ParseEverythingEagerly);
  JS::SourceText<mozilla::Utf8Unit> text;
  const std::string& source = script.compiled_source();
  if (!text.init(cx_, source.data(), source.size(), JS::SourceOwnership::Borrowed)) {
    error = take_exception_message(cx_);
    return nullptr;
  }
  JS::RootedScript compiled(cx_, JS::Compile(cx_, compile_options, text));
  if (!compiled) {
    error = take_exception_message(cx_, /*compiling=*/true);
    if (error.empty()) error = script.name() + ": could not be compiled (out of memory)";
    return nullptr;
  }

  // The top level runs under the compute budget too (a loop there must not hang the loader).
  CallState call;
  call.script = &script;
  call_ = &call;
  budget_begin(budget,
               std::chrono::nanoseconds(std::max(opt.compute_budget, kMinTopLevelBudget)).count());
  JS::RootedValue found(cx_);
  bool ok = JS_ExecuteScript(cx_, compiled) && jobs_->drain(cx_);
  if (ok) {
    // `handler` may be a function declaration (a global property) or a top-level const/let
    // (the global lexical scope): evaluating the name finds either.
    static constexpr char kFind[] = "typeof handler === 'function' ? handler : undefined";
    JS::CompileOptions find_options(cx_);
    find_options.setFileAndLine("<find handler>", 1);
    JS::SourceText<mozilla::Utf8Unit> find_text;
    ok = find_text.init(cx_, kFind, sizeof kFind - 1, JS::SourceOwnership::Borrowed) &&
         JS::Evaluate(cx_, find_options, find_text, &found);
  }
  budget_end(budget);
  call_ = nullptr;
  if (!ok) {
    jobs_->clear();
    error = take_exception_message(cx_);
    if (call.over_budget)
      error = script.name() + ": the top level ran over its compute budget";
    else if (error.empty())
      error = script.name() + ": the top level ran out of memory";
    return nullptr;
  }
  if (!found.isObject()) {
    error =
        script.name() + ": no function named handler (CloudFront calls `function handler(event)`)";
    return nullptr;
  }
  inst->handler = found;

  // The script's memory is counted from here: collect what loading left behind, then allow
  // this much more heap (the latest instance's baseline includes every earlier one's), plus
  // the nursery's own chunk. The nursery's chunk is allocated under the same limit: without its
  // room, the first GC at the limit leaves the context with no nursery, every object of every
  // call is made in the tenured heap, and the heap fills with garbage every few hundred calls,
  // each time costing a full GC of every script's global.
  JS_GC(cx_);
  inst->heap_baseline = JS_GetGCParameter(cx_, JSGC_BYTES);
  size_t allowance = opt.memory_bytes;
  for (const auto& kv : instances_)
    if (auto s = kv.second->script.lock())
      allowance = std::max(allowance, s->options().memory_bytes);
  set_heap_limit(inst->heap_baseline + allowance + kMaxNurseryBytes);
  return instances_.emplace(script.id(), std::move(inst)).first->second.get();
}

std::string take_exception_message(JSContext* cx, bool compiling) {
  if (!JS_IsExceptionPending(cx)) return "";
  JS::ExceptionStack stack(cx);
  if (!JS::StealPendingExceptionStack(cx, &stack)) return "";
  return describe(cx, stack, compiling);
}

// ---------------------------------------------------------------------------------------------
// A call

namespace {

bool is_out_of_memory(const std::string& message) {
  return message.find("out of memory") != std::string::npos ||
         message.find("allocation size overflow") != std::string::npos;
}

}  // namespace

}  // namespace eg::functions::cff

namespace eg::functions {

using cff::CallState;
using cff::ThreadRuntime;

namespace {

// The event as SpiderMonkey should see it: a JSON text, or a request record. A record's bytes
// become characters as the JSON event's writer makes them (append_json_string): UTF-8 where
// well formed, a stray byte as its ISO-8859-1 character.
JSString* new_record_string(JSContext* cx, std::string_view record) {
  size_t i = 0;
  while (i < record.size() && static_cast<unsigned char>(record[i]) < 0x80) ++i;
  if (i == record.size()) return JS_NewStringCopyN(cx, record.data(), record.size());
  std::string utf8(record.substr(0, i));
  while (i < record.size()) {
    if (size_t n = utf8_sequence_length(record, i)) {
      utf8.append(record.substr(i, n));
      i += n;
    } else {
      append_utf8(utf8, static_cast<unsigned char>(record[i++]));
    }
  }
  return cff::new_string_utf8(cx, utf8);
}

// run_cff and run_cff_request_record: one call of the handler. With a record, the event is
// built from it and a plain returned request comes back as a record (out.result_record);
// anything else comes back as JSON.
CffOutcome call_handler(const CffScript& script, std::string_view event_json,
                        const CffRecordParts* record) {
  CffOutcome out;
  std::string error;
  ThreadRuntime* rt = ThreadRuntime::get(error);
  if (!rt) {
    out.failure = CffFailure::Internal;
    out.error = error;
    return out;
  }
  if (rt->call()) {  // a native module calling back into run_cff: never legitimate
    out.failure = CffFailure::Internal;
    out.error = script.name() + ": CloudFront Functions cannot run inside one another";
    return out;
  }
  cff::ScriptInstance* inst = rt->instance(script, error);
  if (!inst) {
    out.failure = CffFailure::Exception;
    out.error = error;
    return out;
  }
  JSContext* cx = rt->cx();
  JSAutoRealm ar(cx, inst->global);
  const CffOptions& opt = script.options();

  CallState call;
  call.script = &script;
  rt->set_call(&call);
  const int64_t budget_ns = std::chrono::nanoseconds(opt.compute_budget).count();
  call.wall_start_ns = cff::steady_now_ns();
  call.gc_start_ns = rt->budget.gc_ns.load(std::memory_order_relaxed);
  cff::budget_begin(rt->budget, budget_ns);

  enum class Step { Ok, Threw, Invalid, BadEvent } step = Step::Threw;
  std::string invalid;
  JS::RootedValue result(cx);
  {
    JS::RootedValue event(cx);
    bool made = false;
    if (record) {
      JS::RootedValueArray<4> parts(cx);
      made = true;
      for (size_t i = 0; i < 4 && made; ++i) {
        std::string_view part = i == 0   ? record->head
                                : i == 1 ? record->query
                                : i == 2 ? record->headers
                                         : record->cookies;
        JSString* text = new_record_string(cx, part);
        if (text) parts[i].setString(text);
        made = text != nullptr;
      }
      made =
          made && JS::Call(cx, JS::UndefinedHandleValue, inst->build_request_event, parts, &event);
    } else {
      JS::RootedString text(cx, cff::new_string_utf8(cx, event_json));
      made = text && JS_ParseJSON(cx, text, &event);
    }
    if (!made && !JS_IsExceptionPending(cx)) {
      step = Step::Threw;  // stopped (compute budget or memory) while the event was made
    } else if (!made) {
      step = Step::BadEvent;
      invalid = std::string(record ? "the event record could not be read: "
                                   : "the event is not valid JSON: ") +
                cff::take_exception_message(cx);
    } else if (JS::Call(cx, JS::UndefinedHandleValue, inst->handler, JS::HandleValueArray(event),
                        &result)) {
      step = Step::Ok;
      JS::RootedObject promise(cx, result.isObject() ? &result.toObject() : nullptr);
      if (promise && JS::IsPromiseObject(promise)) {
        if (opt.version == CffRuntimeVersion::V1) {
          step = Step::Invalid;
          invalid = "the handler returned a Promise; async handlers need cloudfront-js-2.0";
        } else if (!rt->jobs().drain(cx)) {
          step = Step::Threw;
        } else if (JS::GetPromiseState(promise) == JS::PromiseState::Fulfilled) {
          result = JS::GetPromiseResult(promise);
        } else if (JS::GetPromiseState(promise) == JS::PromiseState::Rejected) {
          JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
          JS_SetPendingException(cx, reason);
          step = Step::Threw;
        } else {
          step = Step::Invalid;
          invalid =
              "the handler's promise never settled (CloudFront Functions have no "
              "timers or I/O to wait for)";
        }
      } else if (!rt->jobs().drain(cx)) {
        step = Step::Threw;
      }
    }
    if (step == Step::Ok) {
      if (result.isUndefined()) {
        step = Step::Invalid;
        invalid =
            "the handler returned undefined (return event.request, event.response or a "
            "response object)";
      } else {
        JS::RootedValue flat(cx);
        if (record && !JS::Call(cx, JS::UndefinedHandleValue, inst->flatten_request,
                                JS::HandleValueArray(result), &flat)) {
          step = Step::Threw;  // a getter of the result threw (JSON.stringify would too)
        } else if (flat.isTrue()) {
          out.request_unchanged = true;
        } else if (flat.isString()) {
          JS::RootedString flat_text(cx, flat.toString());
          if (!cff::to_utf8(cx, flat_text, out.result_record)) step = Step::Threw;
        } else {
          JS::RootedValue json(cx);
          if (!JS::Call(cx, JS::UndefinedHandleValue, inst->stringify, JS::HandleValueArray(result),
                        &json)) {
            step = Step::Threw;
          } else if (!json.isString()) {
            step = Step::Invalid;
            invalid = "the handler's result cannot be represented as JSON";
          } else {
            JS::RootedString json_text(cx, json.toString());
            if (!cff::to_utf8(cx, json_text, out.result_json)) step = Step::Threw;
          }
        }
      }
    }
  }
  cff::budget_end(rt->budget);
  const int64_t used_ns = cff::steady_now_ns() - call.wall_start_ns -
                          (rt->budget.gc_ns.load(std::memory_order_relaxed) - call.gc_start_ns);
  rt->set_call(nullptr);

  out.logs = std::move(call.logs);
  out.origin = std::move(call.origin);
  out.compute_utilization = call.over_budget
                                ? 100
                                : static_cast<int>(std::clamp<int64_t>(
                                      budget_ns > 0 ? used_ns * 100 / budget_ns : 0, 0, 100));
  if (step == Step::Ok) {
    out.ok = true;
    return out;
  }
  out.result_json.clear();
  out.result_record.clear();
  rt->jobs().clear();
  if (step == Step::Invalid || step == Step::BadEvent) {
    out.failure = step == Step::Invalid ? CffFailure::InvalidResult : CffFailure::Internal;
    out.error = std::move(invalid);
    JS_ClearPendingException(cx);
    return out;
  }
  std::string message = cff::take_exception_message(cx);
  if (call.over_budget) {
    out.failure = CffFailure::ComputeExceeded;
    out.error = "stopped: exceeded its compute budget of " +
                std::to_string(opt.compute_budget.count()) + " µs";
  } else if (message.empty() || cff::is_out_of_memory(message)) {
    out.failure = CffFailure::MemoryExceeded;
    out.error =
        "stopped: exceeded its memory limit of " + std::to_string(opt.memory_bytes / 1024) + " KB";
    JS_GC(cx);  // give the next call its memory back now
  } else {
    out.failure = CffFailure::Exception;
    out.error = std::move(message);
  }
  return out;
}

}  // namespace

CffOutcome run_cff(const CffScript& script, std::string_view event_json) {
  return call_handler(script, event_json, nullptr);
}

CffOutcome run_cff_request_record(const CffScript& script, const CffRecordParts& record) {
  return call_handler(script, {}, &record);
}

}  // namespace eg::functions
