// The Lambda@Edge runtime's failures and limits: load errors at create, exceptions, timeouts,
// crashes, memory, throttling, reload, several event loops at once, stop; and the round trip
// of a no-op invocation (printed, loosely bounded).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/detached.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "node_test_util.h"

namespace eg::functions::node_test {

using Kind = NodeOutcome::Kind;
using nlohmann::json;

class NodeLimits : public NodeFixture {
 protected:
  std::string event_for(const std::string& uri) {
    std::string e = kEvent;
    e.replace(e.find("/index.html"), 11, uri);
    return e;
  }
};

TEST_F(NodeLimits, LoadErrorsAreReportedAtCreate) {
  write("fns/syntax.js",
        "exports.handler = async (event) => {\n"
        "  const x = 1;\n"
        "  return f(x;\n"
        "};\n");
  EXPECT_EQ(create_error(spec("fns/syntax.js")),
            "fns/syntax.js: SyntaxError: missing ) after argument list (line 3)");

  write("fns/syntax.mjs", "export const handler = async () => {\n  return f(;\n};\n");
  EXPECT_EQ(create_error(spec("fns/syntax.mjs")),
            "fns/syntax.mjs: SyntaxError: Unexpected token ';' (line 2)");

  write("fns/lib/bad.js", "module.exports = {;\n");
  write("fns/uses-bad.js", "const bad = require('./lib/bad');\nexports.handler = async () => 1;\n");
  EXPECT_EQ(create_error(spec("fns/uses-bad.js")),
            "fns/uses-bad.js: SyntaxError: Unexpected token ';' (fns/lib/bad.js line 1)");

  write("fns/noexport.js", "exports.main = async () => 1;\nexports.other = 2;\n");
  EXPECT_EQ(create_error(spec("fns/noexport.js")),
            "fns/noexport.js: does not export a function named 'handler' (exports: main, other)");

  write("fns/initthrow.js", "const x = null;\nx.boom();\nexports.handler = async () => 1;\n");
  EXPECT_EQ(create_error(spec("fns/initthrow.js")),
            "fns/initthrow.js: TypeError: Cannot read properties of null (reading 'boom') (at "
            "fns/initthrow.js:2:3)");

  write("fns/missingdep.js", "require('left-pad');\nexports.handler = async () => 1;\n");
  EXPECT_TRUE(create_error(spec("fns/missingdep.js"))
                  .starts_with("fns/missingdep.js: Error: Cannot find module 'left-pad'"));

  write("fns/exits.js", "process.exit(3);\n");
  EXPECT_EQ(create_error(spec("fns/exits.js")),
            "fns/exits.js: worker exited with code 3 while loading");

  EXPECT_EQ(create_error(spec("fns/nothere.js")), "fns/nothere.js: no such file");
}

TEST_F(NodeLimits, ExceptionsNameTheErrorAndWhereItWasThrown) {
  write(
      "fns/throw.js",
      "exports.handler = async (event, context) => {\n"
      "  const uri = event.Records[0].cf.request.uri;\n"
      "  if (uri === '/callback') return new Promise((ok, fail) => fail(new RangeError('nope')));\n"
      "  if (uri === '/string') throw 'plain string';\n"
      "  const x = {};\n"
      "  x.f();\n"
      "};\n");
  write("fns/cberr.js",
        "exports.handler = (event, context, callback) => callback(new Error('denied'));\n");
  make("fns/throw.js");
  auto out = invoke();
  EXPECT_EQ(out.kind, Kind::Exception);
  EXPECT_EQ(out.status(), 500);
  EXPECT_EQ(out.message,
            "function fns/throw.js threw TypeError: x.f is not a function (at fns/throw.js:6:5)");
  out = invoke(event_for("/callback"));
  EXPECT_EQ(out.message, "function fns/throw.js threw RangeError: nope (at fns/throw.js:3:66)");
  out = invoke(event_for("/string"));
  EXPECT_EQ(out.message, "function fns/throw.js threw plain string");
  out = invoke();
  EXPECT_EQ(out.kind, Kind::Exception) << "the process is reused after an exception";
  EXPECT_EQ(pool_->spawn_count(), 1u);

  make("fns/cberr.js");
  out = invoke();
  EXPECT_EQ(out.kind, Kind::Exception);
  EXPECT_EQ(out.message,
            "function fns/cberr.js returned an error: Error: denied (at fns/cberr.js:1:58)");
}

TEST_F(NodeLimits, TimeoutKillsTheProcessAndTheNextRequestGetsAFreshOne) {
  write("fns/slow.js",
        "let calls = 0;\n"
        "exports.handler = async (event) => {\n"
        "  calls++;\n"
        "  const uri = event.Records[0].cf.request.uri;\n"
        "  console.log('before the wait');\n"
        "  if (uri === '/hang') await new Promise(() => {});\n"
        "  if (uri === '/spin') for (;;) {}\n"
        "  return {calls};\n"
        "};\n");
  auto s = spec("fns/slow.js");
  s.workers = 1;
  make(s);
  auto out = invoke(event_for("/hang"), "req-1", 200ms);
  EXPECT_EQ(out.kind, Kind::Timeout);
  EXPECT_EQ(out.status(), 503);
  EXPECT_EQ(out.message, "function fns/slow.js timed out after 200 ms");
  ASSERT_EQ(out.logs.size(), 1u) << "lines printed before the timeout are kept";
  EXPECT_GE(out.duration_ms, 190.0);

  out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["calls"], 1) << "a timed-out instance is not reused";

  out = invoke(event_for("/spin"), "req-3", 200ms);
  EXPECT_EQ(out.kind, Kind::Timeout) << "a blocked event loop is killed too";
  out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(pool_->spawn_count(), 3u);
  EXPECT_EQ(pool_->process_count(), 1u);
}

TEST_F(NodeLimits, CrashesFailOnlyTheirRequest) {
  write("fns/crash.js",
        "exports.handler = async (event) => {\n"
        "  const uri = event.Records[0].cf.request.uri;\n"
        "  if (uri === '/exit') process.exit(1);\n"
        "  if (uri === '/segv') process.kill(process.pid, 'SIGSEGV');\n"
        "  if (uri === '/uncaught') {\n"
        "    setTimeout(() => { null.boom; }, 1);\n"
        "    await new Promise((r) => setTimeout(r, 100));\n"
        "  }\n"
        "  if (uri === '/late') setTimeout(() => { throw new Error('after return'); }, 1);\n"
        "  return 'fine';\n"
        "};\n");
  auto s = spec("fns/crash.js");
  s.workers = 1;
  make(s);
  auto out = invoke(event_for("/exit"));
  EXPECT_EQ(out.kind, Kind::Crash);
  EXPECT_EQ(out.message,
            "function fns/crash.js worker exited with code 1 while handling the request");
  EXPECT_EQ(invoke().kind, Kind::Ok);

  out = invoke(event_for("/segv"));
  EXPECT_EQ(out.kind, Kind::Crash);
  EXPECT_TRUE(out.message.starts_with(
      "function fns/crash.js worker was killed by signal SIGSEGV (Segmentation fault) while "
      "handling the request"))
      << out.message;
  EXPECT_EQ(invoke().kind, Kind::Ok);

  out = invoke(event_for("/uncaught"));
  EXPECT_EQ(out.kind, Kind::Crash);
  EXPECT_EQ(out.message,
            "function fns/crash.js crashed with an uncaught TypeError: Cannot read properties of "
            "null (reading 'boom') (at fns/crash.js:6:29) while handling the request");
  EXPECT_EQ(invoke().kind, Kind::Ok);

  // An error after the answer was sent: that request succeeded; the process is replaced.
  out = invoke(event_for("/late"));
  EXPECT_EQ(out.kind, Kind::Ok) << out.message;
  for (int i = 0; i < 50 && pool_->process_count() != 0; ++i) {
    io_.restart();
    io_.run_for(10ms);
  }
  out = invoke();
  EXPECT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(pool_->spawn_count(), 5u);
}

TEST_F(NodeLimits, HeapExhaustionIsOutOfMemory) {
  write("fns/hog.js",
        "const kept = [];\n"
        "exports.handler = async (event) => {\n"
        "  if (event.Records[0].cf.request.uri === '/hog') for (;;) kept.push(new "
        "Array(10000).fill({a: 1}));\n"
        "  return kept.length;\n"
        "};\n");
  auto s = spec("fns/hog.js");
  s.memory_mb = 32;
  s.workers = 1;
  make(s);
  auto out = invoke(event_for("/hog"), "req-1", 10000ms);
  EXPECT_EQ(out.kind, Kind::OutOfMemory) << out.message;
  EXPECT_EQ(out.status(), 503);
  EXPECT_EQ(out.message, "function fns/hog.js ran out of memory (limit 32 MB)");
  out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(out.result_json, "0");
}

TEST_F(NodeLimits, FullQueueIsThrottled) {
  write("fns/busy.js",
        "exports.handler = async () => { await new Promise((r) => setTimeout(r, 150)); return 1; "
        "};\n");
  auto s = spec("fns/busy.js");
  s.workers = 1;
  s.max_queue = 1;
  make(s);
  std::vector<std::optional<NodeOutcome>> outs(3);
  for (auto& o : outs)
    boost::asio::co_spawn(io_, pool_->invoke(kEvent, "req", 2000ms),
                          [&o](std::exception_ptr, NodeOutcome r) { o = std::move(r); });
  io_.restart();
  while (std::any_of(outs.begin(), outs.end(), [](auto& o) { return !o; })) io_.run_one();
  EXPECT_EQ(outs[0]->kind, Kind::Ok) << outs[0]->message;
  EXPECT_EQ(outs[1]->kind, Kind::Ok) << "one request may wait";
  EXPECT_EQ(outs[2]->kind, Kind::Throttled);
  EXPECT_EQ(outs[2]->message,
            "function fns/busy.js was throttled: all 1 workers are busy and 1 requests are queued");

  // A request that cannot get a process within its timeout is throttled too.
  for (auto& o : outs) o.reset();
  boost::asio::co_spawn(io_, pool_->invoke(kEvent, "a", 2000ms),
                        [&](std::exception_ptr, NodeOutcome r) { outs[0] = std::move(r); });
  boost::asio::co_spawn(io_, pool_->invoke(kEvent, "b", 50ms),
                        [&](std::exception_ptr, NodeOutcome r) { outs[1] = std::move(r); });
  io_.restart();
  while (!outs[0] || !outs[1]) io_.run_one();
  EXPECT_EQ(outs[0]->kind, Kind::Ok);
  EXPECT_EQ(outs[1]->kind, Kind::Throttled);
}

TEST_F(NodeLimits, ReloadAndWatchLoadTheNewCode) {
  write("fns/v.js", "exports.handler = async () => ({version: 1});\n");
  auto s = spec("fns/v.js");
  s.workers = 1;
  make(s);
  EXPECT_EQ(json::parse(invoke().result_json)["version"], 1);
  write("fns/v.js", "exports.handler = async () => ({version: 2});\n");
  EXPECT_EQ(json::parse(invoke().result_json)["version"], 1) << "no reload, no new code";
  pool_->reload();
  auto out = invoke();
  ASSERT_EQ(out.kind, Kind::Ok) << out.message;
  EXPECT_EQ(json::parse(out.result_json)["version"], 2);

  pool_->watch(true);
  write("fns/lib/v.js", "module.exports = 3;\n");  // anything under the folder counts
  write("fns/v.js", "exports.handler = async () => ({version: require('./lib/v')});\n");
  int seen = 0;
  for (int i = 0; i < 100 && seen != 3; ++i) {
    std::this_thread::sleep_for(20ms);
    out = invoke();
    if (out.ok()) seen = json::parse(out.result_json)["version"];
  }
  EXPECT_EQ(seen, 3) << out.message;

  // A broken save is reported on the requests until it is fixed.
  write("fns/v.js", "exports.handler = async () => ({version: 4};\n");
  for (int i = 0; i < 100 && out.kind != Kind::LoadError; ++i) {
    std::this_thread::sleep_for(20ms);
    out = invoke();
  }
  EXPECT_EQ(out.kind, Kind::LoadError);
  EXPECT_EQ(out.message, "fns/v.js: SyntaxError: Unexpected token ';' (line 1)");
  pool_->watch(false);
  for (int i = 0; i < 50 && pool_->process_count() > 0; ++i) {
    io_.restart();
    io_.run_for(10ms);
  }
  EXPECT_EQ(pool_->process_count(), 0u) << "old processes exit once idle";
}

TEST_F(NodeLimits, TwoEventLoopsInvokeAtOnce) {
  write("fns/pid.js",
        "let n = 0;\n"
        "exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 2)); "
        "return {pid: process.pid, n: ++n}; };\n");
  auto s = spec("fns/pid.js");
  s.workers = 2;
  make(s);
  constexpr int kPerThread = 40;
  std::vector<std::vector<NodeOutcome>> results(2);
  std::atomic<int> finished{0};
  std::atomic<bool> stopped{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      boost::asio::io_context io(1);
      int done = 0;
      // Two concurrent chains per loop, so both of its processes are used.
      for (int chain = 0; chain < 2; ++chain)
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
              for (int i = 0; i < kPerThread / 2; ++i)
                results[t].push_back(co_await pool_->invoke(kEvent, "req", 3000ms));
              ++done;
            },
            boost::asio::detached);
      while (done < 2) io.run_one();
      ++finished;
      // The loop outlives the pool's use of it: it sees its processes go after stop().
      while (!stopped) io.run_for(5ms);
      io.restart();
      io.run();
    });
  while (finished < 2) std::this_thread::sleep_for(5ms);
  pool_->stop();
  stopped = true;
  for (auto& th : threads) th.join();
  std::vector<std::set<int>> pids(2);
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(results[t].size(), size_t{kPerThread});
    for (auto& r : results[t]) {
      ASSERT_EQ(r.kind, Kind::Ok) << r.message;
      pids[t].insert(json::parse(r.result_json)["pid"].get<int>());
    }
    EXPECT_GE(pids[t].size(), 1u);
    EXPECT_LE(pids[t].size(), 2u);
  }
  for (int pid : pids[0])
    EXPECT_FALSE(pids[1].count(pid)) << "each event loop has its own processes";
  EXPECT_EQ(pool_->process_count(), 0u);
}

TEST_F(NodeLimits, StopKillsAndReapsEveryProcess) {
  write("fns/pid.js", "exports.handler = async () => process.pid;\n");
  auto s = spec("fns/pid.js");
  s.workers = 2;
  make(s);
  std::vector<std::optional<NodeOutcome>> outs(2);
  for (auto& o : outs)
    boost::asio::co_spawn(io_, pool_->invoke(kEvent, "req", 2000ms),
                          [&o](std::exception_ptr, NodeOutcome r) { o = std::move(r); });
  io_.restart();
  while (!outs[0] || !outs[1]) io_.run_one();
  std::vector<pid_t> pids;
  for (auto& o : outs) pids.push_back(std::stoi(o->result_json));
  EXPECT_EQ(pool_->process_count(), 2u);
  pool_->stop();
  EXPECT_EQ(pool_->process_count(), 0u);
  for (pid_t pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "process " << pid << " still exists";
  auto out = invoke();
  EXPECT_EQ(out.kind, Kind::Crash);
  EXPECT_EQ(out.message, "function fns/pid.js was not run: its pool is stopped");
  io_.restart();
  io_.run();  // nothing left pending on the loop
}

TEST_F(NodeLimits, WarmStartsTheLoopsProcessesWithoutWaitingForThem) {
  write("fns/w.js", "exports.handler = async () => process.pid;\n");
  auto s = spec("fns/w.js");
  s.workers = 3;
  make(s);
  auto t0 = std::chrono::steady_clock::now();
  run_on(io_, [&]() -> boost::asio::awaitable<int> {
    co_await pool_->warm();
    co_return 0;
  }());
  auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0);
  std::printf("[ node    ] warm(): starting two processes took %.0f us of the loop's time\n",
              took.count());
  EXPECT_EQ(pool_->process_count(), 3u);
  std::vector<std::optional<NodeOutcome>> outs(3);
  for (auto& o : outs)
    boost::asio::co_spawn(io_, pool_->invoke(kEvent, "req", 3000ms),
                          [&o](std::exception_ptr, NodeOutcome r) { o = std::move(r); });
  io_.restart();
  while (std::any_of(outs.begin(), outs.end(), [](auto& o) { return !o; })) io_.run_one();
  for (auto& o : outs) EXPECT_EQ(o->kind, Kind::Ok) << o->message;
  EXPECT_EQ(pool_->spawn_count(), 3u);
}

// The cost a no-op handler adds to a request: one invocation's round trip on a warm process.
TEST_F(NodeLimits, NoOpRoundTrip) {
  write("fns/noop.js", "exports.handler = async (event) => event.Records[0].cf.request;\n");
  auto s = spec("fns/noop.js");
  s.workers = 1;
  make(s);
  std::vector<double> micros;
  run_on(io_, [&]() -> boost::asio::awaitable<int> {
    for (int i = 0; i < 2200; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto out = co_await pool_->invoke(kEvent, "req", 1000ms);
      auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0);
      if (!out.ok()) ADD_FAILURE() << out.message;
      if (i >= 200) micros.push_back(us.count());  // after warm-up (JIT)
    }
    co_return 0;
  }());
  std::sort(micros.begin(), micros.end());
  double p50 = micros[micros.size() / 2], p99 = micros[micros.size() * 99 / 100];
  std::printf("[ node    ] no-op invocation round trip: p50 %.1f us, p99 %.1f us (%zu runs)\n", p50,
              p99, micros.size());
  RecordProperty("p50_us", std::to_string(p50));
  EXPECT_LT(p50, 2000.0);  // loose: the machine is shared; the number is the printed one
}

}  // namespace eg::functions::node_test
