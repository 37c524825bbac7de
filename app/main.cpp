// odp's main(): flags, config, logging, signals (signalfd on this thread), systemd notification,
// then a small control loop: SIGHUP reloads, SIGTERM/SIGINT drain and exit 0, SIGUSR2 hot-upgrades
// (app/upgrade.h: a new process takes the listening sockets; this one serves its sessions to
// their end, then exits 0).
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "admin/config.h"
#include "admin/http_server.h"
#include "admin/log_settings.h"
#include "app/notify.h"
#include "app/options.h"
#include "app/upgrade.h"
#include "base/log.h"
#include "proxy/server.h"

#ifndef ODP_VERSION
#define ODP_VERSION "unknown"
#endif

namespace {

using odp::admin::Config;
using Clock = std::chrono::steady_clock;

// Prints a config's errors, one per line, on stderr. Returns whether there were none.
bool report_config(const odp::Result<Config, std::vector<odp::admin::ConfigError>>& loaded) {
  if (loaded) return true;
  for (const auto& e : loaded.error()) std::fprintf(stderr, "%s\n", e.message.c_str());
  return false;
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    case SIGUSR2:
      return "SIGUSR2";
    default:
      return "signal";
  }
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// How long a new process started by SIGUSR2 may take to report that it serves.
constexpr auto kUpgradeReadyTimeout = std::chrono::seconds(60);
constexpr uint32_t kUpgradeIdGap = 1u << 20;  // connection ids this process may still give during an upgrade

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

class Service {
 public:
  Service(std::string path, std::shared_ptr<const Config> config, int signal_fd, std::string exe,
          std::vector<std::string> argv, odp::app::Inherited inherited)
      : path_(std::move(path)),
        started_(config),
        current_(std::move(config)),
        signal_fd_(signal_fd),
        exe_(std::move(exe)),
        argv_(std::move(argv)),
        inherited_(std::move(inherited)) {}

  int run() {
    const bool upgraded = inherited_.active();
    // `alter proxy upgrade` takes the SIGUSR2 path: the signal reaches this thread's signalfd.
    auto server = odp::proxy::Server::start(
        current_, inherited_.sql_fds, [] { kill(getpid(), SIGUSR2); }, inherited_.handover_fd, inherited_.next_id);
    inherited_.handover_fd = -1;  // the Server's now
    if (!server) {
      std::fprintf(stderr, "odp: %s\n", server.error().c_str());
      return 1;
    }
    server_ = std::move(server).value();
    if (!current_->listen.admin_http.empty()) {
      auto http = odp::admin::AdminHttpServer::start(
          current_->listen.admin_http, [this] { return accepting_.load() && !server_->draining(); }, ODP_VERSION,
          inherited_.admin_fd);
      inherited_.admin_fd = -1;
      if (!http) {
        std::fprintf(stderr, "odp: %s\n", http.error().c_str());
        server_->stop();
        return 1;
      }
      http_ = std::move(http).value();
    } else if (inherited_.admin_fd >= 0) {
      close(inherited_.admin_fd);
      inherited_.admin_fd = -1;
    }
    LOG_INFO("odp %s ready config=%s listen=%s admin_http=%s%s", ODP_VERSION, path_.c_str(),
             current_->listen.address.c_str(), current_->listen.admin_http.c_str(),
             http_ ? (" (port " + std::to_string(http_->port()) + ")").c_str() : "");
    odp::admin::ControlStats::instance().config_last_reload_unix_seconds.store(unix_seconds());
    if (upgraded) {
      // The process being replaced stops accepting when it reads this; systemd tracks this pid
      // from now on (NotifyAccess=all: the message comes from a process that is not main yet).
      odp::app::report_ready(inherited_);
      LOG_INFO("upgrade: this process (pid %d) serves on the inherited sockets", static_cast<int>(getpid()));
      odp::app::notify(
          ("MAINPID=" + std::to_string(getpid()) + "\nREADY=1\nSTATUS=accepting clients (upgraded)").c_str());
    } else {
      odp::app::notify("READY=1\nSTATUS=accepting clients");
    }
    loop();
    server_->stop();
    if (http_) http_->stop();
    LOG_INFO("odp stopped");
    return 0;
  }

 private:
  void loop() {
    const auto watchdog = odp::app::watchdog_interval();
    auto next_watchdog = Clock::now() + watchdog;
    if (watchdog.count() > 0) odp::app::notify("WATCHDOG=1");
    for (;;) {
      auto now = Clock::now();
      auto wake = Clock::time_point::max();
      if (watchdog.count() > 0 && !handed_over_) wake = next_watchdog;
      if (draining_) wake = std::min(wake, now + std::chrono::milliseconds(50));
      if (child_.pid > 0) wake = std::min(wake, child_deadline_);
      if (!abandoned_.empty()) wake = std::min(wake, now + std::chrono::seconds(1));
      int timeout_ms = -1;
      if (wake != Clock::time_point::max()) {
        timeout_ms = static_cast<int>(
            std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()));
      }
      pollfd pfds[2] = {{signal_fd_, POLLIN, 0}, {child_.ready_fd, POLLIN, 0}};
      if (poll(pfds, child_.ready_fd >= 0 ? 2 : 1, timeout_ms) < 0 && errno != EINTR) {
        LOG_ERROR("poll on signalfd failed error=\"%s\"; stopping", std::strerror(errno));
        return;
      }
      signalfd_siginfo si{};
      while (read(signal_fd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        if (!on_signal(static_cast<int>(si.ssi_signo))) return;
      }
      if (child_.pid > 0) check_upgrade();
      // New processes given up on: reaped once they exit (no zombie left behind).
      std::erase_if(abandoned_, [](pid_t pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
      now = Clock::now();
      if (watchdog.count() > 0 && !handed_over_ && now >= next_watchdog) {
        odp::app::notify("WATCHDOG=1");
        next_watchdog = now + watchdog;
      }
      if (handed_over_ && !drain_after_handover_) server_->handover_tick();
      if (draining_) {
        size_t left = server_->client_sessions();
        // Past the deadline the sessions are closing (their ERR 1053 on its way) and the KILLs of
        // their statements are on their way to the servers: done when both are, or at the slack's end.
        size_t kills = expired_ ? server_->drain_kills_pending() : 0;
        if (left == 0 && kills == 0) {
          if (handed_over_) {
            LOG_INFO("upgrade: every client session is closed or moved to the new process (%llu moved)",
                     static_cast<unsigned long long>(server_->sessions_handed_over()));
          }
          LOG_INFO("drain: every client session is closed");
          return;
        }
        if (expired_ && now >= expire_deadline_) {
          LOG_WARN("drain: stopping with %zu client sessions and %zu KILLs of their statements unfinished", left,
                   kills);
          return;
        }
        if (!expired_ && now >= drain_deadline_) {
          LOG_WARN("drain: listen.drain_timeout_ms passed with %zu client sessions open; closing them%s", left,
                   handed_over_ ? " (their clients reconnect to the new process)" : "");
          expired_ = true;
          expire_deadline_ = now + kExpireSlack;
          server_->expire_drain();
        }
      }
    }
  }

  // Returns false when the loop must end now.
  bool on_signal(int signo) {
    if (signo == SIGUSR2) {
      start_upgrade();
      return true;
    }
    if (handed_over_ && !drain_after_handover_ && (signo == SIGTERM || signo == SIGINT)) {
      // The new process is the service now; this one only finishes what it still serves.
      drain_after_handover_ = true;
      LOG_INFO("%s after the upgrade: closing idle clients, statements in flight finish", signal_name(signo));
      server_->begin_drain();
      return true;
    }
    if (signo == SIGHUP) {
      if (draining_) {
        LOG_WARN("SIGHUP while draining: reload ignored");
      } else {
        reload();
      }
      return true;
    }
    if (draining_) {
      LOG_WARN("%s while draining: stopping now", signal_name(signo));
      return false;
    }
    draining_ = true;
    accepting_ = false;
    odp::app::notify("STOPPING=1\nSTATUS=draining");
    drain_deadline_ = Clock::now() + std::chrono::milliseconds(current_->listen.drain_timeout_ms);
    LOG_INFO("%s: draining client_sessions=%zu drain_timeout_ms=%u", signal_name(signo), server_->client_sessions(),
             current_->listen.drain_timeout_ms);
    server_->begin_drain();
    return true;
  }

  // SIGUSR2: starts the binary at our own path with the same arguments and the listening sockets.
  void start_upgrade() {
    if (draining_) {
      LOG_WARN("upgrade: SIGUSR2 while draining: ignored");
      return;
    }
    if (child_.pid > 0) {
      LOG_WARN("upgrade: SIGUSR2 while pid %d is starting: ignored", static_cast<int>(child_.pid));
      return;
    }
    std::vector<int> sql = server_->listen_fds();
    int admin = http_ ? http_->listen_fd() : -1;
    // The new process gives ids above any this one gives meanwhile (it accepts until the new one
    // serves), so a session moved over keeps its id and no id is given twice.
    uint32_t next_id = server_->next_connection_id() + kUpgradeIdGap;
    if (next_id < kUpgradeIdGap) next_id = 1;  // wrapped
    auto child = odp::app::spawn_upgrade(exe_, argv_, sql, admin, next_id);
    if (!child) {
      LOG_ERROR("upgrade: cannot start %s: %s; this process keeps serving", exe_.c_str(), child.error().c_str());
      return;
    }
    child_ = child.value();
    child_output_.clear();
    child_deadline_ = Clock::now() + kUpgradeReadyTimeout;
    LOG_INFO("upgrade: started %s as pid %d with %zu listening sockets%s; waiting until it serves", exe_.c_str(),
             static_cast<int>(child_.pid), sql.size(), admin >= 0 ? " and the admin HTTP socket" : "");
  }

  // Watches the new process: "ready" hands over; EOF (it exited) or the timeout keeps us serving.
  void check_upgrade() {
    char buf[128];
    bool eof = false;
    for (;;) {
      ssize_t n = read(child_.ready_fd, buf, sizeof buf);
      if (n > 0) {
        child_output_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
    if (child_output_.find('\n') != std::string::npos && child_output_.rfind("ready ", 0) == 0) {
      hand_over();
      return;
    }
    if (eof) {
      int status = 0;
      pid_t got = 0;
      for (int i = 0; i < 200 && got == 0; ++i) {  // it closed the pipe by exiting: reap it (<= 2 s)
        got = waitpid(child_.pid, &status, WNOHANG);
        if (got == 0) usleep(10000);
      }
      std::string how = got == child_.pid ? describe_exit(status) : "closed its ready pipe";
      if (got != child_.pid) abandoned_.push_back(child_.pid);
      LOG_ERROR(
          "upgrade: the new process (pid %d) %s before it served (its error is on stderr / in the log above); "
          "this process (pid %d) keeps serving",
          static_cast<int>(child_.pid), how.c_str(), static_cast<int>(getpid()));
      forget_child();
      return;
    }
    if (Clock::now() >= child_deadline_) {
      LOG_ERROR(
          "upgrade: the new process (pid %d) did not serve within %lld s; stopping it (SIGTERM), this "
          "process keeps serving",
          static_cast<int>(child_.pid), static_cast<long long>(kUpgradeReadyTimeout.count()));
      kill(child_.pid, SIGTERM);
      abandoned_.push_back(child_.pid);
      forget_child();  // it may still drain what it accepted; reaped when it exits
    }
  }

  void forget_child() {
    close(child_.ready_fd);
    if (child_.handover_fd >= 0) close(child_.handover_fd);
    child_ = {};
    child_output_.clear();
  }

  void hand_over() {
    pid_t pid = child_.pid;
    int handover_fd = child_.handover_fd;
    close(child_.ready_fd);
    child_ = {};
    handed_over_ = true;
    draining_ = true;
    accepting_ = false;
    // Tell systemd first (NotifyAccess=all lets the new process say it too); after this, this
    // process sends systemd nothing (a STOPPING=1 from it would stop the service).
    odp::app::notify(("MAINPID=" + std::to_string(pid)).c_str());
    if (http_) http_->stop();  // the new process answers /healthz and /metrics on the same socket
    server_->begin_handover(handover_fd);
    drain_deadline_ = Clock::now() + std::chrono::milliseconds(current_->listen.drain_timeout_ms);
    LOG_INFO(
        "upgrade: pid %d serves; this process (pid %d) stopped accepting; its client_sessions=%zu move to it at "
        "their next quiet point (TLS sessions and those that never reach one are served until they end), the rest "
        "closed after drain_timeout_ms=%u",
        static_cast<int>(pid), static_cast<int>(getpid()), server_->client_sessions(),
        current_->listen.drain_timeout_ms);
  }

  void reload() {
    odp::app::notify("RELOADING=1");
    auto& stats = odp::admin::ControlStats::instance();
    auto loaded = odp::admin::load_config(path_);
    if (!loaded) {
      stats.config_reloads_failed.fetch_add(1);
      stats.config_last_reload_ok.store(0);
      for (const auto& e : loaded.error()) LOG_ERROR("reload: %s", e.message.c_str());
      LOG_ERROR("reload: %s has errors; the running config is unchanged", path_.c_str());
      odp::app::notify("READY=1\nSTATUS=accepting clients (last reload failed)");
      return;
    }
    auto next = std::make_shared<const Config>(std::move(loaded).value());
    auto changed = odp::admin::changed_config_keys(*current_, *next);
    std::string log_error = odp::admin::apply_log_settings(next->log);
    if (!log_error.empty()) LOG_ERROR("reload: %s", log_error.c_str());
    // What cannot change live, compared with what the process started with: the server's own
    // list plus the keys main owns (the admin listener), so nothing is silently ignored.
    auto from_server = server_->reload(next);
    std::set<std::string> restart(from_server.begin(), from_server.end());
    for (const auto& key : odp::admin::restart_required_keys(*started_, *next)) restart.insert(key);
    for (const auto& key : restart) {
      LOG_WARN("reload: %s differs from the running value and takes effect only after a restart", key.c_str());
    }
    current_ = next;
    stats.config_reloads_ok.fetch_add(1);
    stats.config_last_reload_ok.store(1);
    stats.config_last_reload_unix_seconds.store(unix_seconds());
    stats.config_restart_pending.store(static_cast<int64_t>(restart.size()));
    LOG_INFO("reload: applied %s changed=%zu keys=[%s]", path_.c_str(), changed.size(), join(changed).c_str());
    odp::app::notify(restart.empty() ? "READY=1\nSTATUS=accepting clients"
                                     : "READY=1\nSTATUS=accepting clients (some changes need a restart)");
  }

  std::string path_;
  std::shared_ptr<const Config> started_;
  std::shared_ptr<const Config> current_;
  int signal_fd_;
  std::unique_ptr<odp::proxy::Server> server_;
  std::unique_ptr<odp::admin::AdminHttpServer> http_;
  std::string exe_;
  std::vector<std::string> argv_;
  odp::app::Inherited inherited_;
  odp::app::UpgradeChild child_;  // a new process started by SIGUSR2, until it serves or fails
  std::string child_output_;
  std::vector<pid_t> abandoned_;
  Clock::time_point child_deadline_{};
  std::atomic<bool> accepting_{true};
  bool draining_ = false;
  bool handed_over_ = false;
  bool drain_after_handover_ = false;
  Clock::time_point drain_deadline_{};
  // Past the drain's deadline: the sessions left are being closed (Server::expire_drain), for at
  // most kExpireSlack (their ERR packets written, their statements killed on the servers).
  bool expired_ = false;
  Clock::time_point expire_deadline_{};
  static constexpr std::chrono::milliseconds kExpireSlack{1000};
};

}  // namespace

int main(int argc, char** argv) {
  odp::app::Options options;
  std::string usage_error;
  if (!odp::app::parse_options(argc, argv, options, usage_error)) {
    std::fprintf(stderr, "odp: %s\n", usage_error.c_str());
    return 2;
  }
  switch (options.mode) {
    case odp::app::Mode::help:
      std::fputs(odp::app::usage_text(), stdout);
      return 0;
    case odp::app::Mode::version:
      std::printf("odp %s\n", ODP_VERSION);
      return 0;
    case odp::app::Mode::check_config: {
      auto loaded = odp::admin::load_config(options.config_path);
      if (!report_config(loaded)) return 1;
      std::printf("%s: OK\n", options.config_path.c_str());
      return 0;
    }
    case odp::app::Mode::run:
      break;
  }

  // Resolved now: a package manager that replaces the file before SIGUSR2 leaves /proc/self/exe
  // pointing at a deleted inode; this path names the new binary.
  std::string exe = odp::app::executable_path();
  std::vector<std::string> args(argv, argv + argc);
  auto inherited = odp::app::take_inherited();
  if (!inherited) {
    std::fprintf(stderr, "odp: %s\n", inherited.error().c_str());
    return 1;
  }
  if (inherited->active() && getenv("WATCHDOG_PID") != nullptr) {
    // systemd's watchdog variables name the process it started; this one takes over its pings.
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  }

  auto loaded = odp::admin::load_config(options.config_path);
  if (!report_config(loaded)) {
    if (inherited->active()) std::fprintf(stderr, "odp: upgrade refused: the config has errors\n");
    return 1;
  }
  auto config = std::make_shared<const Config>(std::move(loaded).value());
  odp::log::set_thread_name("main");
  std::string log_error = odp::admin::apply_log_settings(config->log);
  if (!log_error.empty()) {
    std::fprintf(stderr, "odp: %s\n", log_error.c_str());
    return 1;
  }

  // Before any thread starts, so every thread inherits the mask and the signals reach only the
  // signalfd below. SIGPIPE is ignored: a peer closing mid-send is an error code, not a death.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) sigaddset(&signals, s);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    std::fprintf(stderr, "odp: cannot block signals\n");
    return 1;
  }
  int signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::fprintf(stderr, "odp: signalfd: %s\n", std::strerror(errno));
    return 1;
  }
  int rc = Service(options.config_path, std::move(config), signal_fd, std::move(exe), std::move(args),
                   std::move(inherited).value())
               .run();
  close(signal_fd);
  return rc;
}
