// The Lambda@Edge runtime: handlers written for Lambda run unchanged in a pool of Node.js worker
// processes (CommonJS or ES modules, callback or async style, require of the handler's folder
// and node_modules, module state kept between invocations like a warm Lambda instance).
//
// Design, chosen for latency (a no-op handler adds ~25 µs p50; NodeLimits.NoOpRoundTrip measures
// it):
// - Per event loop process sets. Each gateway thread that invokes a function gets its own
//   shard of `workers` processes, created on first use and owned by that thread's io_context:
//   an invocation never hops threads and takes no lock on its path. `workers` and `max_queue`
//   are per shard (per worker thread). The one requirement: an io_context is run by one thread
//   (the gateway's model), and it outlives the pools that were invoked on it.
// - One invocation at a time per process (a Lambda instance). When all are busy, requests
//   queue (bounded: over `max_queue` → Throttled, Lambda's concurrency limit).
// - Pipes with length-prefixed frames (fd 3 in, fd 4 out; format in runner.js); console output
//   is streamed as log frames, so it survives a crash or a timeout. fd 1/2 go to a diagnostics
//   pipe (node's own fatal messages, e.g. heap exhaustion).
// - The runner script (node/runner.js) is compiled into the binary and passed with `node -e`:
//   nothing to locate on disk, and the binary and its runner can never be out of step.
// - Processes: posix_spawn (vfork + exec: the spawning loop pauses ~60 µs; node's start-up is
//   awaited), a process group each (a kill takes the handler's children too), a clean
//   environment (Lambda's reserved variables only: the gateway's secrets and AWS credentials
//   are not inherited), cwd = the handler's folder, every other fd closed. Exits are observed
//   through a pidfd on the event loop (no SIGCHLD handler) and reaped.
// - memory_mb bounds the JavaScript heap (--max-old-space-size); Buffers and ArrayBuffers live
//   outside it, as they do in node (Lambda's limit is the instance's whole memory).
// - A timed-out, crashed or out-of-memory process is killed and never reused; the next request
//   gets a fresh one. Only the affected request fails.
// - reload() (and watch mode, inotify on the handler's folder) bumps a generation: new
//   invocations go to fresh processes with the new code; old ones finish their invocation and
//   exit.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eg::functions {

struct NodeFunctionSpec {
  std::string file;      // as written in the config ("fns/enrich.js"); messages name it so
  std::string base_dir;  // the directory `file` is relative to ("" = the current directory)
  std::string handler = "handler";  // the exported function's name
  std::string name;       // Lambda function name (context.functionName); "" = the file's stem
  int memory_mb = 128;    // --max-old-space-size of each process
  int workers = 2;        // processes per event loop (per gateway worker thread) that invokes it
  size_t max_queue = 64;  // requests waiting for a process, per event loop; more → Throttled
  size_t max_result_bytes = 6 * 1024 * 1024;      // Lambda's synchronous response payload limit
  std::chrono::milliseconds init_timeout{10000};  // loading the handler (Lambda's init limit)
  std::string node = "node";  // the node binary, looked up in PATH unless it has a '/'
};

struct NodeOutcome {
  enum class Kind : uint8_t {
    Ok,
    Exception,       // threw, rejected, or callback(err)                          → 500
    Timeout,         // ran past its timeout; the process was killed                → 503
    Crash,           // the process exited or was killed while handling the request  → 503
    OutOfMemory,     // the process exhausted its heap (memory_mb)                   → 503
    Throttled,       // every process busy and the queue full (or waited too long)  → 503
    LoadError,       // the handler could not be loaded (syntax error, no export)    → 503
    ResultTooLarge,  // the result is over max_result_bytes                          → 502
  };
  Kind kind = Kind::Ok;
  // Ok: JSON.stringify of what the handler returned; the bare word "undefined" (not JSON) when
  // it returned nothing.
  std::string result_json;
  // Not Ok: starts with "function <file> ", so that prefixing the event type reads
  // "origin-request function fns/slow.js timed out after 30000 ms".
  std::string message;
  // Console output in Lambda's format "<ISO time>\t<request id>\t<LEVEL>\t<message>", including
  // lines printed while loading or between invocations (request id "undefined").
  std::vector<std::string> logs;
  double duration_ms = 0;  // from handing the event to a process until its answer

  bool ok() const { return kind == Kind::Ok; }
  bool returned_undefined() const { return kind == Kind::Ok && result_json == "undefined"; }
  int status() const;  // the Lambda@Edge status for a failure (see Kind); 200 when Ok
};
std::string_view to_string(NodeOutcome::Kind k);  // "Ok", "Exception", ...

class NodePool {
 public:
  // Resolves the file and starts one process, which must load the handler: a syntax error, a
  // missing file or export is reported here ("fns/a.js: SyntaxError: Unexpected token ')'
  // (line 4)") and nullptr is returned. That process serves the first event loop to invoke.
  // Blocks for the load (~50 ms): call it from config loading, not from an event loop.
  static std::unique_ptr<NodePool> create(NodeFunctionSpec spec, std::string& error);
  ~NodePool();  // stop()
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // Runs the handler once with `event_json` on this event loop's process set. Never throws;
  // every failure is an outcome. `timeout` bounds both the wait for a free process and the
  // run (context.getRemainingTimeInMillis starts from it).
  boost::asio::awaitable<NodeOutcome> invoke(std::string event_json, std::string_view request_id,
                                             std::chrono::milliseconds timeout);

  // Starts this event loop's processes now rather than on its first requests (each loop's
  // first request otherwise waits for node to start, ~50 ms). Returns without waiting for them.
  boost::asio::awaitable<void> warm();

  // New invocations go to fresh processes that load the code again; processes running an
  // invocation finish it and exit. Callable from any thread.
  void reload();
  // Development: reload() whenever anything under the handler's folder changes (inotify).
  void watch(bool on);
  // Kills and reaps every process; invocations in flight fail with Crash. Idempotent.
  void stop();

  const NodeFunctionSpec& spec() const;
  size_t process_count() const;  // processes alive, all event loops (for tests and /stats)
  uint64_t spawn_count() const;  // processes started since create

  struct Core;  // shared with the per-event-loop shards (node_pool.cc)

 private:
  explicit NodePool(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// `edgeguard fn test`: one process, one invocation, stop (node's start-up plus the run, ~60 ms).
// A load error comes back as Kind::LoadError with the create() message.
NodeOutcome run_once(const NodeFunctionSpec& spec, std::string event_json,
                     std::string_view request_id, std::chrono::milliseconds timeout);

}  // namespace eg::functions
