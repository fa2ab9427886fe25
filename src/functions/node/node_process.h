// Private to the Node runtime: starting a runner process and the frames it speaks.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eg::functions::node {

// node/runner.js, compiled in (generated node_runner_script.cc).
extern const std::string_view kRunnerScript;

// A started runner and the gateway's ends of its pipes (all close-on-exec), before an event
// loop owns them.
struct Process {
  pid_t pid = -1;
  int pidfd = -1;        // readable once the process exits
  int request_fd = -1;   // write: invocations (the runner's fd 3)
  int response_fd = -1;  // read: frames (the runner's fd 4)
  int diag_fd = -1;      // read: the runner's stdout and stderr
  void close_fds();
};

// What every process of one function is started with.
struct LaunchPlan {
  std::string node;  // binary; PATH is searched unless it contains '/'
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd;
};

bool spawn(const LaunchPlan& plan, Process& out, std::string& error);

// Frame types the runner sends (runner.js has the format).
enum class FrameType : char {
  Ready = 'R',
  LoadError = 'X',
  Log = 'L',
  Result = 'O',
  Undefined = 'U',
  Exception = 'E',
  Uncaught = 'C',
  TooLarge = 'T',
};

// Incremental frame reader over a byte buffer the caller fills.
class FrameBuffer {
 public:
  // Space to read into (at least `min` bytes).
  char* write_area(size_t min = 16384);
  size_t write_capacity() const { return buf_.size() - end_; }
  void commit(size_t n) { end_ += n; }
  // The next complete frame, if any: its type and payload (valid until the next call).
  bool next(FrameType& type, std::string_view& payload, size_t max_frame);
  bool oversized() const { return oversized_; }

 private:
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool oversized_ = false;
};

// "exited with code 1", "was killed by signal SIGSEGV (Segmentation fault)".
std::string describe_wait_status(int status);

}  // namespace eg::functions::node
