// Private to cff/: the per-thread SpiderMonkey state and the helpers the native modules share.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "functions/cff/cff.h"
#include "functions/cff/jsapi.h"
#include "functions/cff/watchdog.h"

namespace eg::functions::cff {

// The state of the call running on this thread, read by the natives (console, kvs, origin)
// and by the interrupt callback.
struct CallState {
  const CffScript* script = nullptr;
  std::vector<std::string> logs;
  size_t log_bytes = 0;
  bool logs_truncated = false;
  std::optional<OriginChange> origin;
  // For compute utilization: wall-clock time of the call less the major GC slices it hit
  // (a steady clock read is ~50 ns; the thread CPU clock is a ~0.5 µs syscall).
  int64_t wall_start_ns = 0;
  int64_t gc_start_ns = 0;
  bool over_budget = false;  // the interrupt callback stopped the call
};

// Promise jobs of the running call. SpiderMonkey's internal queue would report a job's
// uncatchable failure (our compute budget) through an environment preparer we do not have;
// this one stops draining instead, and is emptied after every call.
class CallJobQueue final : public JS::JobQueue {
 public:
  explicit CallJobQueue(JSContext* cx) : jobs_(cx) {}
  JSObject* getIncumbentGlobal(JSContext* cx) override;
  bool enqueuePromiseJob(JSContext* cx, JS::HandleObject promise, JS::HandleObject job,
                         JS::HandleObject allocation_site,
                         JS::HandleObject incumbent_global) override;
  void runJobs(JSContext* cx) override { drain(cx); }
  bool empty() const override { return jobs_.empty(); }
  js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext* cx) override;

  bool drain(JSContext* cx);  // false: a job failed with an uncatchable error (stopped)
  void clear() { jobs_.clear(); }

 private:
  JS::PersistentRootedVector<JSObject*> jobs_;
};

// One script's global on this thread.
struct ScriptInstance {
  std::weak_ptr<const CffScript> script;  // expired: the snapshot is gone, drop the instance
  JS::PersistentRootedObject global;
  JS::PersistentRootedValue handler;
  // The realm's own JSON.stringify, taken before user code runs (which may replace it): a
  // string result is copied out faster than JS_Stringify's UTF-16 chunks.
  JS::PersistentRootedValue stringify;
  JS::PersistentRootedValue build_request_event;
  JS::PersistentRootedValue flatten_request;
  size_t heap_baseline = 0;  // GC heap bytes after creation (and a GC)
  explicit ScriptInstance(JSContext* cx)
      : global(cx), handler(cx), stringify(cx), build_request_event(cx), flatten_request(cx) {}
};

// One per thread that runs CloudFront Functions; created on first use, destroyed at thread exit.
class ThreadRuntime {
 public:
  static ThreadRuntime* get(std::string& error);  // nullptr + error when the engine cannot start
  static ThreadRuntime* current();                // nullptr outside a runtime thread
  ~ThreadRuntime();

  JSContext* cx() const { return cx_; }
  CallJobQueue& jobs() { return *jobs_; }
  CallState* call() { return call_; }
  void set_call(CallState* c) { call_ = c; }

  // A global for the runtime's own work on source text (Reflect.parse), never user code.
  JSObject* tools_global();

  // The script's instance on this thread, created (compiled, top level run) if missing.
  // On failure returns nullptr and sets error (file:line:col: message).
  ScriptInstance* instance(const CffScript& script, std::string& error);

  BudgetSlot budget;  // shared with the watchdog thread
  // GC bookkeeping for the budget: major slices and minor collections nest.
  int gc_depth = 0;
  int64_t gc_start_ns = 0;

 private:
  ThreadRuntime() = default;
  bool init(std::string& error);
  void set_heap_limit(size_t bytes);

  JSContext* cx_ = nullptr;
  std::unique_ptr<CallJobQueue> jobs_;
  CallState* call_ = nullptr;
  std::unordered_map<uint64_t, std::unique_ptr<ScriptInstance>> instances_;
  std::unique_ptr<JS::PersistentRootedObject> tools_global_;
  size_t heap_limit_ = 0;
};

// The pending exception as "file:line:col: Name: message" (clears it). "" if none is pending
// (an uncatchable stop: interrupt or out of memory). SpiderMonkey 102 counts columns from 0 in
// compile errors and from 1 in errors made at run time: compiling says which it is.
std::string take_exception_message(JSContext* cx, bool compiling = false);

// Natives installed on the hidden `natives` object the prelude receives.
extern const JSFunctionSpec kCryptoNatives[];  // modules/crypto.cc: digest
// OpenSSL 3 builds its digest tables on first use (milliseconds): done once per process at
// start, not inside the first call's compute budget.
void warm_digests();
extern const JSFunctionSpec kBytesNatives[];       // modules/bytes.cc: encode, decode
extern const JSFunctionSpec kCloudfrontNatives[];  // modules/cloudfront.cc: log, kvs*, origin

// cloudfront-js-1.0 has no const or let (AWS refuses such code when it is published): the
// first such declaration as "name:line:col: SyntaxError: ...", or "" when there is none (a
// source that does not parse is left to the compiler's own message).
std::string find_v1_declarations(ThreadRuntime& rt, const std::string& name,
                                 const std::string& source);

// The prelude's request-record functions of one global (cff_record.h).
struct RecordAdapters {
  JS::MutableHandleValue build_request_event;  // (record text) -> event
  JS::MutableHandleValue flatten_request;      // (result) -> record text, or null
};

// Installs console, require and the 2.0 Buffer/1.0 String byte methods in the current global,
// and hands back its request-record functions (never visible to the function's code).
bool install_prelude(JSContext* cx, CffRuntimeVersion version, RecordAdapters& adapters);

// String helpers shared by the natives.
bool to_utf8(JSContext* cx, JS::HandleString s, std::string& out);
JSString* new_string_utf8(JSContext* cx, std::string_view utf8);  // invalid bytes -> U+FFFD
void append_utf16_as_utf8(const char16_t* s, size_t n, std::string& out);
// Bytes of an ArrayBufferView (Uint8Array, Buffer, ...); false if v is not one.
bool view_bytes(JS::HandleValue v, std::string& out);
JSObject* new_uint8_array(JSContext* cx, std::string_view bytes);
bool to_latin1(JSContext* cx, JS::HandleString s, std::string& out);  // each code unit's low byte
std::string hex_encode(std::string_view bytes);
std::string base64_encode_with(std::string_view bytes, bool url);  // url: base64url, no padding

}  // namespace eg::functions::cff
