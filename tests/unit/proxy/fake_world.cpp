#include "tests/unit/proxy/fake_world.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "protocol/auth.h"
#include "protocol/packet.h"
#include "tests/unit/proxy/fake_known_issues.h"

namespace odp::fakeio {

namespace {
constexpr uint64_t kMaxEvents = 3'000'000;
constexpr uint64_t kMaxVirtualMs = 30ull * 60 * 1000;
constexpr uint64_t kPoolTickMs = 500;  // the worker loop wakes up at least this often while the pool waits
}  // namespace

FakeEnv::FakeEnv(const Scenario& sc)
    : sc_(sc), sim_(sc.seed), cluster_(sim_, sc.servers), topology_(sim_, cluster_, sc.topology) {
  proxy::ServerPool::Limits limits;
  limits.max_per_server = sc_.config.pool.max_server_connections;
  limits.max_idle_per_key = sc_.config.pool.max_idle_per_server;
  limits.max_wait_ms = sc_.config.pool.max_wait_ms;
  pool_ = std::make_unique<proxy::ServerPool>(limits);
  sim_.after_event = [this] { after_event(); };
}

FakeEnv::~FakeEnv() {
  // Sessions first: their destructors give connections back to the pool or close them.
  sessions_.clear();
  if (pool_) {
    pool_->close_all();
    pool_->run_wakeups(sim_.now_ms());
  }
  auto pool = std::move(pool_);  // its connections report their close to a null pool
  pool.reset();
}

FakeConn& FakeEnv::new_conn(std::string name, LinkParams params) {
  conns_.push_back(std::make_unique<FakeConn>(sim_, std::move(name), params));
  return *conns_.back();
}

void FakeEnv::accept_client(size_t index) {
  const ClientScenario& cs = sc_.clients[index];
  LinkParams proxy_side = cs.to_client;
  proxy_side.high_watermark_bytes = sc_.config.limits.max_output_buffer_bytes;
  auto id = static_cast<uint32_t>(index + 1);
  FakeConn& client_end = new_conn("client" + std::to_string(id), cs.to_proxy);
  FakeConn& proxy_end = new_conn("proxy-client" + std::to_string(id), proxy_side);
  FakeConn::link(client_end, proxy_end, true);
  client_end.corrupt_outgoing_at(cs.corrupt_to_proxy_at);
  proxy_end.corrupt_outgoing_at(cs.corrupt_to_client_at);
  proxy_conns_.push_back(&proxy_end);
  clients_[index] = std::make_unique<FakeClient>(sim_, *this, client_end, id, cs.plan, !sc_.faulty);
  clients_[index]->set_kills(sc_.kills);
  auto session =
      std::make_unique<proxy::ClientSession>(*this, &proxy_end, id, "10.0.0.1:" + std::to_string(40000 + id));
  proxy::ClientSession* raw = session.get();
  sessions_.emplace(raw->token(), std::move(session));
  raw->start();
  clients_[index]->start();
  if (cs.reset_at_ms >= 0) {
    sim_.at(static_cast<uint64_t>(cs.reset_at_ms), [&client_end] { client_end.reset_link(); });
  }
}

proxy::Conn* FakeEnv::connect(const std::string& host_port, uint32_t timeout_ms, core::StreamHandler* handler, int& err,
                              uint32_t opener) {
  Rng& r = sim_.rng();
  std::optional<size_t> server = cluster_.index_of(host_port);
  if (!server || r.chance(sc_.refuse_now) || (cluster_.down(*server) && r.chance(500))) {
    err = ECONNREFUSED;
    return nullptr;
  }
  LinkParams proxy_side = sc_.to_server;
  proxy_side.high_watermark_bytes = sc_.config.limits.max_output_buffer_bytes;
  std::string suffix = std::to_string(*server) + "." + std::to_string(next_thread_id_);
  FakeConn& proxy_end = new_conn("proxy-server" + suffix, proxy_side);
  FakeConn& server_end = new_conn("server" + suffix, sc_.from_server);
  FakeConn::link(proxy_end, server_end, false);
  proxy_end.set_handler(handler);
  proxy_conns_.push_back(&proxy_end);
  server_ends_[server_end.serial()] = &server_end;
  openers_[server_end.serial()] = opener;
  if (r.chance(sc_.corrupt_to_server)) proxy_end.corrupt_outgoing_at(r.below(400));
  if (r.chance(sc_.corrupt_from_server)) server_end.corrupt_outgoing_at(r.below(3000));
  int fail = 0;
  uint64_t delay = r.below(20);
  if (r.chance(sc_.refuse_later))
    fail = ECONNREFUSED;
  else if (r.chance(sc_.connect_timeout))
    fail = ETIMEDOUT, delay = timeout_ms;
  ServerPlan plan;
  plan.silent_greeting = r.chance(sc_.silent_greeting);
  plan.auth_switch = r.chance(sc_.auth_switch);
  plan.kill_at_ms = r.chance(sc_.server_kill) ? static_cast<int64_t>(r.below(500)) : -1;
  plan.kill_after_infile = r.chance(sc_.kill_after_infile);
  int64_t reset_at = r.chance(sc_.server_reset) ? static_cast<int64_t>(r.below(300)) : -1;
  size_t s = *server;
  sim_.at(delay, [this, &proxy_end, &server_end, fail, plan, reset_at, s]() mutable {
    if (proxy_end.closed()) return;  // the proxy gave up first
    if (fail == 0 && cluster_.down(s)) fail = ECONNREFUSED;
    if (fail != 0) {
      proxy_end.handler()->on_stream_connected(fail);
      return;
    }
    start_server(proxy_end, server_end, s, plan, reset_at);
  });
  err = 0;
  return &proxy_end;
}

void FakeEnv::start_server(FakeConn& proxy_end, FakeConn& server_end, size_t server, ServerPlan plan,
                           int64_t reset_at) {
  uint32_t thread_id = next_thread_id_++;
  servers_.push_back(std::make_unique<FakeServer>(*this, server, server_end, plan, thread_id));
  servers_.back()->start();
  proxy_end.set_connected();
  if (reset_at >= 0) sim_.at(static_cast<uint64_t>(reset_at), [&proxy_end] { proxy_end.reset_link(); });
  proxy_end.handler()->on_stream_connected(0);
}

void FakeEnv::lookup_credential(const proxy::CredentialQuery& query, uint64_t token,
                                proxy::CredentialCallback callback) {
  const std::string& user = query.user;
  Rng& r = sim_.rng();
  bool fail = r.chance(sc_.lookup_error);
  sim_.at(r.below(sc_.max_lookup_delay_ms + 1), [this, user, token, fail, callback = std::move(callback)] {
    auto it = sessions_.find(token);
    if (it == sessions_.end() || it->second->finished()) return;  // the client left meanwhile
    if (fail) {
      callback(Err(std::string("meta server unreachable (fake)")));
      return;
    }
    proxy::UserCredential cred;
    if (user == kUser) {
      cred.exists = true;
      cred.stage2 = protocol::native_password_stage2(kPassword);
    }
    callback(cred);
  });
}

// A liveness probe as proxy/server_prober.h makes it: a hung server lets the connect timeout pass
// without its greeting (and is noted as failed), a live one greets at once.
void FakeEnv::probe_server(const std::string& host_port, uint64_t token, std::function<void(bool alive)> callback) {
  std::optional<size_t> server = cluster_.index_of(host_port);
  bool hung = server && cluster_.hung(*server);
  uint64_t delay = hung ? sc_.config.limits.server_connect_timeout_ms : 1;
  sim_.at(delay, [this, host_port, server, token, callback = std::move(callback)] {
    bool alive = !server || !cluster_.hung(*server);
    if (!alive) note_server_failure(host_port);
    auto it = sessions_.find(token);
    if (it == sessions_.end() || it->second->finished()) return;  // the client left meanwhile
    callback(alive);
  });
}

void FakeEnv::session_finished(proxy::ClientSession* session) {
  finished_.push_back(session);
}

void FakeEnv::request_table(const std::string& /*cluster*/, const std::string& /*tenant*/, const std::string& database,
                            const std::string& table) {
  topology_.request_table(database, table);
}

void FakeEnv::mark_table_dirty(const std::string& /*cluster*/, const std::string& /*tenant*/,
                               const std::string& database, const std::string& table) {
  topology_.mark_dirty(database, table);
}

proxy::ClientSession* FakeEnv::find_session(uint32_t conn_id) {
  for (auto& [token, s] : sessions_)
    if (s->id() == conn_id && !s->finished()) return s.get();
  return nullptr;
}

// As ProxyWorker does, through mailboxes: the answer comes in a later event.
void FakeEnv::hold_for_kill(uint32_t conn_id, bool query_only, const proxy::KillAuthority& killer, uint64_t requester,
                            proxy::KillHoldCallback callback) {
  sim_.at(sim_.rng().below(3), [this, conn_id, query_only, killer, requester,
                                callback = std::move(callback)]() mutable {
    std::optional<proxy::KillHold> hold;
    if (published_.count(conn_id) != 0) {
      if (proxy::ClientSession* s = find_session(conn_id)) {
        auto phase = s->phase();
        size_t held = s->server_connection_count();
        hold = s->hold_for_kill(query_only, killer);
        static const bool trace = std::getenv("ODP_FAKE_IO_TRACE") != nullptr;
        if (trace) {
          std::fprintf(stderr, "%llu ms: KILL%s holds session %u: phase %d server '%s' thread %u pin %llu held %zu\n",
                       static_cast<unsigned long long>(sim_.now_ms()), query_only ? " QUERY" : "", conn_id,
                       static_cast<int>(phase), hold->server.c_str(), hold->server_thread_id,
                       static_cast<unsigned long long>(hold->pin), held);
        }
      }
    }
    sim_.at(sim_.rng().below(3), [this, conn_id, requester, hold = std::move(hold), callback = std::move(callback)] {
      auto it = sessions_.find(requester);
      if (it == sessions_.end() || it->second->finished()) {
        // The requester left meanwhile: the target need not hold its connection.
        if (hold && !hold->server.empty()) release_kill_hold(conn_id, hold->pin, proxy::KillOutcome::not_sent);
        return;
      }
      callback(hold);
    });
  });
}

void FakeEnv::release_kill_hold(uint32_t conn_id, uint64_t pin, proxy::KillOutcome outcome) {
  if (published_.count(conn_id) == 0) return;
  sim_.at(sim_.rng().below(3), [this, conn_id, pin, outcome] {
    if (proxy::ClientSession* s = find_session(conn_id)) s->release_kill_hold(pin, outcome);
  });
}

Attribution FakeEnv::running_on(const std::string& host_port, uint32_t thread_id) {
  for (const auto& [token, s] : sessions_) {
    auto phase = s->phase();
    if (phase != proxy::ClientSession::Phase::command && phase != proxy::ClientSession::Phase::upload) continue;
    proxy::SessionLocation where = s->location();
    if (where.server != host_port || where.server_thread_id != thread_id) continue;
    Attribution a;
    a.client = s->id();
    a.replaying = s->replaying_under_command();
    if (a.client >= 1 && a.client <= clients_.size() && clients_[a.client - 1])
      a.solo = clients_[a.client - 1]->solo_tag();
    return a;
  }
  return {};
}

uint32_t FakeEnv::held_by(const std::string& host_port, uint32_t thread_id) {
  for (const auto& [token, s] : sessions_)
    if (!s->finished() && s->holds_server_thread(host_port, thread_id)) return s->id();
  return 0;
}

void FakeEnv::after_event() {
  // Like ProxyWorker's idle hook: sessions reaped outside their callbacks, the pool's hand-offs
  // and time-outs delivered, idle connections expired.
  auto reap = [this] {
    for (proxy::ClientSession* s : finished_) sessions_.erase(s->token());
    finished_.clear();
  };
  reap();
  if (!pool_) return;
  pool_->run_wakeups(sim_.now_ms());
  if (sim_.now_ms() >= next_expiry_ms_) {
    pool_->expire(sim_.now_ms(), sc_.config.pool.idle_timeout_ms);
    next_expiry_ms_ = sim_.now_ms() + 1000;
  }
  reap();
  if (!tick_pending_ && (pool_->waiting_count() > 0 || pool_->idle_count() > 0)) {
    tick_pending_ = true;
    sim_.at(kPoolTickMs, [this] { tick_pending_ = false; });
  }
}

void FakeEnv::schedule_events() {
  for (const ClusterEvent& e : sc_.events) {
    sim_.at(e.at_ms, [this, e] {
      switch (e.kind) {
        case ClusterEvent::Kind::leader_move:
          cluster_.move_leader(e.partition, e.server % cluster_.size());
          topology_.refresh_later();
          break;
        case ClusterEvent::Kind::death:
          cluster_.kill_server(e.server, e.duration_ms);
          // Its partitions elect other leaders a little later.
          sim_.at(e.duration_ms / 2, [this, dead = e.server] {
            for (int p = 0; p < kPartitions; ++p) {
              if (cluster_.leader(p) == dead)
                cluster_.move_leader(p, (dead + 1 + static_cast<size_t>(p) % 2) % cluster_.size());
            }
            topology_.refresh_later();
          });
          break;
        case ClusterEvent::Kind::hang:
          cluster_.hang_server(e.server, e.duration_ms);
          break;
      }
    });
  }
}

std::string FakeEnv::run_until_quiet(const char* stage) {
  while (sim_.step()) {
    if (sim_.events_run() > kMaxEvents || sim_.now_ms() > kMaxVirtualMs) {
      return std::string("no quiescence (") + stage + "): events=" + std::to_string(sim_.events_run()) +
             " virtual_ms=" + std::to_string(sim_.now_ms());
    }
  }
  return "";
}

bool FakeEnv::corrupted() const {
  for (const auto& c : conns_)
    if (c->corrupted_something()) return true;
  return false;
}

const FakeConn* FakeEnv::proxy_end_of(uint64_t server_end_serial) const {
  auto it = server_ends_.find(server_end_serial);
  return it == server_ends_.end() ? nullptr : it->second->peer();
}

std::string FakeEnv::check_clients(bool corrupted) {
  for (size_t i = 0; i < clients_.size(); ++i) {
    const FakeClient& c = *clients_[i];
    const ClientScenario& cs = sc_.clients[i];
    std::string who = "client " + std::to_string(i + 1) + ": ";
    using S = FakeClient::State;
    if (c.state() != S::closed && c.state() != S::idle) {
      return who + "stuck in state " + std::to_string(static_cast<int>(c.state())) + " at quiescence (hang)";
    }
    if (!corrupted) {
      if (!c.failure().empty()) return c.failure();
      if (!c.frame_seq_error().empty()) return who + c.frame_seq_error();
    }
    if (sc_.faulty) continue;
    // Only a client some KILL named may lose its statement or its session to it.
    bool killed = kill_targets_.count(c.id()) != 0;
    if (cs.expect_auth_failure) {
      if (c.logged_in() || c.login_error() != protocol::errc::ER_ACCESS_DENIED_ERROR) {
        return who + "expected ERR 1045 at login, got " + std::to_string(c.login_error());
      }
      continue;
    }
    if (!c.logged_in() && !killed) return who + "login failed without faults: error " + std::to_string(c.login_error());
    if (!c.logged_in()) continue;
    if (c.steps_done() != cs.plan.script.size() && !killed) return who + "script not completed without faults";
    if (c.truncated() && !killed) return who + "an answer was cut off without faults";
    if (c.state() == S::idle && cs.plan.quit_at_end) return who + "never saw the proxy close after COM_QUIT";
  }
  return "";
}

std::string FakeEnv::check_shutdown() {
  if (!sessions_.empty()) return "sessions left after shutdown";
  if (stats_.client_connections.load() != 0) {
    return "client_connections gauge " + std::to_string(stats_.client_connections.load()) + " after all ended";
  }
  if (stats_.server_connections.load() != 0) {
    return "server_connections gauge " + std::to_string(stats_.server_connections.load()) + " after all ended";
  }
  if (pool_->idle_count() != 0 || pool_->waiting_count() != 0) return "pool not empty after all ended";
  if (sim_.timers().armed_count() != 0) return "timers still armed after all ended";
  if (!sim_.violation().empty()) return "Conn contract broken: " + sim_.violation();
  if (sim_.held_count() != 0) return std::to_string(sim_.held_count()) + " receive buffers never given back";
  for (FakeConn* c : proxy_conns_) {
    if (!c->closed()) return "proxy never closed its conn " + c->name();
  }
  for (const auto& c : clients_) {
    if (c->state() != FakeClient::State::closed) return "a client never saw its connection end";
  }
  return "";
}

std::string FakeEnv::run() {
  clients_.resize(sc_.clients.size());
  for (size_t i = 0; i < sc_.clients.size(); ++i) {
    sim_.at(sc_.clients[i].start_ms, [this, i] { accept_client(i); });
  }
  schedule_events();
  if (const char* at = std::getenv("ODP_FAKE_IO_DUMP_AT"); at != nullptr) {
    // Triage: every session's state at a virtual time.
    sim_.at(std::strtoull(at, nullptr, 10), [this] {
      std::fprintf(stderr, "state at %llu ms:%s\n", static_cast<unsigned long long>(sim_.now_ms()),
                   sessions_summary().c_str());
    });
  }
  if (sc_.drain_at_ms >= 0) {
    sim_.at(static_cast<uint64_t>(sc_.drain_at_ms), [this] {
      for (const auto& [token, s] : sessions_) s->begin_drain();
    });
    // Half the drains reach listen.drain_timeout_ms with sessions left: each is closed there (ERR
    // 1053 where its client can read one). (Derived from drain_at, not drawn: the seeds' other
    // draws stay as they were.) The statements cut are not killed here: the fake server sees
    // their connections close.
    if (sc_.drain_at_ms % 2 == 0) {
      sim_.at(static_cast<uint64_t>(sc_.drain_at_ms + 50 + sc_.drain_at_ms * 7 % 400), [this] {
        std::vector<proxy::ClientSession*> all;
        for (const auto& [token, s] : sessions_) all.push_back(s.get());
        for (proxy::ClientSession* s : all) (void)s->expire_drain();
      });
    }
  }
  if (auto e = run_until_quiet("scenario"); !e.empty()) return e;
  const bool corrupt = corrupted();
  if (!corrupt && !cluster_.violation().empty()) return cluster_.violation();
  for (const auto& [token, s] : sessions_) {
    if (s->phase() != proxy::ClientSession::Phase::ready) {
      return "session " + std::to_string(s->id()) + " alive at quiescence in phase " +
             std::to_string(static_cast<int>(s->phase()));
    }
  }
  if (!sc_.faulty) {
    // Fixed (a waiting session holds no connection it could give back): no longer tolerated.
    if (int64_t timeouts = stats_.pool_wait_timeouts_total.load(); timeouts != 0) {
      KnownIssues::counts().pool_wait_timeouts_without_faults += static_cast<uint64_t>(timeouts);
      return std::to_string(timeouts) + " pool wait(s) timed out without faults (pool.max_wait_ms)";
    }
  }
  if (auto e = check_clients(corrupt); !e.empty()) return e;
  if (!sc_.faulty) {
    int64_t auth_failures = 0;
    for (const auto& c : sc_.clients) auth_failures += c.expect_auth_failure ? 1 : 0;
    // (odp counts a COM_CHANGE_USER that a KILL cut short with ERR 1927 as an auth failure.)
    bool kill_flew = !kill_targets_.empty();
    if (stats_.client_auth_failures_total.load() != auth_failures && !kill_flew) {
      return "client_auth_failures_total=" + std::to_string(stats_.client_auth_failures_total.load()) + ", expected " +
             std::to_string(auth_failures);
    }
    // A KILL that hits its target aborts its connection.
    bool kills = !kill_targets_.empty();
    if (stats_.client_protocol_errors_total.load() != 0 || stats_.server_protocol_errors_total.load() != 0 ||
        (stats_.server_aborts_total.load() != 0 && !kills)) {
      return "protocol error or abort counted without faults";
    }
  }
  // Shut down what is left, as ProxyWorker::shutdown_sessions does.
  std::vector<proxy::ClientSession*> alive;
  for (const auto& [token, s] : sessions_) alive.push_back(s.get());
  for (proxy::ClientSession* s : alive) s->terminate("fake-io shutdown");
  for (proxy::ClientSession* s : finished_) sessions_.erase(s->token());
  finished_.clear();
  pool_->close_all();
  pool_->run_wakeups(sim_.now_ms());
  if (auto e = run_until_quiet("shutdown"); !e.empty()) return e;
  if (auto e = check_shutdown(); !e.empty()) return e;
  if (corrupt) return "";
  if (!cluster_.violation().empty()) return cluster_.violation();
  std::vector<const ClientModel*> models;
  for (const auto& c : clients_) models.push_back(&c->model());
  return check_writes(cluster_, models, [this](uint64_t serial) { return proxy_end_of(serial); });
}

std::string FakeEnv::sessions_summary() {
  std::string out;
  for (const auto& [token, s] : sessions_) {
    proxy::SessionLocation where = s->location();
    out += "\n  session " + std::to_string(s->id()) + " phase=" + std::to_string(static_cast<int>(s->phase())) +
           " held=" + std::to_string(s->server_connection_count()) + " ties=\"" + s->model().ties().reason() +
           "\" server=" + where.server + " thread=" + std::to_string(where.server_thread_id);
  }
  if (pool_) {
    out +=
        "\n  pool idle=" + std::to_string(pool_->idle_count()) + " waiting=" + std::to_string(pool_->waiting_count());
    for (size_t i = 0; i < cluster_.size(); ++i) {
      proxy::ServerId sid = directory_.find(cluster_.host_port(i));
      if (sid != proxy::kNoServer) out += " open[" + std::to_string(i) + "]=" + std::to_string(pool_->open_count(sid));
    }
  }
  return out;
}

std::string FakeEnv::stats_summary() {
  int64_t values[core::kStatCount];
  core::read_stats(stats_, values);
  std::string out;
  for (size_t i = 0; i < core::kStatCount; ++i) {
    if (values[i] != 0 && std::string_view(core::kStatInfo[i].name).find("bytes") == std::string_view::npos) {
      out += std::string(core::kStatInfo[i].name) + "=" + std::to_string(values[i]) + " ";
    }
  }
  return out + "virtual_ms=" + std::to_string(sim_.now_ms()) + " events=" + std::to_string(sim_.events_run()) +
         " answers=" + std::to_string(records_.answers()) +
         " leader_changes=" + std::to_string(cluster_.leader_changes()) +
         " deaths=" + std::to_string(cluster_.deaths()) + " hangs=" + std::to_string(cluster_.hangs()) +
         " snapshots=" + std::to_string(topology_.publications());
}

std::array<int64_t, core::kStatCount>& stat_totals() {
  static std::array<int64_t, core::kStatCount> totals{};
  return totals;
}

std::string totals_summary() {
  std::string out;
  for (size_t i = 0; i < core::kStatCount; ++i) {
    out += std::string(core::kStatInfo[i].name) + "=" + std::to_string(stat_totals()[i]) + "\n";
  }
  return out;
}

std::string run_seed(uint64_t seed) {
  Scenario sc = make_scenario(seed);
  std::string failure;
  {
    FakeEnv env(sc);
    failure = env.run();
    int64_t values[core::kStatCount];
    core::read_stats(env.stats(), values);
    for (size_t i = 0; i < core::kStatCount; ++i) stat_totals()[i] += values[i];
    if (!failure.empty()) failure += "\n  stats: " + env.stats_summary() + env.sessions_summary();
  }
  if (failure.empty()) return "";
  return failure + "\n  " + sc.describe();
}

}  // namespace odp::fakeio
