// CloudFront Functions in process: `function handler(event)` (cloudfront-js-1.0) and
// `[async] function handler(event)` (cloudfront-js-2.0) run in SpiderMonkey (mozjs-102) on the
// calling thread, with CloudFront's modules (crypto, querystring, Buffer, cloudfront: KVS and
// origin modification) and its restrictions (no eval/Function constructor, no timers, no
// network or fs, 10 KB of code, 2 MB of memory, a compute budget).
//
// Threads: a CffScript is immutable and shared by every thread. run_cff() uses the calling
// thread's own JSContext (created on first use, kept for the thread's life) and, inside it, one
// global per script (compiled on the thread's first call of that script, kept while the script
// lives). A call therefore costs making the event (from a request record on viewer-request,
// from JSON otherwise), the handler and reading its result; nothing is compiled per call.
//
// Everything reported to the caller is a value (CffOutcome, an error string): no exceptions.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::functions {

enum class CffRuntimeVersion : uint8_t { V1, V2 };
// "cloudfront-js-1.0" | "cloudfront-js-2.0" (CloudFront's FunctionConfig.Runtime values).
std::optional<CffRuntimeVersion> parse_cff_runtime(std::string_view s);
std::string_view to_string(CffRuntimeVersion v);

struct CffOptions {
  CffRuntimeVersion version = CffRuntimeVersion::V2;
  // A KeyValueStore in CloudFront's S3 import format ({"data":[{"key":..,"value":..}]}),
  // read at load; "" = no store (cf.kvs() then throws). 2.0 only.
  std::string kvs_file;
  // CPU time a call may use; CloudFront does not publish its maximum (about 1 ms is commonly
  // reported). A watchdog thread reads the calling thread's CPU clock and stops a call that has
  // used its budget (after between budget and budget + 0.5 ms of CPU); GC time is not charged.
  std::chrono::microseconds compute_budget{1000};
  size_t max_code_bytes = 10240;   // CloudFront's 10 KB function size limit, checked at load
  size_t memory_bytes = 2u << 20;  // CloudFront's 2 MB; see run_cff for what is counted
};

// What a 2.0 viewer-request function asked of the origin (import cf from 'cloudfront').
// The gateway applies it after the call; the parameters are kept as the function wrote them.
struct OriginChange {
  enum class Kind : uint8_t {
    Update,       // cf.updateRequestOrigin(params): override settings of the current origin
    SelectById,   // cf.selectRequestOriginById(origin_id): another origin of the distribution
    CreateGroup,  // cf.createRequestOriginGroup(params): a failover group made on the fly
  };
  Kind kind = Kind::Update;
  std::string origin_id;    // SelectById
  std::string params_json;  // Update, CreateGroup: the object passed, as JSON
};

class CffKvs;  // kvs.h: the store read from CffOptions::kvs_file

class CffScript : public std::enable_shared_from_this<CffScript> {
 public:
  // Checks the size, compiles and runs the top level once on the calling thread, and requires a
  // function named `handler`. On failure returns nullptr and sets error to one line naming the
  // file (name) and, for JavaScript errors, the line and column:
  //   "fns/rewrite.js:3:10: SyntaxError: missing ; before statement"
  // 2.0 sources may start with `import cf from 'cloudfront'` (or crypto, querystring, buffer):
  // such declarations are rewritten to require() on the same line before compiling.
  static std::shared_ptr<CffScript> load(std::string name, std::string source, CffOptions options,
                                         std::string& error);
  ~CffScript();

  const std::string& name() const { return name_; }
  const CffOptions& options() const { return options_; }
  const std::string& compiled_source() const { return source_; }  // after the import rewrite
  const CffKvs* kvs() const { return kvs_.get(); }
  uint64_t id() const { return id_; }  // unique for the process's life; keys per-thread state

 private:
  CffScript() = default;
  std::string name_;
  std::string source_;
  CffOptions options_;
  std::shared_ptr<const CffKvs> kvs_;
  uint64_t id_ = 0;
};

enum class CffFailure : uint8_t {
  None,
  Exception,        // the handler threw, or its promise rejected (Lambda@Edge would say 500)
  ComputeExceeded,  // stopped by the compute budget (503)
  MemoryExceeded,   // out of its memory (503)
  InvalidResult,    // returned nothing JSON can carry, or a promise in 1.0 (502)
  Internal,         // the engine could not start on this thread, or the event is not JSON
};

struct CffOutcome {
  bool ok = false;
  std::string result_json;  // JSON.stringify(returned value), when ok
  // run_cff_request_record: the returned request as a record (cff_record.h), when ok and the
  // result is a plain request; result_json is then empty.
  std::string result_record;
  bool request_unchanged = false;  // ... or it returned the request exactly as it was shown
  CffFailure failure = CffFailure::None;
  // A JavaScript error carries its position ("fns/a.js:4:9: TypeError: x is undefined");
  // the other failures do not name the function ("stopped: exceeded its compute budget of
  // 1000 µs"): the caller says which function failed, once.
  std::string error;
  std::vector<std::string> logs;  // console.log lines of this call (10 KB in all, as CloudFront)
  // 0-100, CloudFront's FunctionComputeUtilization: the call's time as a share of
  // compute_budget (100 when stopped). Measured on the steady clock less GC time, as the thread
  // CPU clock costs a syscall; on an overloaded machine preemption inflates it.
  int compute_utilization = 0;
  std::optional<OriginChange> origin;  // the last origin helper called, if any
};

// Runs script's handler with the event (CloudFront Functions event JSON, §2.1 of the fact sheet)
// on the calling thread. Memory: the limit applies to the JS heap (objects, strings' headers,
// closures...) of the script beyond its state after load; large malloc'd buffers (long string
// contents, typed array data) are not counted by SpiderMonkey's heap limit.
CffOutcome run_cff(const CffScript& script, std::string_view event_json);

// A viewer-request event as a request record (src/functions/cff_record.h) in its four parts:
// the head fields (context, viewer, method, uri), then the querystring, headers and cookies.
struct CffRecordParts {
  std::string_view head, query, headers, cookies;
};

// The same with the event given as a request record: no JSON on the way in, and a returned
// plain request comes back in result_record (or as request_unchanged).
CffOutcome run_cff_request_record(const CffScript& script, const CffRecordParts& record);

}  // namespace eg::functions
