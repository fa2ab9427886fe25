#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace eg::log {
namespace {
std::atomic<Level> g_level{Level::Info};
constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_level(Level l) { g_level.store(l); }
bool enabled(Level l) { return l >= g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view msg) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = fmt::format("{} edgeguard {}: {}\n", ts, kNames[int(l)], msg);
  // One write(2) per line so lines from threads do not interleave.
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

}  // namespace eg::log
