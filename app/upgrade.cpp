#include "app/upgrade.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

extern char** environ;

namespace odp::app {
namespace {

bool parse_fd(const std::string& text, int& out) {
  if (text.empty() || text.size() > 9) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 3) return false;  // never stdin/stdout/stderr
  out = v;
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// A copy of `fd` without close-on-exec, for the child.
int inheritable(int fd) {
  return fcntl(fd, F_DUPFD, 3);
}

// Closes every descriptor above stderr but `keep`: what the old process had open without
// close-on-exec (libmariadb's sockets to the servers, descriptors it inherited itself) is not this
// process's to hold; keeping them would hold its server connections open forever.
void close_others(const std::vector<int>& keep) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  std::vector<int> doomed;
  int own = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd < 3 || fd == own) continue;
    bool kept = false;
    for (int k : keep) kept = kept || k == fd;
    if (!kept) doomed.push_back(static_cast<int>(fd));
  }
  closedir(dir);
  for (int fd : doomed) close(fd);
}

}  // namespace

Result<Inherited, std::string> parse_inherited(const std::string& value) {
  Inherited in;
  auto bad = [&] { return Err{std::string(kUpgradeEnv) + "=\"" + value + "\" is malformed"}; };
  for (const auto& part : split(value, ';')) {
    size_t eq = part.find('=');
    if (eq == std::string::npos) return bad();
    std::string key = part.substr(0, eq);
    std::string val = part.substr(eq + 1);
    if (key == "sql") {
      for (const auto& f : split(val, ',')) {
        int fd = -1;
        if (!parse_fd(f, fd)) return bad();
        in.sql_fds.push_back(fd);
      }
    } else if (key == "admin") {
      if (!parse_fd(val, in.admin_fd)) return bad();
    } else if (key == "ready") {
      if (!parse_fd(val, in.ready_fd)) return bad();
    } else if (key == "handover") {
      if (!parse_fd(val, in.handover_fd)) return bad();
    } else if (key == "next_id") {
      if (val.empty() || val.size() > 10) return bad();
      uint64_t v = 0;
      for (char c : val) {
        if (c < '0' || c > '9') return bad();
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      if (v > UINT32_MAX) return bad();
      in.next_id = static_cast<uint32_t>(v);
    } else {
      return bad();
    }
  }
  if (in.ready_fd < 0 || in.sql_fds.empty()) return bad();
  return in;
}

Result<Inherited, std::string> take_inherited() {
  const char* v = getenv(kUpgradeEnv);
  if (v == nullptr) return Inherited{};
  std::string value = v;
  unsetenv(kUpgradeEnv);
  auto in = parse_inherited(value);
  if (!in) return in;
  std::vector<int> all = in->sql_fds;
  all.push_back(in->ready_fd);
  if (in->admin_fd >= 0) all.push_back(in->admin_fd);
  if (in->handover_fd >= 0) all.push_back(in->handover_fd);
  for (int fd : all) {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return Err{std::string(kUpgradeEnv) + ": descriptor " + std::to_string(fd) + " is not open"};
    }
  }
  close_others(all);
  return in;
}

void report_ready(Inherited& inherited) {
  if (inherited.ready_fd < 0) return;
  std::string msg = "ready " + std::to_string(getpid()) + "\n";
  [[maybe_unused]] ssize_t n = write(inherited.ready_fd, msg.data(), msg.size());
  close(inherited.ready_fd);
  inherited.ready_fd = -1;
}

std::string executable_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

Result<UpgradeChild, std::string> spawn_upgrade(const std::string& exe, const std::vector<std::string>& argv,
                                                const std::vector<int>& sql_fds, int admin_fd, uint32_t next_id) {
  if (exe.empty()) return Err{std::string("the executable's path is unknown")};
  if (access(exe.c_str(), X_OK) != 0) return Err{exe + ": " + std::strerror(errno)};
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return Err{std::string("pipe: ") + std::strerror(errno)};
  std::vector<int> dups;  // inheritable copies, closed here once the child has them
  auto close_all = [&] {
    for (int fd : dups) close(fd);
  };
  auto dup_one = [&](int fd) {
    int d = inheritable(fd);
    if (d >= 0) dups.push_back(d);
    return d;
  };
  std::string value = "sql=";
  for (size_t i = 0; i < sql_fds.size(); ++i) {
    int d = dup_one(sql_fds[i]);
    if (d < 0) break;
    value += (i ? "," : "") + std::to_string(d);
  }
  if (admin_fd >= 0) value += ";admin=" + std::to_string(dup_one(admin_fd));
  int ready = dup_one(pipe_fds[1]);
  value += ";ready=" + std::to_string(ready);
  close(pipe_fds[1]);
  // The handover socket: sessions move over it once the child serves (proxy/handover.h).
  int pair[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    std::string why = std::string("socketpair: ") + std::strerror(errno);
    close_all();
    close(pipe_fds[0]);
    return Err{why};
  }
  int child_end = dup_one(pair[1]);
  close(pair[1]);
  value += ";handover=" + std::to_string(child_end);
  if (next_id != 0) value += ";next_id=" + std::to_string(next_id);
  if (dups.size() != sql_fds.size() + (admin_fd >= 0 ? 3 : 2)) {
    std::string why = std::string("dup: ") + std::strerror(errno);
    close_all();
    close(pipe_fds[0]);
    close(pair[0]);
    return Err{why};
  }

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, kUpgradeEnv, std::strlen(kUpgradeEnv)) == 0 && (*e)[std::strlen(kUpgradeEnv)] == '=') {
      continue;
    }
    env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string(kUpgradeEnv) + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  // The child starts with no signal blocked (this process blocks the ones its signalfd reads).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe.c_str(), nullptr, &attr, argp.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  close_all();
  if (rc != 0) {
    close(pipe_fds[0]);
    close(pair[0]);
    return Err{exe + ": " + std::strerror(rc)};
  }
  return UpgradeChild{pid, pipe_fds[0], pair[0]};
}

}  // namespace odp::app
