#include "functions/node/node_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace eg::functions::node {

void Process::close_fds() {
  for (int* fd : {&pidfd, &request_fd, &response_fd, &diag_fd}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

namespace {

// Closes what it holds unless released: spawn() has many early returns.
struct FdSet {
  std::vector<int> fds;
  ~FdSet() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
  int release(int fd) {
    for (int& f : fds)
      if (f == fd) f = -1;
    return fd;
  }
};

// The runner's ends are moved to fd >= 10 first: dup2 onto 0..4 then never meets a source that
// is itself one of 0..4 (a dup2(3, 3) would keep close-on-exec, another could be clobbered).
int high_fd(FdSet& set, int fd) {
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  return high < 0 ? -1 : set.add(high);
}

}  // namespace

bool spawn(const LaunchPlan& plan, Process& out, std::string& error) {
  FdSet fds;
  int request[2], response[2], diag[2];
  if (::pipe2(request, O_CLOEXEC) != 0) return error = std::strerror(errno), false;
  fds.add(request[0]), fds.add(request[1]);
  if (::pipe2(response, O_CLOEXEC) != 0) return error = std::strerror(errno), false;
  fds.add(response[0]), fds.add(response[1]);
  if (::pipe2(diag, O_CLOEXEC) != 0) return error = std::strerror(errno), false;
  fds.add(diag[0]), fds.add(diag[1]);
  int child_in = high_fd(fds, request[0]);
  int child_out = high_fd(fds, response[1]);
  int child_diag = high_fd(fds, diag[1]);
  if (child_in < 0 || child_out < 0 || child_diag < 0) return error = std::strerror(errno), false;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, child_diag, 1);
  posix_spawn_file_actions_adddup2(&actions, child_diag, 2);
  posix_spawn_file_actions_adddup2(&actions, child_in, 3);
  posix_spawn_file_actions_adddup2(&actions, child_out, 4);
  // Whatever else the gateway has open (sockets, files opened without O_CLOEXEC by a library)
  // stays out of the handler's reach.
  posix_spawn_file_actions_addclosefrom_np(&actions, 5);
  if (!plan.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, plan.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group: a kill takes its children
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv, envp;
  for (const auto& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  bool search = plan.node.find('/') == std::string::npos;
  int rc = search
               ? ::posix_spawnp(&pid, plan.node.c_str(), &actions, &attr, argv.data(), envp.data())
               : ::posix_spawn(&pid, plan.node.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error = "cannot start " + plan.node + ": " + std::strerror(rc);
    return false;
  }
  // The pid cannot be reused before it is reaped, so this pidfd is this process's.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    error = std::string("pidfd_open: ") + std::strerror(errno);
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  out.pid = pid;
  out.pidfd = pidfd;
  out.request_fd = fds.release(request[1]);
  out.response_fd = fds.release(response[0]);
  out.diag_fd = fds.release(diag[0]);
  return true;
}

char* FrameBuffer::write_area(size_t min) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ < min) {
    if (begin_ > 0) {  // slide the unread bytes to the front
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < min) buf_.resize(end_ + std::max(min, buf_.size()));
  }
  return buf_.data() + end_;
}

bool FrameBuffer::next(FrameType& type, std::string_view& payload, size_t max_frame) {
  size_t have = end_ - begin_;
  if (have < 5) return false;
  uint32_t len;
  std::memcpy(&len, buf_.data() + begin_, 4);  // little-endian on every platform we build for
  if (len == 0 || len > max_frame) {
    oversized_ = true;
    return false;
  }
  if (have < 4 + size_t{len}) {
    write_area(4 + size_t{len} - have);  // make room for the rest in one read
    return false;
  }
  type = static_cast<FrameType>(buf_[begin_ + 4]);
  payload = std::string_view(buf_.data() + begin_ + 5, len - 1);
  begin_ += 4 + size_t{len};
  return true;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    const char* text = strsignal(sig);
    return std::string("was killed by signal ") +
           (abbrev ? "SIG" + std::string(abbrev) : std::to_string(sig)) +
           (text ? std::string(" (") + text + ")" : "");
  }
  return "stopped";
}

}  // namespace eg::functions::node
