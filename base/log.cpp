#include "base/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace odp::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<int> g_fd{2};
thread_local char t_name[16] = "main";
const char* const kNames[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
}  // namespace

bool parse_level(std::string_view name, Level& out) {
  static constexpr std::string_view names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; ++i) {
    if (name == names[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void set_level(Level lvl) {
  g_level.store(static_cast<int>(lvl), std::memory_order_relaxed);
}
Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

bool set_file(const char* path) {
  // Writers use one descriptor number for the life of the process; switching files dup2()s the
  // new file onto it, so a writer on another thread never writes to a closed or reused number.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  int target = 2;
  if (path != nullptr && *path != '\0') {
    target = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (target < 0) return false;
  }
  int stable = g_fd.load();
  if (stable == 2) {
    if (target == 2) return true;
    stable = ::fcntl(target, F_DUPFD_CLOEXEC, 3);
    ::close(target);
    if (stable < 0) return false;
    g_fd.store(stable);
    return true;
  }
  ::dup3(target, stable, O_CLOEXEC);
  if (target != 2) ::close(target);
  return true;
}

void set_thread_name(const char* name) {
  std::snprintf(t_name, sizeof t_name, "%s", name);
}

void write(Level lvl, const char* fmt, ...) {
  char line[2048];
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  tm tmv{};
  ::localtime_r(&tv.tv_sec, &tmv);
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s [%s] ", tmv.tm_year + 1900,
                        tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min, tmv.tm_sec,
                        static_cast<long>(tv.tv_usec / 1000), kNames[static_cast<int>(lvl)], t_name);
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  size_t len = static_cast<size_t>(n) +
               (m < 0 ? 0 : std::min<size_t>(static_cast<size_t>(m), sizeof line - static_cast<size_t>(n) - 2));
  line[len++] = '\n';
  ssize_t ignored = ::write(g_fd.load(std::memory_order_relaxed), line, len);
  (void)ignored;
}

}  // namespace odp::log
