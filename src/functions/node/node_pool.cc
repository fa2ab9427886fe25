#include "functions/node/node_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/log.h"
#include "functions/node/node_process.h"

namespace eg::functions {

namespace asio = boost::asio;
using node::FrameType;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kRetireGrace = std::chrono::seconds(2);      // then a retiring process is killed
constexpr auto kDiagDrain = milliseconds(200);              // after exit, for its last stderr bytes
constexpr auto kLoadFailureMemo = std::chrono::seconds(1);  // no respawn storm on a broken file
constexpr size_t kDiagTailBytes = 16 * 1024;
constexpr size_t kMaxPendingLogs = 1000;

std::atomic<uint64_t> g_pool_serial{0};

bool mentions_heap_exhaustion(std::string_view diag) {
  return diag.find("heap out of memory") != std::string_view::npos ||
         diag.find("Reached heap limit") != std::string_view::npos ||
         diag.find("FatalProcessOutOfMemory") != std::string_view::npos;
}

// The last non-empty line a process printed to stderr, for a death's message.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  size_t nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

void append_tail(std::string& tail, std::string_view bytes) {
  tail.append(bytes);
  if (tail.size() > kDiagTailBytes) tail.erase(0, tail.size() - kDiagTailBytes);
}

// Why a process died before it was ready (create() and every later start share it).
std::string load_death_message(std::string_view display, bool timed_out, milliseconds init_timeout,
                               int wait_status, bool heap_exhausted, std::string_view diag,
                               int memory_mb) {
  std::string head(display);
  if (timed_out)
    return head + ": timed out after " + std::to_string(init_timeout.count()) + " ms while loading";
  if (heap_exhausted)
    return head + ": ran out of memory while loading (limit " + std::to_string(memory_mb) + " MB)";
  std::string what = wait_status < 0
                         ? "the pool was stopped while loading"
                         : "worker " + node::describe_wait_status(wait_status) + " while loading";
  std::string line = last_line(diag);
  return head + ": " + what + (line.empty() ? "" : ": " + line);
}

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);  // a write to a dead worker's pipe must fail, not kill us
  });
}

}  // namespace

std::string_view to_string(NodeOutcome::Kind k) {
  switch (k) {
    case NodeOutcome::Kind::Ok:
      return "Ok";
    case NodeOutcome::Kind::Exception:
      return "Exception";
    case NodeOutcome::Kind::Timeout:
      return "Timeout";
    case NodeOutcome::Kind::Crash:
      return "Crash";
    case NodeOutcome::Kind::OutOfMemory:
      return "OutOfMemory";
    case NodeOutcome::Kind::Throttled:
      return "Throttled";
    case NodeOutcome::Kind::LoadError:
      return "LoadError";
    case NodeOutcome::Kind::ResultTooLarge:
      return "ResultTooLarge";
  }
  return "?";
}

int NodeOutcome::status() const {
  switch (kind) {
    case Kind::Ok:
      return 200;
    case Kind::Exception:
      return 500;
    case Kind::ResultTooLarge:
      return 502;
    default:
      return 503;
  }
}

class Shard;
class Worker;

// What every event loop's shard shares: the spec, the launch plan, the generation, and the
// registry of processes not yet reaped (so that stop() on any thread can kill and reap them,
// and nobody ever signals or waits for a pid that was reaped and may have been reused).
struct NodePool::Core : std::enable_shared_from_this<NodePool::Core> {
  NodeFunctionSpec spec;
  std::string display;  // spec.file as written
  std::string abs_file;
  std::string dir;
  node::LaunchPlan plan;
  size_t max_frame = 0;
  uint64_t serial = ++g_pool_serial;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> spawned{0};

  mutable std::mutex mutex;
  std::unordered_map<const void*, std::shared_ptr<Shard>> shards;  // by execution context
  std::unordered_set<pid_t> unreaped;
  std::optional<node::Process> spare;  // create()'s process, for the first shard
  std::vector<std::string> spare_logs;
  uint64_t spare_generation = 0;

  std::mutex watch_mutex;
  std::thread watcher;
  int watch_wake_fd = -1;

  bool spawn(node::Process& p, std::string& error) {
    std::lock_guard lock(mutex);
    if (stopped) {
      error = "the pool is stopped";
      return false;
    }
    if (!node::spawn(plan, p, error)) return false;
    unreaped.insert(p.pid);
    ++spawned;
    return true;
  }
  void kill_group(pid_t pid) {
    std::lock_guard lock(mutex);
    if (unreaped.count(pid)) ::kill(-pid, SIGKILL);
  }
  // `pid` has exited (its pidfd said so): kills what is left of its group and reaps it.
  // Returns its wait status, or -1 when stop() reaped it already.
  int reap(pid_t pid) {
    std::lock_guard lock(mutex);
    if (!unreaped.erase(pid)) return -1;
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }
  // Blocking: only for a process that has to go now (stop, a worker torn down with its loop).
  void kill_and_reap(pid_t pid) {
    std::lock_guard lock(mutex);
    if (!unreaped.erase(pid)) return;
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  std::shared_ptr<Shard> shard_for(const asio::any_io_executor& ex);
  void reload();
  void stop();
  void set_watch(bool on);
  void watch_loop(int inotify_fd, int wake_fd);
  bool probe(node::Process& p, std::vector<std::string>& logs, std::string& error);
};
using Core = NodePool::Core;

// One runner process as an event loop sees it. Only its shard's thread touches it.
class Worker : public std::enable_shared_from_this<Worker> {
 public:
  enum class State { Starting, Idle, Busy, Retiring, Dead };

  Worker(std::shared_ptr<Core> core, std::weak_ptr<Shard> shard, const asio::any_io_executor& ex,
         node::Process p, uint64_t generation)
      : core(std::move(core)),
        shard(std::move(shard)),
        pid(p.pid),
        generation(generation),
        request(ex, p.request_fd),
        response(ex, p.response_fd),
        diag(ex, p.diag_fd),
        pidfd(ex, p.pidfd),
        dead_signal(ex, steady_clock::time_point::max()),
        deadline(ex),
        drain(ex) {}

  ~Worker() {
    // Normally the process is reaped before the last reference goes; this is the case of an
    // event loop destroyed with the worker's waits still pending.
    if (!exited) core->kill_and_reap(pid);
  }

  void start_monitor() {
    read_diag();
    pidfd.async_wait(asio::posix::descriptor_base::wait_read,
                     [self = shared_from_this()](boost::system::error_code) { self->on_exit(); });
  }

  void kill() { core->kill_group(pid); }

  // Closing its input makes the runner exit; one that does not is killed after a grace period.
  void retire() {
    state = State::Retiring;
    boost::system::error_code ignored;
    request.close(ignored);
    deadline.expires_after(kRetireGrace);
    deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->state == State::Retiring) self->kill();
    });
  }

  // The next frame from the runner; false once its pipe is closed (the process is gone or going).
  asio::awaitable<bool> read_frame(FrameType& type, std::string_view& payload) {
    for (;;) {
      if (frames.next(type, payload, core->max_frame)) co_return true;
      if (frames.oversized()) co_return false;
      char* area = frames.write_area();
      auto [ec, n] =
          co_await response.async_read_some(asio::buffer(area, frames.write_capacity()), kUseTuple);
      if (ec) co_return false;
      frames.commit(n);
    }
  }

  asio::awaitable<void> wait_dead() {
    if (state != State::Dead) co_await dead_signal.async_wait(kUseTuple);
  }

  bool heap_exhausted() const { return heap_exhaustion_seen; }

  std::shared_ptr<Core> core;
  std::weak_ptr<Shard> shard;
  pid_t pid;
  uint64_t generation;
  State state = State::Starting;
  asio::posix::stream_descriptor request, response, diag, pidfd;
  asio::steady_timer dead_signal;  // cancelled once the process is reaped and its output read
  asio::steady_timer deadline;     // load timeout, invocation timeout, retire grace
  asio::steady_timer drain;
  node::FrameBuffer frames;
  std::string diag_tail;
  bool heap_exhaustion_seen = false;
  bool exited = false;
  bool diag_closed = false;
  int wait_status = 0;      // -1: reaped by stop()
  uint64_t invocation = 0;  // which invocation a deadline belongs to
  bool timed_out = false;
  std::string uncaught;  // the runner's report of an uncaught error, before it exits
  std::vector<std::string> pending_logs;  // printed while loading; go with the first invocation

 private:
  void read_diag() {
    diag.async_read_some(asio::buffer(diag_buf),
                         [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                           if (n > 0) {
                             append_tail(self->diag_tail, {self->diag_buf.data(), n});
                             if (mentions_heap_exhaustion(self->diag_tail))
                               self->heap_exhaustion_seen = true;
                           }
                           if (ec) {
                             self->diag_closed = true;
                             self->drain.cancel();
                             self->maybe_dead();
                             return;
                           }
                           self->read_diag();
                         });
  }

  void on_exit() {
    wait_status = core->reap(pid);
    exited = true;
    if (!diag_closed) {
      // A child that left the process group could hold stderr open; do not wait for it long.
      drain.expires_after(kDiagDrain);
      drain.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        boost::system::error_code ignored;
        if (!ec && !self->diag_closed) self->diag.close(ignored);
      });
    }
    maybe_dead();
  }

  void maybe_dead();

  std::array<char, 4096> diag_buf{};
};

// A request waiting for a free process; lives in the invoking coroutine's frame.
struct Waiter {
  Waiter(Shard& shard, const asio::any_io_executor& ex) : shard(shard), signal(ex) {}
  ~Waiter();
  Shard& shard;
  asio::steady_timer signal;  // cancelled to wake the request
  std::shared_ptr<Worker> worker;
  std::optional<std::string> load_error;
};

// The processes of one function on one event loop. Everything here runs on that loop's thread.
class Shard : public std::enable_shared_from_this<Shard> {
 public:
  Shard(std::shared_ptr<Core> core, asio::any_io_executor ex)
      : core_(std::move(core)), ex_(std::move(ex)) {}

  const asio::any_io_executor& executor() const { return ex_; }

  asio::awaitable<NodeOutcome> invoke(std::string event, std::string_view request_id,
                                      milliseconds timeout) {
    auto self = shared_from_this();
    NodeOutcome out;
    std::shared_ptr<Worker> worker = co_await acquire(timeout, out);
    if (worker) co_await run(std::move(worker), event, request_id, timeout, out);
    co_return out;
  }

  void warm() {
    std::string error;
    while (!core_->stopped && live_current() < static_cast<size_t>(core_->spec.workers))
      if (!start_worker(error)) {
        log::warn("function {}: {}", core_->display, error);
        return;
      }
  }

  // create()'s process, already loaded.
  void adopt(node::Process p, uint64_t generation, std::vector<std::string> logs) {
    auto w = std::make_shared<Worker>(core_, weak_from_this(), ex_, p, generation);
    w->pending_logs = std::move(logs);
    workers_.push_back(w);
    w->start_monitor();
    offer(std::move(w));
  }

  // After a reload: old idle processes go; one fresh process starts right away, so the new
  // code's load errors show at once and the next request finds it warm.
  void sweep(bool prewarm) {
    uint64_t gen = core_->generation.load();
    seen_generation_ = gen;
    bool retired = false;
    for (auto& w : std::vector(workers_))
      if (w->generation != gen && w->state == Worker::State::Idle) {
        w->retire();
        retired = true;
      }
    if (prewarm && retired && live_current() == 0 && !core_->stopped) {
      std::string error;
      if (!start_worker(error)) log::warn("function {}: {}", core_->display, error);
    }
  }

  void forget(Waiter* w) {
    auto it = std::find(waiters_.begin(), waiters_.end(), w);
    if (it != waiters_.end()) waiters_.erase(it);
  }

  void on_worker_dead(const std::shared_ptr<Worker>& w, Worker::State was) {
    std::erase(workers_, w);
    if (core_->stopped) {
      wake_all();
      return;
    }
    if (was == Worker::State::Idle)  // deaths while loading are logged as load errors
      log::warn("function {}: worker {} {} while idle{}", core_->display, w->pid,
                w->wait_status < 0 ? "was stopped" : node::describe_wait_status(w->wait_status),
                last_line(w->diag_tail).empty() ? "" : ": " + last_line(w->diag_tail));
    if (!waiters_.empty() && live_current() < static_cast<size_t>(core_->spec.workers)) {
      std::string error;
      if (!start_worker(error)) fail_waiters("function " + core_->display + ": " + error);
    }
  }

 private:
  std::string prefix() const { return "function " + core_->display + " "; }

  size_t live_current() const {
    uint64_t gen = core_->generation.load();
    size_t n = 0;
    for (const auto& w : workers_)
      if (w->generation == gen && w->state != Worker::State::Retiring &&
          w->state != Worker::State::Dead)
        ++n;
    return n;
  }

  bool start_worker(std::string& error) {
    node::Process p;
    if (!core_->spawn(p, error)) return false;
    auto w = std::make_shared<Worker>(core_, weak_from_this(), ex_, p, core_->generation.load());
    workers_.push_back(w);
    w->start_monitor();
    asio::co_spawn(ex_, starting(std::move(w)), asio::detached);
    return true;
  }

  asio::awaitable<void> starting(std::shared_ptr<Worker> w) {
    auto self = shared_from_this();
    w->deadline.expires_after(core_->spec.init_timeout);
    w->deadline.async_wait([w](boost::system::error_code ec) {
      if (!ec && w->state == Worker::State::Starting) {
        w->timed_out = true;
        w->kill();
      }
    });
    std::string load_error;
    bool ready = false;
    for (;;) {
      FrameType type;
      std::string_view payload;
      if (!co_await w->read_frame(type, payload)) break;
      if (type == FrameType::Log) {
        if (w->pending_logs.size() < kMaxPendingLogs) w->pending_logs.emplace_back(payload);
      } else if (type == FrameType::Ready) {
        ready = true;
        break;
      } else if (type == FrameType::LoadError) {
        load_error = payload;
        break;
      }
    }
    w->deadline.cancel();
    if (ready && w->state == Worker::State::Starting) {
      offer(std::move(w));
      co_return;
    }
    w->kill();
    co_await w->wait_dead();
    if (load_error.empty())
      load_error =
          load_death_message(core_->display, w->timed_out, core_->spec.init_timeout, w->wait_status,
                             w->heap_exhausted(), w->diag_tail, core_->spec.memory_mb);
    if (core_->stopped) co_return;
    log::warn("{}", load_error);
    if (w->generation != core_->generation.load()) co_return;
    failed_generation_ = w->generation;
    failed_at_ = steady_clock::now();
    load_error_ = load_error;
    for (Waiter* waiter : std::exchange(waiters_, {})) {
      waiter->load_error = load_error;
      waiter->signal.cancel();
    }
  }

  // A process is free: to the first waiter, else idle (or retired, if its code is old).
  void offer(std::shared_ptr<Worker> w) {
    if (w->state == Worker::State::Dead) return;
    if (w->generation != core_->generation.load() || core_->stopped) {
      w->retire();
      return;
    }
    if (!waiters_.empty()) {
      Waiter* waiter = waiters_.front();
      waiters_.pop_front();
      w->state = Worker::State::Busy;
      waiter->worker = std::move(w);
      waiter->signal.cancel();
      return;
    }
    w->state = Worker::State::Idle;
  }

  void wake_all() {
    for (Waiter* waiter : std::exchange(waiters_, {})) waiter->signal.cancel();
  }

  void fail_waiters(const std::string& message) {
    for (Waiter* waiter : std::exchange(waiters_, {})) {
      waiter->load_error = message;
      waiter->signal.cancel();
    }
  }

  asio::awaitable<std::shared_ptr<Worker>> acquire(milliseconds timeout, NodeOutcome& out) {
    const auto give_up_at = steady_clock::now() + timeout;
    for (;;) {
      if (core_->stopped) {
        out.kind = NodeOutcome::Kind::Crash;
        out.message = prefix() + "was not run: its pool is stopped";
        co_return nullptr;
      }
      uint64_t gen = core_->generation.load();
      if (gen != seen_generation_) sweep(false);
      for (auto& w : workers_)
        if (w->state == Worker::State::Idle && w->generation == gen) {
          w->state = Worker::State::Busy;
          co_return w;
        }
      if (failed_generation_ == gen && steady_clock::now() - failed_at_ < kLoadFailureMemo) {
        out.kind = NodeOutcome::Kind::LoadError;
        out.message = load_error_;
        co_return nullptr;
      }
      if (live_current() < static_cast<size_t>(core_->spec.workers)) {
        std::string error;
        if (!start_worker(error)) {
          out.kind = NodeOutcome::Kind::Crash;
          out.message = prefix() + "could not be started: " + error;
          co_return nullptr;
        }
      }
      if (waiters_.size() >= core_->spec.max_queue) {
        out.kind = NodeOutcome::Kind::Throttled;
        out.message = prefix() + "was throttled: all " + std::to_string(core_->spec.workers) +
                      " workers are busy and " + std::to_string(waiters_.size()) +
                      " requests are queued";
        co_return nullptr;
      }
      Waiter waiter(*this, ex_);
      waiter.signal.expires_at(give_up_at);
      waiters_.push_back(&waiter);
      co_await waiter.signal.async_wait(kUseTuple);
      forget(&waiter);
      if (waiter.worker && waiter.worker->state != Worker::State::Dead) co_return waiter.worker;
      if (waiter.load_error) {
        out.kind = NodeOutcome::Kind::LoadError;
        out.message = *waiter.load_error;
        co_return nullptr;
      }
      if (steady_clock::now() >= give_up_at) {
        out.kind = NodeOutcome::Kind::Throttled;
        out.message = prefix() + "was throttled: no worker became free within " +
                      std::to_string(timeout.count()) + " ms";
        co_return nullptr;
      }
      // Woken without a process (one died, or the pool stopped): look again.
    }
  }

  asio::awaitable<void> run(std::shared_ptr<Worker> w, const std::string& event,
                            std::string_view request_id, milliseconds timeout, NodeOutcome& out) {
    w->state = Worker::State::Busy;
    w->timed_out = false;
    const uint64_t invocation = ++w->invocation;
    out.logs = std::move(w->pending_logs);
    w->pending_logs.clear();

    request_id = request_id.substr(0, 255);
    const auto timeout_ms = static_cast<uint32_t>(
        std::clamp<int64_t>(timeout.count(), 1, std::numeric_limits<uint32_t>::max()));
    std::array<char, 9> header;
    const uint32_t length = static_cast<uint32_t>(4 + 1 + request_id.size() + event.size());
    std::memcpy(header.data(), &length, 4);
    std::memcpy(header.data() + 4, &timeout_ms, 4);
    header[8] = static_cast<char>(request_id.size());
    const std::array<asio::const_buffer, 3> frame{asio::buffer(header), asio::buffer(request_id),
                                                  asio::buffer(event)};

    w->deadline.expires_after(timeout);
    w->deadline.async_wait([w, invocation](boost::system::error_code ec) {
      if (!ec && w->state == Worker::State::Busy && w->invocation == invocation) {
        w->timed_out = true;
        w->kill();
      }
    });
    const auto started = steady_clock::now();
    auto [write_error, written] = co_await asio::async_write(w->request, frame, kUseTuple);
    bool answered = false;
    while (!write_error && !answered) {
      FrameType type;
      std::string_view payload;
      if (!co_await w->read_frame(type, payload)) break;
      switch (type) {
        case FrameType::Log:
          out.logs.emplace_back(payload);
          break;
        case FrameType::Result:
          out.kind = NodeOutcome::Kind::Ok;
          out.result_json = payload;
          answered = true;
          break;
        case FrameType::Undefined:
          out.kind = NodeOutcome::Kind::Ok;
          out.result_json = "undefined";
          answered = true;
          break;
        case FrameType::Exception:
          out.kind = NodeOutcome::Kind::Exception;
          out.message = prefix() + std::string(payload);
          answered = true;
          break;
        case FrameType::TooLarge:
          out.kind = NodeOutcome::Kind::ResultTooLarge;
          out.message = prefix() + "returned a result of " + std::string(payload) +
                        " bytes, over the limit of " +
                        std::to_string(core_->spec.max_result_bytes) + " bytes";
          answered = true;
          break;
        case FrameType::Uncaught:
          w->uncaught = payload;
          break;
        default:
          break;
      }
    }
    w->deadline.cancel();
    out.duration_ms =
        std::chrono::duration<double, std::milli>(steady_clock::now() - started).count();
    if (answered) {
      offer(std::move(w));
      co_return;
    }
    // No answer: the process is gone or going; say why once it is reaped.
    w->kill();
    co_await w->wait_dead();
    if (w->timed_out) {
      out.kind = NodeOutcome::Kind::Timeout;
      out.message = prefix() + "timed out after " + std::to_string(timeout.count()) + " ms";
    } else if (w->heap_exhausted()) {
      out.kind = NodeOutcome::Kind::OutOfMemory;
      out.message =
          prefix() + "ran out of memory (limit " + std::to_string(core_->spec.memory_mb) + " MB)";
    } else if (!w->uncaught.empty()) {
      out.kind = NodeOutcome::Kind::Crash;
      out.message = prefix() + w->uncaught + " while handling the request";
    } else if (w->wait_status < 0) {
      out.kind = NodeOutcome::Kind::Crash;
      out.message = prefix() + "was stopped (its pool was stopped) while handling the request";
    } else {
      out.kind = NodeOutcome::Kind::Crash;
      out.message = prefix() + "worker " + node::describe_wait_status(w->wait_status) +
                    " while handling the request";
      if (std::string line = last_line(w->diag_tail); !line.empty()) out.message += ": " + line;
    }
    if (out.kind != NodeOutcome::Kind::Timeout) log::warn("{}", out.message);
  }

  std::shared_ptr<Core> core_;
  asio::any_io_executor ex_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::deque<Waiter*> waiters_;
  uint64_t seen_generation_ = 0;
  uint64_t failed_generation_ = UINT64_MAX;
  steady_clock::time_point failed_at_{};
  std::string load_error_;
};

Waiter::~Waiter() { shard.forget(this); }

void Worker::maybe_dead() {
  if (!exited || !diag_closed || state == State::Dead) return;
  State was = state;
  state = State::Dead;
  boost::system::error_code ignored;
  request.close(ignored);
  response.close(ignored);  // a reader still waiting (a grandchild holds the pipe) stops now
  pidfd.close(ignored);
  deadline.cancel();
  dead_signal.cancel();
  if (auto s = shard.lock()) s->on_worker_dead(shared_from_this(), was);
}

// ---- Core ---------------------------------------------------------------------------------

namespace {
struct CachedShard {
  uint64_t pool_serial = 0;
  const void* context = nullptr;
  std::weak_ptr<Shard> shard;
};
thread_local std::array<CachedShard, 8> t_shard_cache;
thread_local unsigned t_shard_cache_next = 0;
}  // namespace

std::shared_ptr<Shard> Core::shard_for(const asio::any_io_executor& ex) {
  const void* context = &asio::query(ex, asio::execution::context);
  for (auto& c : t_shard_cache)
    if (c.pool_serial == serial && c.context == context)
      if (auto s = c.shard.lock()) return s;
  std::shared_ptr<Shard> shard;
  std::optional<node::Process> spare_process;
  std::vector<std::string> logs;
  {
    std::lock_guard lock(mutex);
    if (stopped) return nullptr;
    auto& slot = shards[context];
    if (!slot) {
      slot = std::make_shared<Shard>(shared_from_this(), ex);
      if (spare && spare_generation == generation.load()) {
        spare_process = std::exchange(spare, std::nullopt);
        logs = std::move(spare_logs);
      }
    }
    shard = slot;
  }
  if (spare_process) shard->adopt(*spare_process, spare_generation, std::move(logs));
  auto& c = t_shard_cache[t_shard_cache_next++ % t_shard_cache.size()];
  c = {serial, context, shard};
  return shard;
}

void Core::reload() {
  generation.fetch_add(1);
  std::vector<std::shared_ptr<Shard>> to_sweep;
  std::optional<node::Process> old_spare;
  {
    std::lock_guard lock(mutex);
    if (stopped) return;
    for (auto& [context, shard] : shards) to_sweep.push_back(shard);
    old_spare = std::exchange(spare, std::nullopt);
  }
  if (old_spare) {
    kill_and_reap(old_spare->pid);
    old_spare->close_fds();
  }
  for (auto& shard : to_sweep) asio::post(shard->executor(), [shard] { shard->sweep(true); });
}

void Core::stop() {
  set_watch(false);
  std::unordered_map<const void*, std::shared_ptr<Shard>> dropped;
  {
    std::lock_guard lock(mutex);
    if (stopped.exchange(true)) return;
    for (pid_t pid : unreaped) ::kill(-pid, SIGKILL);
    for (pid_t pid : unreaped)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    unreaped.clear();
    if (spare) spare->close_fds();
    spare.reset();
    dropped.swap(shards);
  }
  // Each shard's loop notices its processes' exits, fails what waits, and lets go of them.
}

namespace {
constexpr uint32_t kWatchMask =
    IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB;

// Watches `dir` and its subfolders (not .git; at most 4096 folders).
void watch_tree(int in, const std::string& dir) {
  constexpr size_t kMaxDirs = 4096;
  size_t dirs = 1;
  ::inotify_add_watch(in, dir.c_str(), kWatchMask);
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end && dirs < kMaxDirs; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    ::inotify_add_watch(in, it->path().c_str(), kWatchMask);
    ++dirs;
  }
}
}  // namespace

// Development mode: inotify on the handler's folder and its subfolders (node_modules too),
// changes debounced for 100 ms, then reload(). The watches are in place when watch(true)
// returns, so a change right after it is seen.
void Core::set_watch(bool on) {
  std::lock_guard lock(watch_mutex);
  if (on == watcher.joinable()) return;
  if (on) {
    int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    int wake = in < 0 ? -1 : ::eventfd(0, EFD_CLOEXEC);
    if (in < 0 || wake < 0) {
      log::warn("function {}: cannot watch for changes: {}", display, std::strerror(errno));
      if (in >= 0) ::close(in);
      return;
    }
    watch_tree(in, dir);
    watch_wake_fd = wake;
    watcher = std::thread([this, in, wake] { watch_loop(in, wake); });
  } else {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(watch_wake_fd, &one, sizeof one);
    watcher.join();
    ::close(watch_wake_fd);
    watch_wake_fd = -1;
  }
}

void Core::watch_loop(int in, int wake_fd) {
  alignas(inotify_event) char buf[8192];
  bool changed = false;
  for (;;) {
    pollfd fds[2] = {{in, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int ready = ::poll(fds, 2, changed ? 100 : -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (fds[1].revents & POLLIN)) break;
    if (ready == 0) {  // quiet for 100 ms after a change
      changed = false;
      log::info("function {}: changed on disk, reloading", display);
      reload();
      continue;
    }
    bool new_dir = false;
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) new_dir = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
      changed = true;
    }
    if (new_dir) watch_tree(in, dir);
  }
  ::close(in);
}

// create()'s process, read synchronously: it must say Ready (or why not) within init_timeout.
bool Core::probe(node::Process& p, std::vector<std::string>& logs, std::string& error) {
  node::FrameBuffer frames;
  std::string diag;
  const auto give_up_at = steady_clock::now() + spec.init_timeout;
  int diag_fd = p.diag_fd;
  bool timed_out = false;
  for (;;) {
    FrameType type;
    std::string_view payload;
    while (frames.next(type, payload, max_frame)) {
      if (type == FrameType::Ready) return true;
      if (type == FrameType::Log && logs.size() < kMaxPendingLogs) logs.emplace_back(payload);
      if (type == FrameType::LoadError) {
        error = payload;
        kill_and_reap(p.pid);
        return false;
      }
    }
    auto left = std::chrono::duration_cast<milliseconds>(give_up_at - steady_clock::now());
    if (left.count() <= 0 || frames.oversized()) {
      timed_out = left.count() <= 0;
      break;
    }
    pollfd fds[2] = {{p.response_fd, POLLIN, 0}, {diag_fd, POLLIN, 0}};
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char chunk[4096];
      ssize_t n = ::read(diag_fd, chunk, sizeof chunk);
      if (n > 0)
        append_tail(diag, {chunk, static_cast<size_t>(n)});
      else
        diag_fd = -1;  // poll ignores negative fds
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char* area = frames.write_area();
      ssize_t n = ::read(p.response_fd, area, frames.write_capacity());
      if (n > 0)
        frames.commit(static_cast<size_t>(n));
      else if (n == 0)
        break;  // it died while loading
    }
  }
  // Dead or stuck: collect its status and last words.
  {
    std::lock_guard lock(mutex);
    ::kill(-p.pid, SIGKILL);
  }
  int status = 0;
  {
    std::lock_guard lock(mutex);
    if (unreaped.erase(p.pid))
      while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
      }
  }
  for (int spins = 0; diag_fd >= 0 && spins < 50; ++spins) {
    pollfd fd{diag_fd, POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) break;
    char chunk[4096];
    ssize_t n = ::read(diag_fd, chunk, sizeof chunk);
    if (n <= 0) break;
    append_tail(diag, {chunk, static_cast<size_t>(n)});
  }
  error = load_death_message(display, timed_out, spec.init_timeout, status,
                             mentions_heap_exhaustion(diag), diag, spec.memory_mb);
  return false;
}

// ---- NodePool -----------------------------------------------------------------------------

NodePool::NodePool(std::shared_ptr<Core> core) : core_(std::move(core)) {}
NodePool::~NodePool() { stop(); }

std::unique_ptr<NodePool> NodePool::create(NodeFunctionSpec spec, std::string& error) {
  ignore_sigpipe_once();
  auto core = std::make_shared<Core>();
  core->display = spec.file;
  if (spec.file.empty()) {
    error = "a Lambda@Edge function needs a file";
    return nullptr;
  }
  if (spec.handler.empty() || spec.handler.find('.') != std::string::npos) {
    error = spec.file + ": handler '" + spec.handler + "' is not an export name";
    return nullptr;
  }
  if (spec.workers < 1 || spec.memory_mb < 16) {
    error = spec.file + ": needs at least 1 worker and 16 MB of memory";
    return nullptr;
  }
  fs::path file(spec.file);
  if (file.is_relative() && !spec.base_dir.empty()) file = fs::path(spec.base_dir) / file;
  std::error_code ec;
  file = fs::absolute(file, ec).lexically_normal();
  if (ec || !fs::is_regular_file(file, ec)) {
    error = spec.file + ": " + (fs::exists(file, ec) ? "not a regular file" : "no such file");
    return nullptr;
  }
  core->abs_file = file.string();
  core->dir = file.parent_path().string();
  if (spec.name.empty()) spec.name = file.stem().string();

  // Paths in messages are shown as the config wrote them: strip what `file` was relative to.
  std::string display_root;
  if (fs::path(spec.file).is_relative()) {
    std::string rel = fs::path(spec.file).lexically_normal().string();
    if (core->abs_file.size() > rel.size() + 1 && core->abs_file.ends_with("/" + rel))
      display_root = core->abs_file.substr(0, core->abs_file.size() - rel.size() - 1);
  }

  core->max_frame = std::max<size_t>(spec.max_result_bytes, 2 << 20) + 64 * 1024;
  auto& plan = core->plan;
  plan.node = spec.node;
  plan.argv = {spec.node,
               "--max-old-space-size=" + std::to_string(spec.memory_mb),
               "-e",
               std::string(node::kRunnerScript),
               "--",
               core->abs_file,
               spec.handler,
               spec.name,
               std::to_string(spec.memory_mb),
               std::to_string(spec.max_result_bytes),
               display_root};
  // Lambda's reserved variables only: the gateway's own environment (AWS credentials, secrets)
  // is not the handler's business.
  plan.env = {"PATH=/usr/local/bin:/usr/bin:/bin",
              "LANG=C.UTF-8",
              "TZ=:UTC",
              "AWS_REGION=us-east-1",
              "AWS_DEFAULT_REGION=us-east-1",
              "AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x",
              "AWS_LAMBDA_FUNCTION_NAME=" + spec.name,
              "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
              "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(spec.memory_mb),
              "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/us-east-1." + spec.name,
              "LAMBDA_TASK_ROOT=" + core->dir};
  if (const char* tmp = std::getenv("TMPDIR")) plan.env.push_back(std::string("TMPDIR=") + tmp);
  plan.cwd = core->dir;
  core->spec = std::move(spec);

  node::Process p;
  if (!core->spawn(p, error)) {
    error = core->display + ": " + error;
    return nullptr;
  }
  std::vector<std::string> logs;
  if (!core->probe(p, logs, error)) {
    p.close_fds();
    return nullptr;
  }
  core->spare = p;
  core->spare_logs = std::move(logs);
  return std::unique_ptr<NodePool>(new NodePool(std::move(core)));
}

asio::awaitable<NodeOutcome> NodePool::invoke(std::string event_json, std::string_view request_id,
                                              milliseconds timeout) {
  auto shard = core_->shard_for(co_await asio::this_coro::executor);
  if (!shard) {
    NodeOutcome out;
    out.kind = NodeOutcome::Kind::Crash;
    out.message = "function " + core_->display + " was not run: its pool is stopped";
    co_return out;
  }
  co_return co_await shard->invoke(std::move(event_json), request_id, timeout);
}

asio::awaitable<void> NodePool::warm() {
  if (auto shard = core_->shard_for(co_await asio::this_coro::executor)) shard->warm();
}

void NodePool::reload() { core_->reload(); }
void NodePool::watch(bool on) { core_->set_watch(on); }
void NodePool::stop() { core_->stop(); }
const NodeFunctionSpec& NodePool::spec() const { return core_->spec; }

size_t NodePool::process_count() const {
  std::lock_guard lock(core_->mutex);
  return core_->unreaped.size();
}

uint64_t NodePool::spawn_count() const { return core_->spawned.load(); }

NodeOutcome run_once(const NodeFunctionSpec& spec, std::string event_json,
                     std::string_view request_id, milliseconds timeout) {
  NodeFunctionSpec one = spec;
  one.workers = 1;
  one.max_queue = 1;
  NodeOutcome out;
  std::string error;
  auto pool = NodePool::create(std::move(one), error);
  if (!pool) {
    out.kind = NodeOutcome::Kind::LoadError;
    out.message = error;
    return out;
  }
  asio::io_context io(1);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out = co_await pool->invoke(std::move(event_json), request_id, timeout);
        pool->stop();
      },
      asio::detached);
  io.run();
  return out;
}

}  // namespace eg::functions
