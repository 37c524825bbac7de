// Server: binds the listeners, starts one ProxyWorker thread per worker, the control-plane job
// pool, and keeps what workers share (limits, TLS context, credentials) in one place.
#include "proxy/server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "admin/address.h"
#include "admin/credentials.h"
#include "admin/location_service.h"
#include "base/log.h"
#include "core/listener.h"
#include "proxy/backend_probe.h"
#include "proxy/client_channel.h"
#include "proxy/handover.h"
#include "proxy/job_pool.h"
#include "proxy/proxy_worker.h"

namespace odp::proxy {
namespace {

class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<const admin::Config> config, std::vector<int> inherited, std::function<void()> on_upgrade,
             int handover_in, uint32_t first_id)
      : config_(std::move(config)), inherited_(std::move(inherited)), handover_in_(handover_in) {
    if (first_id != 0) shared_.next_connection_id.store(first_id);
    if (on_upgrade) {
      shared_.upgrade = [this, on_upgrade = std::move(on_upgrade)]() -> Result<Ok, std::string> {
        if (shared_.draining.load()) return Err{std::string("draining: no upgrade")};
        on_upgrade();
        return Ok{};
      };
    }
  }

  ~ServerImpl() override {
    stop();
    if (handover_out_ >= 0) ::close(handover_out_);
    if (shared_.tls != nullptr) SSL_CTX_free(shared_.tls);
  }

  Status<std::string> start() {
    const admin::Config& cfg = *config_;
    raise_fd_limit();
    auto addr = admin::parse_sockaddr(cfg.listen.address);
    if (!addr) return Err("listen.address " + cfg.listen.address + ": " + addr.error());
    if (cfg.tls.enabled()) {
      auto ctx = make_client_tls_context(cfg.tls);
      if (!ctx) return Err(ctx.error());
      shared_.tls = ctx.value();
    }
    unsigned workers = cfg.listen.workers != 0 ? cfg.listen.workers : std::max(1u, std::thread::hardware_concurrency());
    std::vector<int> fds;
    if (!inherited_.empty()) {
      // Hot upgrade: the sockets of the process being replaced, if they listen where this config
      // says (else they are closed and the address bound afresh, like a restart would).
      bool same = true;
      for (int fd : inherited_) same = same && listens_on(fd, addr.value());
      if (same) {
        fds = inherited_;
        LOG_INFO("listen %s: %zu inherited sockets", cfg.listen.address.c_str(), fds.size());
      } else {
        LOG_WARN("listen.address %s differs from the inherited sockets; binding it afresh", cfg.listen.address.c_str());
        for (int fd : inherited_) ::close(fd);
      }
      inherited_.clear();
    }
    // SO_REUSEPORT would let us share a port with another odp of the same user; a plain bind
    // first makes "port in use" an error, as it should be (not when the sockets are inherited:
    // they hold the port, and more sockets join their group below).
    if (fds.empty()) {
      if (auto probe = probe_port_free(addr.value(), cfg.listen.address); !probe) return probe;
    }
    for (unsigned i = static_cast<unsigned>(fds.size()); i < workers; ++i) {
      auto fd =
          core::open_listen_socket(addr->addr(), addr->len, static_cast<int>(cfg.listen.backlog), cfg.listen.address);
      if (!fd) {
        for (int f : fds) ::close(f);
        return Err(fd.error());
      }
      fds.push_back(fd.value());
    }
    BackendInfo backend = initial_backend();
    credentials_ = std::make_unique<admin::CredentialStore>();
    jobs_ = std::make_unique<JobPool>(2);
    shared_.credentials = credentials_.get();
    shared_.jobs = jobs_.get();
    shared_.started_ms = core::Worker::monotonic_ms();
    shared_.alter_config = [this](const std::string& key, const std::string& value) {
      return alter_config(key, value);
    };
    // Location tables: one reader slot per worker; the service publishes before workers start.
    locations_ = std::make_unique<routing::SnapshotHolder>(workers);
    location_service_ = std::make_unique<admin::LocationService>(config_, *locations_);
    shared_.locations = locations_.get();
    admin::LocationService* svc = location_service_.get();
    shared_.request_table = [svc](const std::string& c, const std::string& t, const std::string& d,
                                  const std::string& x) { svc->request_table(c, t, d, x); };
    shared_.mark_table_dirty = [svc](const std::string& c, const std::string& t, const std::string& d,
                                     const std::string& x) { svc->mark_dirty(c, t, d, x); };
    location_service_->start();
    for (unsigned i = 0; i < workers; ++i) {
      workers_.push_back(std::make_unique<ProxyWorker>(i, shared_, config_, backend));
      shared_.workers.push_back(workers_.back().get());
      core::StatsRegistry::instance().add(&static_cast<const ProxyWorker&>(*workers_.back()).stats());
    }
    listen_fds_ = fds;
    // Socket i goes to worker i % workers: more sockets than workers only after a hot upgrade
    // from a process with more workers.
    std::vector<std::vector<int>> per_worker(workers);
    for (size_t i = 0; i < fds.size(); ++i) per_worker[i % workers].push_back(fds[i]);
    for (unsigned i = 0; i < workers; ++i) {
      std::promise<std::string> started;
      auto fut = started.get_future();
      ProxyWorker* w = workers_[i].get();
      threads_.emplace_back([w, mine = per_worker[i], &started] { w->run(mine, started); });
      std::string err = fut.get();
      if (!err.empty()) {
        for (unsigned j = i + 1; j < workers; ++j)
          for (int fd : per_worker[j]) ::close(fd);
        listen_fds_.clear();
        stop();
        return Err(err);
      }
    }
    if (handover_in_ >= 0) {
      // Sessions the old process moves: adopted round-robin by the workers.
      receiver_ = std::thread([this] { receive_sessions(); });
    }
    LOG_INFO("odp listening address=%s workers=%u backend_version=\"%s\" tls=%s", cfg.listen.address.c_str(), workers,
             backend.server_version.c_str(), shared_.tls ? "on" : "off");
    return Ok{};
  }

  std::vector<std::string> reload(std::shared_ptr<const admin::Config> config) override {
    std::lock_guard<std::mutex> lock(config_mu_);
    std::vector<std::string> need_restart;
    const admin::Config& old = *config_;
    const admin::Config& now = *config;
    if (old.listen.address != now.listen.address) need_restart.push_back("listen.address");
    if (old.listen.workers != now.listen.workers) need_restart.push_back("listen.workers");
    if (old.listen.admin_http != now.listen.admin_http) need_restart.push_back("listen.admin_http");
    if (old.tls.client_cert != now.tls.client_cert || old.tls.client_key != now.tls.client_key ||
        old.tls.client_ca != now.tls.client_ca || old.tls.min_version != now.tls.min_version) {
      need_restart.push_back("tls");
    }
    config_ = config;
    for (auto& w : workers_) w->post_config(config);
    if (location_service_) location_service_->update_config(config);
    return need_restart;
  }

  void begin_drain() override {
    // Also after a handover (SIGTERM while the old process serves its last sessions).
    if (drain_started_.exchange(true)) return;
    shared_.draining.store(true);
    for (auto& w : workers_) w->post_drain();
  }
  bool draining() const override { return shared_.draining.load(); }
  void expire_drain() override {
    for (auto& w : workers_) w->post_drain_deadline();
  }
  size_t drain_kills_pending() const override {
    size_t n = 0;
    for (const auto& w : workers_) n += w->drain_kills_pending();
    return n;
  }

  void begin_handover(int handover_fd) override {
    if (shared_.draining.exchange(true)) {
      if (handover_fd >= 0) ::close(handover_fd);
      return;
    }
    handover_out_ = handover_fd;
    for (auto& w : workers_) w->post_handover();
  }

  void handover_tick() override {
    if (handover_out_ < 0 || drain_started_.load()) return;
    for (auto& w : workers_) w->post_handover_tick(handover_out_);
  }

  uint64_t sessions_handed_over() const override { return shared_.sessions_handed_over.load(); }
  uint32_t next_connection_id() const override { return shared_.next_connection_id.load(); }

  std::vector<int> listen_fds() const override { return shared_.draining.load() ? std::vector<int>{} : listen_fds_; }

  size_t client_sessions() const override {
    size_t n = 0;
    for (const auto& w : workers_) n += w->session_count();
    return n;
  }

  void stop() override {
    if (receiver_.joinable()) {
      ::shutdown(handover_in_, SHUT_RDWR);  // wakes the receiver
      receiver_.join();
    }
    if (handover_in_ >= 0) {
      ::close(handover_in_);
      handover_in_ = -1;
    }
    if (jobs_) jobs_->stop();
    for (auto& w : workers_) w->post_stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
    // Workers are gone (every reader slot offline): the service may stop and snapshots go.
    if (location_service_) location_service_->stop();
  }

 private:
  // `alter proxyconfig set`: runs on a worker thread; serialised with SIGHUP reloads.
  Result<Ok, std::string> alter_config(const std::string& key, const std::string& value) {
    std::shared_ptr<const admin::Config> current;
    {
      std::lock_guard<std::mutex> lock(config_mu_);
      current = config_;
    }
    auto next = std::make_shared<admin::Config>(*current);
    if (auto r = admin::set_config_value(*next, key, value); !r) return Err(r.error());
    auto restart = reload(next);
    if (!restart.empty()) LOG_WARN("alter proxyconfig: %s needs a restart to take effect", restart.front().c_str());
    LOG_INFO("alter proxyconfig set %s = %s", key.c_str(), value.c_str());
    return Ok{};
  }

  // New process: reads the handover socket until the old process closes it (it exits).
  void receive_sessions() {
    log::set_thread_name("handover");
    size_t next = 0;
    uint64_t adopted = 0;
    for (;;) {
      int fd = -1;
      int err = 0;
      std::vector<uint8_t> bytes = recv_handover(handover_in_, fd, err);
      if (bytes.empty() && fd < 0) {
        if (err == EMSGSIZE) continue;
        if (err != 0) LOG_WARN("handover: receiving sessions failed: %s", std::strerror(err));
        break;
      }
      auto msg = decode_handover(bytes);
      if (!msg || fd < 0) {
        LOG_WARN("handover: a message refused: %s", msg ? "no socket came with it" : msg.error().c_str());
        if (fd >= 0) ::close(fd);
        continue;
      }
      ++adopted;
      workers_[next++ % workers_.size()]->post_adopt(fd, std::move(msg).value());
    }
    LOG_INFO("handover: the old process closed the handover socket after %llu sessions",
             static_cast<unsigned long long>(adopted));
  }

  // Whether `fd` is a listening TCP socket bound to `want` (family, address and port).
  static bool listens_on(int fd, const admin::SockAddr& want) {
    int listening = 0;
    socklen_t optlen = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || listening == 0) return false;
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) return false;
    return len == want.len && std::memcmp(&bound, want.addr(), len) == 0;
  }

  static Status<std::string> probe_port_free(const admin::SockAddr& addr, const std::string& label) {
    int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Err("listen " + label + ": socket: " + strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = ::bind(fd, addr.addr(), addr.len);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Err("listen " + label + ": " + strerror(err));
    return Ok{};
  }

  static void raise_fd_limit() {
    // Every client needs two descriptors (its socket and its server's); use what we may.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        LOG_WARN("cannot raise RLIMIT_NOFILE to %lu", static_cast<unsigned long>(rl.rlim_max));
    }
  }

  BackendInfo initial_backend() {
    // Clients should see the dialect of the database behind the proxy; ask the first reachable
    // server once. If none answers, a MySQL 5.7-compatible default is used.
    BackendInfo info;
    for (const auto& cluster : config_->clusters) {
      for (const auto& hp : cluster.rootservice_list) {
        auto r = probe_backend(hp, 2000);
        if (r) return r.value();
        LOG_WARN("backend probe failed: %s", r.error().c_str());
      }
    }
    return info;
  }

  std::mutex config_mu_;
  std::shared_ptr<const admin::Config> config_;
  std::vector<int> inherited_;
  std::vector<int> listen_fds_;
  std::atomic<bool> drain_started_{false};
  SharedState shared_;
  std::unique_ptr<admin::CredentialStore> credentials_;
  std::unique_ptr<JobPool> jobs_;
  std::unique_ptr<routing::SnapshotHolder> locations_;
  std::unique_ptr<admin::LocationService> location_service_;  // destroyed before locations_
  std::vector<std::unique_ptr<ProxyWorker>> workers_;
  std::vector<std::thread> threads_;
  int handover_in_ = -1;   // new process: sessions arrive here
  int handover_out_ = -1;  // old process: sessions leave here
  std::thread receiver_;
};

}  // namespace

Result<std::unique_ptr<Server>, std::string> Server::start(std::shared_ptr<const admin::Config> config,
                                                           std::vector<int> inherited, std::function<void()> on_upgrade,
                                                           int handover_fd, uint32_t first_id) {
  auto server = std::make_unique<ServerImpl>(std::move(config), std::move(inherited), std::move(on_upgrade),
                                             handover_fd, first_id);
  if (auto st = server->start(); !st) return Err(st.error());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace odp::proxy
