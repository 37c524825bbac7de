#include "proxy/proxy_worker.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "admin/address.h"
#include "admin/credentials.h"
#include "base/log.h"
#include "core/tcp_stream.h"
#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/packet.h"
#include "protocol/resultset_writer.h"

namespace odp::proxy {

ProxyWorker::ProxyWorker(uint32_t index, SharedState& shared, std::shared_ptr<const admin::Config> config,
                         BackendInfo backend)
    : index_(index),
      shared_(shared),
      config_(std::move(config)),
      backend_(std::move(backend)),
      health_(shared.health) {}

ProxyWorker::~ProxyWorker() = default;

void ProxyWorker::run(std::vector<int> listen_fds, std::promise<std::string>& started) {
  char name[16];
  std::snprintf(name, sizeof name, "w%u", index_);
  log::set_thread_name(name);
  core::WorkerOptions options;
  options.id = index_;
  // The registered-file table may not exceed RLIMIT_NOFILE; clients and servers each take a slot.
  rlimit rl{};
  uint64_t fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
  options.ring.fixed_files = static_cast<uint32_t>(
      std::min<uint64_t>({65536, uint64_t{config_->limits.client_max_connections} * 2 + 64, fd_limit}));
  if (auto st = worker_.init(options); !st) {
    for (int fd : listen_fds) ::close(fd);
    started.set_value("worker " + std::to_string(index_) + ": " + st.error());
    return;
  }
  core::StatsRegistry::instance();  // registered by the Server before threads start
  // Usually one socket; more when a hot upgrade handed over more sockets than this process has
  // workers (each must keep accepting: closing one would reset the connections queued on it).
  for (int listen_fd : listen_fds) {
    listeners_.push_back(std::make_unique<core::Listener>(worker_, listen_fd, [this](int fd) { on_accept(fd); }));
    listeners_.back()->start();
  }
  pool_ = std::make_unique<ServerPool>(pool_limits());
  routing::parse_route_policy(config_->routing.route_policy, route_policy_);
  worker_.set_idle_hook([this] {
    if (handover_sock_ >= 0) hand_over_sessions();
    reap_sessions();
    pool_->run_wakeups(now_ms());
    if (now_ms() >= next_pool_expiry_ms_) {
      pool_->expire(now_ms(), config_->pool.idle_timeout_ms);
      core::Stats::set(worker_.stats().pool_idle_connections, static_cast<int64_t>(pool_->idle_count()));
      next_pool_expiry_ms_ = now_ms() + 1000;
    }
  });
  if (shared_.locations != nullptr) {
    // Quiescent states for snapshot reclamation: no snapshot pointer is held while blocked.
    worker_.set_wait_hooks([this] { shared_.locations->offline(index_); },
                           [this] { shared_.locations->online(index_); });
  }
  started.set_value("");
  worker_.run();
  if (shared_.locations != nullptr) shared_.locations->offline(index_);
  shutdown_sessions();
  drain_kills_.clear();
  draining_ = true;  // an accept still completing now is closed, not served
  handing_over_ = false;
  // The multishot accept completes (-ECANCELED) after the stop, and its CQE names the listener:
  // it must outlive that CQE (freeing it first was a use-after-free ASan caught at shutdown).
  for (auto& l : listeners_) l->stop();
  auto all_stopped = [this] {
    for (auto& l : listeners_)
      if (!l->stopped()) return false;
    return true;
  };
  worker_.settle(2000, all_stopped);
  for (auto& l : listeners_) {
    if (l->stopped()) {
      l.reset();
    } else {
      LOG_WARN("worker %u: the kernel still holds the listener's accept at exit; not freeing it", index_);
      (void)l.release();
    }
  }
  listeners_.clear();
}

void ProxyWorker::post_config(std::shared_ptr<const admin::Config> config) {
  worker_.post([this, config = std::move(config)]() mutable {
    config_ = std::move(config);
    routing::parse_route_policy(config_->routing.route_policy, route_policy_);
    if (pool_) pool_->set_limits(pool_limits());
  });
}

ServerPool::Limits ProxyWorker::pool_limits() const {
  ServerPool::Limits l;
  uint32_t workers = static_cast<uint32_t>(std::max<size_t>(shared_.workers.size(), 1));
  uint32_t cpus = static_cast<uint32_t>(std::max(1u, std::thread::hardware_concurrency()));
  // 0: sized from the machine (server_pool.h); a number: that many per server and worker.
  l.max_per_server = config_->pool.max_server_connections != 0 ? config_->pool.max_server_connections
                                                               : auto_server_connection_cap(cpus, workers);
  l.max_idle_per_key = config_->pool.max_idle_per_server;
  l.max_wait_ms = config_->pool.max_wait_ms;
  return l;
}

void ProxyWorker::post_backend(BackendInfo backend) {
  worker_.post([this, backend = std::move(backend)]() mutable { backend_ = std::move(backend); });
}

void ProxyWorker::post_drain() {
  worker_.post([this] {
    draining_ = true;
    draining_by_signal_ = true;
    handover_sock_ = -1;  // SIGTERM after a hot upgrade: sessions stop moving
    for (auto& l : listeners_) l->stop();
    for (auto& [token, session] : sessions_) session->begin_drain();
  });
}

void ProxyWorker::post_drain_deadline() {
  worker_.post([this] {
    std::vector<ClientSession*> all;
    for (auto& [token, session] : sessions_) all.push_back(session.get());
    for (ClientSession* s : all) {
      std::optional<ClientSession::DrainKill> kill = s->expire_drain();
      if (!kill) continue;
      // The session's own user may always kill its own thread. KILL CONNECTION: the connection
      // is cut anyway, and the statement must not run on after this process is gone.
      std::vector<uint8_t> payload, framed;
      protocol::encode_com_query("KILL " + std::to_string(kill->thread_id), payload);
      protocol::encode_packet(0, payload, framed);
      LOG_INFO("drain: killing the statement cut at the deadline server=%s thread=%u", kill->login.host_port.c_str(),
               kill->thread_id);
      drain_kills_pending_.fetch_add(1, std::memory_order_relaxed);
      drain_kills_.push_back(std::make_unique<QueryKiller>(
          *this, std::move(kill->login), std::move(framed),
          [this](const QueryKiller::Answer&) { drain_kills_pending_.fetch_sub(1, std::memory_order_relaxed); }));
      drain_kills_.back()->start();
    }
  });
}

void ProxyWorker::post_handover() {
  worker_.post([this] {
    // The sockets are shared with the new process, which accepts from now on: this one stops
    // accepting but serves its sessions until they end. A connection its accept took before the
    // stop is served too (closing it would refuse a client the kernel had already accepted).
    handing_over_ = true;
    for (auto& l : listeners_) l->stop();
  });
}

void ProxyWorker::post_handover_tick(int sock) {
  // The scan itself runs at the end of every loop iteration from now on (hand_over_sessions):
  // a session is caught the moment a response leaves it quiet, before the client's next command
  // arrives (its receive is cancelled in the same submission as the response). This post wakes
  // the loop for sessions that are idle.
  worker_.post([this, sock] {
    if (!handing_over_ || draining_by_signal_) return;
    handover_sock_ = sock;
  });
}

void ProxyWorker::hand_over_sessions() {
  scratch_sessions_.clear();
  for (auto& [token, session] : sessions_)
    if (!session->finished()) scratch_sessions_.push_back(session.get());
  for (ClientSession* s : scratch_sessions_) {
    if (s->try_hand_over(handover_sock_) == ClientSession::Handover::moved)
      shared_.sessions_handed_over.fetch_add(1, std::memory_order_relaxed);
  }
}

void ProxyWorker::post_adopt(int fd, HandoverMessage msg) {
  worker_.post([this, fd, msg = std::move(msg)]() mutable {
    if (draining_ && !handing_over_) {  // this process is draining itself: the session ends here
      LOG_INFO("handover: session conn_id=%u closed: this process is draining", msg.connection_id);
      ::close(fd);
      return;
    }
    auto model = SessionModel::deserialize(msg.model);
    if (!model) {
      LOG_WARN("handover: session conn_id=%u refused: %s", msg.connection_id, model.error().c_str());
      ::close(fd);
      return;
    }
    if (shared_.sessions.find(msg.connection_id)) {
      LOG_WARN("handover: session conn_id=%u: the id is taken here already; KILL by id may be ambiguous",
               msg.connection_id);
    }
    // New sessions get ids above every adopted one.
    uint32_t want = msg.connection_id + 1;
    uint32_t cur = shared_.next_connection_id.load(std::memory_order_relaxed);
    while (want != 0 && cur < want &&
           !shared_.next_connection_id.compare_exchange_weak(cur, want, std::memory_order_relaxed)) {
    }
    shared_.clients.fetch_add(1, std::memory_order_relaxed);
    core::TcpStream* stream = core::TcpStream::adopt(worker_, fd, nullptr);
    stream->set_high_watermark(config_->limits.max_output_buffer_bytes);
    auto session = std::make_unique<ClientSession>(*this, stream, msg.connection_id, msg.peer);
    ClientSession* raw = session.get();
    sessions_.emplace(raw->token(), std::move(session));
    session_count_.store(sessions_.size(), std::memory_order_relaxed);
    raw->adopt(std::move(model).value(), msg.mariadb_ext_caps, msg.compressed());
  });
}

void ProxyWorker::post_stop() {
  worker_.stop();
}

void ProxyWorker::reject(int fd, uint16_t code, const char* message) {
  // Like a MySQL server over its connection limit: an ERR instead of the greeting. The socket
  // buffer is empty, so one non-blocking send suffices.
  protocol::ErrPacket err;
  err.code = code;
  err.sql_state = "08004";
  err.message = message;
  std::vector<uint8_t> framed;
  protocol::encode_err_packet(0, err, framed);
  ssize_t n = ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
  ::close(fd);
}

void ProxyWorker::on_accept(int fd) {
  if (draining_ && !handing_over_) {
    ::close(fd);
    return;
  }
  int64_t limit = config_->limits.client_max_connections;
  if (shared_.clients.fetch_add(1, std::memory_order_relaxed) >= limit) {
    shared_.clients.fetch_sub(1, std::memory_order_relaxed);
    core::Stats::inc(worker_.stats().client_connections_rejected_total);
    reject(fd, protocol::errc::ER_CON_COUNT_ERROR, "Too many connections (odp limits.client_max_connections)");
    return;
  }
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  std::string peer_text = "?";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    peer_text = admin::format_sockaddr(reinterpret_cast<sockaddr*>(&peer));
  }
  uint32_t id = shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  if (id == 0) id = shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);  // wrapped
  core::TcpStream* stream = core::TcpStream::accepted(worker_, fd, nullptr);
  stream->set_high_watermark(config_->limits.max_output_buffer_bytes);
  auto session = std::make_unique<ClientSession>(*this, stream, id, std::move(peer_text));
  ClientSession* raw = session.get();
  sessions_.emplace(raw->token(), std::move(session));
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
  raw->start();
}

Conn* ProxyWorker::connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                           uint32_t /*opener*/) {
  auto addr = admin::parse_sockaddr(host_port);
  if (!addr) {
    err = EINVAL;
    LOG_WARN("bad server address %s: %s", host_port.c_str(), addr.error().c_str());
    return nullptr;
  }
  core::TcpStream* s = core::TcpStream::connect(worker_, addr->addr(), addr->len, timeout_ms, handler, err);
  if (s != nullptr) s->set_high_watermark(config_->limits.max_output_buffer_bytes);
  return s;
}

namespace {
Result<UserCredential, std::string> to_user_credential(const admin::CredentialAnswer& a) {
  if (!a.result) return Err(a.result.error());
  const admin::Credential& c = a.result.value();
  UserCredential uc;
  uc.exists = c.exists;
  uc.empty_password = c.empty_password;
  uc.stage2 = c.stage2;
  if (c.exists && c.plugin != admin::kNativePasswordPlugin) uc.unusable_plugin = c.plugin;
  uc.from_cache = a.from_cache;
  uc.database_known = a.database_known;
  uc.locked = c.locked;
  uc.password_expired = c.password_expired;
  return uc;
}
}  // namespace

void ProxyWorker::lookup_credential(const CredentialQuery& query, uint64_t token, CredentialCallback callback) {
  std::shared_ptr<const admin::Config> config = config_;
  const admin::ClusterConfig* cluster = config->find_cluster(query.cluster);
  if (cluster == nullptr) {
    callback(Err(std::string("unknown cluster")));
    return;
  }
  admin::CredentialStore* store = shared_.credentials;
  if (!query.recheck) {
    // The common login: answered from memory on the worker (a short lock, no IO, no thread hop).
    bool refresh = false;
    if (auto cached = store->cached(*cluster, query.user, query.database, refresh)) {
      core::Stats::inc(stats().credential_cache_hits_total);
      if (refresh) {
        core::Stats::inc(stats().credential_refreshes_total);
        shared_.jobs->submit([store, config, cluster, user = query.user] { store->refresh(*cluster, user); });
      }
      callback(to_user_credential(*cached));
      return;
    }
  }
  core::Stats::inc(query.recheck ? stats().credential_rechecks_total : stats().credential_cache_misses_total);
  shared_.jobs->submit([this, store, config, cluster, query, token, callback = std::move(callback)]() mutable {
    admin::CredentialAnswer answer = query.recheck ? store->recheck(*cluster, query.user, query.database)
                                                   : store->find(*cluster, query.user, query.database);
    worker_.post([this, token, result = to_user_credential(answer), callback = std::move(callback)]() mutable {
      auto it = sessions_.find(token);
      if (it == sessions_.end() || it->second->finished()) return;  // the client left meanwhile
      callback(std::move(result));
    });
  });
}

void ProxyWorker::probe_server(const std::string& host_port, uint64_t token, std::function<void(bool alive)> callback) {
  if (shared_.jobs == nullptr) {
    callback(true);  // nothing to probe with: take it for alive (the query timeout still holds)
    return;
  }
  shared_.prober.probe(host_port, config_->limits.server_connect_timeout_ms, *shared_.jobs,
                       [this, token, callback = std::move(callback)](bool alive) {
                         worker_.post([this, token, alive, callback] {
                           auto it = sessions_.find(token);
                           if (it == sessions_.end() || it->second->finished()) return;  // the client left
                           callback(alive);
                         });
                       });
}

void ProxyWorker::note_database_usable(const std::string& cluster, const std::string& user,
                                       const std::string& database) {
  shared_.credentials->note_database(cluster, user, database);
}

void ProxyWorker::forget_credential(const std::string& cluster, const std::string& user) {
  shared_.credentials->invalidate(cluster, user);
}

void ProxyWorker::session_finished(ClientSession* session) {
  shared_.clients.fetch_sub(1, std::memory_order_relaxed);
  finished_.push_back(session);
}

void ProxyWorker::reap_sessions() {
  if (finished_.empty()) return;
  // Destroyed after the loop iteration, never inside one of their own callbacks.
  for (ClientSession* s : finished_) sessions_.erase(s->token());
  finished_.clear();
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
}

void ProxyWorker::shutdown_sessions() {
  std::vector<ClientSession*> all;
  for (auto& [token, session] : sessions_) all.push_back(session.get());
  for (ClientSession* s : all) s->terminate("proxy shutting down");
  reap_sessions();
  if (pool_) {
    pool_->close_all();
    pool_->run_wakeups(now_ms());
  }
}

}  // namespace odp::proxy

namespace odp::proxy {

ClientSession* ProxyWorker::find_session(uint32_t conn_id) {
  for (auto& [token, session] : sessions_) {
    if (session->id() == conn_id && !session->finished()) return session.get();
  }
  return nullptr;
}

void ProxyWorker::post_kill_query(uint32_t conn_id) {
  worker_.post([this, conn_id] {
    if (ClientSession* s = find_session(conn_id)) s->kill_running_query();
  });
}

void ProxyWorker::hold_for_kill(uint32_t conn_id, bool query_only, const KillAuthority& killer, uint64_t requester,
                                KillHoldCallback callback) {
  auto where = shared_.sessions.find(conn_id);
  if (!where || where->worker >= shared_.workers.size()) {
    callback(std::nullopt);
    return;
  }
  shared_.workers[where->worker]->post_hold_for_kill(conn_id, query_only, killer, this, requester, std::move(callback));
}

void ProxyWorker::post_hold_for_kill(uint32_t conn_id, bool query_only, KillAuthority killer, ProxyWorker* reply_to,
                                     uint64_t requester, KillHoldCallback callback) {
  worker_.post([this, conn_id, query_only, killer = std::move(killer), reply_to, requester,
                callback = std::move(callback)]() mutable {
    std::optional<KillHold> hold;
    if (ClientSession* s = find_session(conn_id)) hold = s->hold_for_kill(query_only, killer);
    ProxyWorker* target_worker = this;
    reply_to->worker_.post([reply_to, target_worker, conn_id, requester, hold = std::move(hold),
                            callback = std::move(callback)]() mutable {
      auto it = reply_to->sessions_.find(requester);
      if (it == reply_to->sessions_.end() || it->second->finished()) {
        // The requester left meanwhile: the target need not hold its connection.
        if (hold && !hold->server.empty())
          target_worker->post_release_kill_hold(conn_id, hold->pin, KillOutcome::not_sent);
        return;
      }
      callback(std::move(hold));
    });
  });
}

void ProxyWorker::release_kill_hold(uint32_t conn_id, uint64_t pin, KillOutcome outcome) {
  auto where = shared_.sessions.find(conn_id);
  if (!where || where->worker >= shared_.workers.size()) return;  // the target is gone, and its hold
  shared_.workers[where->worker]->post_release_kill_hold(conn_id, pin, outcome);
}

void ProxyWorker::list_sessions(uint64_t requester, SessionListCallback callback) {
  auto gather = std::make_shared<SessionListGather>();
  gather->workers_left = shared_.workers.size();
  gather->reply_to = this;
  gather->requester = requester;
  gather->callback = std::move(callback);
  for (ProxyWorker* w : shared_.workers) w->post_list_sessions(gather);
}

void ProxyWorker::post_list_sessions(std::shared_ptr<SessionListGather> gather) {
  worker_.post([this, gather = std::move(gather)] {
    std::vector<SessionActivity> mine;
    for (auto& [token, session] : sessions_)
      if (!session->finished() && !session->is_admin()) mine.push_back(session->activity());
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(gather->mu);
      for (SessionActivity& a : mine) gather->sessions.push_back(std::move(a));
      last = --gather->workers_left == 0;
    }
    if (!last) return;
    ProxyWorker* reply_to = gather->reply_to;
    reply_to->worker_.post([reply_to, gather] {
      auto it = reply_to->sessions_.find(gather->requester);
      if (it == reply_to->sessions_.end() || it->second->finished()) return;  // the requester left
      gather->callback(std::move(gather->sessions));
    });
  });
}

void ProxyWorker::post_release_kill_hold(uint32_t conn_id, uint64_t pin, KillOutcome outcome) {
  worker_.post([this, conn_id, pin, outcome] {
    if (ClientSession* s = find_session(conn_id)) s->release_kill_hold(pin, outcome);
  });
}

void ProxyWorker::post_terminate(uint32_t conn_id) {
  worker_.post([this, conn_id] {
    if (ClientSession* s = find_session(conn_id)) {
      s->kill_running_query();  // the server stops the statement, as a KILL CONNECTION would
      s->terminate("kill proxysession");
    }
  });
}

admin::InternalResult ProxyWorker::run_internal_command(std::string_view sql) {
  admin::InternalNeeds needs = admin::internal_command_needs(sql);
  admin::InternalContext ctx;
  if (needs.stats) {
    std::vector<int64_t> totals = core::StatsRegistry::instance().totals();
    for (size_t i = 0; i < core::kStatCount; ++i) ctx.stats.emplace_back(core::kStatInfo[i].name, totals[i]);
  }
  if (needs.sessions) {
    for (const auto& [id, where] : shared_.sessions.list()) {
      admin::SessionInfo info;
      info.id = id;
      info.user = where.user;
      info.client = where.client;
      info.server = where.server;
      info.server_thread_id = where.server_thread_id;
      info.state = "connected";
      info.idle_ms = 0;
      ctx.sessions.push_back(std::move(info));
    }
  }
  ctx.config = config_.get();
  ctx.snapshot = routing_snapshot();
  shared_.health.for_each_congested([&](const std::string& server, uint32_t failures, uint64_t until_ms) {
    uint64_t now = now_ms();
    ctx.congestion.push_back({server, {failures, until_ms > now ? until_ms - now : 0}});
  });
  ctx.version = ODP_VERSION_STRING;
  ctx.info.emplace_back("workers", std::to_string(shared_.workers.size()));
  ctx.info.emplace_back("uptime_s", std::to_string((core::Worker::monotonic_ms() - shared_.started_ms) / 1000));
  ctx.info.emplace_back("config_file", config_->source);
  ctx.info.emplace_back("client_sessions", std::to_string(shared_.clients.load(std::memory_order_relaxed)));
  ctx.alter_config = shared_.alter_config;
  ctx.upgrade = shared_.upgrade;
  ctx.kill_session = [this](uint32_t id, bool query_only) {
    auto where = shared_.sessions.find(id);
    if (!where || where->worker >= shared_.workers.size()) return false;
    if (query_only) {
      shared_.workers[where->worker]->post_kill_query(id);
    } else {
      shared_.workers[where->worker]->post_terminate(id);
    }
    return true;
  };
  return admin::execute_internal_command(sql, ctx);
}

}  // namespace odp::proxy
