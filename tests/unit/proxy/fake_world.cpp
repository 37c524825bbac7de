#include "tests/unit/proxy/fake_world.h"

#include <array>
#include <cerrno>
#include <sstream>

#include "protocol/auth.h"
#include "protocol/packet.h"

namespace odp::fakeio {

namespace {
constexpr uint64_t kMaxEvents = 3'000'000;
constexpr uint64_t kMaxVirtualMs = 30ull * 60 * 1000;

LinkParams random_link(Rng& r, bool big) {
  LinkParams p;
  static constexpr uint32_t kChunks[] = {1, 3, 64, 1500, 16384, 65536};
  static constexpr size_t kWindows[] = {64, 1024, 16384, 262144, 4u << 20};
  p.max_chunk_bytes = big ? 65536 : kChunks[r.below(6)];
  p.window_bytes = big ? (4u << 20) : kWindows[r.below(5)];
  p.max_delay_ms = static_cast<uint32_t>(r.chance(200) ? r.range(0, 40) : r.range(0, 3));
  return p;
}

StepKind random_step(Rng& r, bool big, bool sleep_ok) {
  static constexpr StepKind kSteps[] = {StepKind::select,  StepKind::select,     StepKind::ok,
                                        StepKind::err,     StepKind::multi,      StepKind::infile,
                                        StepKind::ping,    StepKind::init_db,    StepKind::prepare,
                                        StepKind::execute, StepKind::stmt_close, StepKind::change_user};
  if (big && r.chance(300)) return r.chance(500) ? StepKind::big_select : StepKind::big_insert;
  if (sleep_ok && r.chance(100)) return StepKind::sleep;
  return kSteps[r.below(sizeof kSteps / sizeof kSteps[0])];
}
}  // namespace

std::string Scenario::describe() const {
  std::ostringstream o;
  o << "seed=" << seed << " faulty=" << faulty << " clients=" << clients.size()
    << " handshake_timeout=" << config.limits.client_handshake_timeout_ms
    << " query_timeout=" << config.limits.server_query_timeout_ms
    << " idle_timeout=" << config.limits.client_idle_timeout_ms
    << " high_watermark=" << config.limits.max_output_buffer_bytes << " refuse_now=" << refuse_now
    << " refuse_later=" << refuse_later << " connect_timeout=" << connect_timeout
    << " silent_greeting=" << silent_greeting << " server_reset=" << server_reset
    << " corrupt_to_server=" << corrupt_to_server << " corrupt_from_server=" << corrupt_from_server
    << " lookup_error=" << lookup_error << " server_kill=" << server_kill << " drain_at=" << drain_at_ms;
  for (const auto& c : clients) {
    o << "\n  client user=" << c.plan.user << " compress=" << c.plan.compress
      << " deprecate_eof=" << c.plan.deprecate_eof << " other_plugin=" << c.plan.other_plugin
      << " pipeline=" << c.plan.pipeline << " loose_seq=" << c.plan.loose_inner_seq << " stall=" << c.plan.stall_login
      << " quit=" << c.plan.quit_at_end << " vanish_after=" << static_cast<int64_t>(c.plan.vanish_after_bytes)
      << " reset_at=" << c.reset_at_ms << " corrupt_to_proxy=" << static_cast<int64_t>(c.corrupt_to_proxy_at)
      << " corrupt_to_client=" << static_cast<int64_t>(c.corrupt_to_client_at)
      << " chunks=" << c.to_proxy.max_chunk_bytes << "/" << c.to_client.max_chunk_bytes << " script=";
    for (StepKind k : c.plan.script) o << static_cast<int>(k) << ",";
  }
  return o.str();
}

Scenario make_scenario(uint64_t seed) {
  Scenario sc;
  sc.seed = seed;
  Rng r(seed ^ 0x5EEDF00Dull);
  sc.faulty = r.chance(600);
  bool big = r.chance(25);
  admin::Config& cfg = sc.config;
  admin::ClusterConfig cluster;
  cluster.name = "c1";
  cluster.server_mode = admin::ServerMode::mysql;
  cluster.rootservice_list = {"10.0.0.9:2881"};
  cfg.clusters.push_back(cluster);
  cfg.default_cluster = "c1";
  cfg.limits.client_handshake_timeout_ms = static_cast<uint32_t>(r.range(500, 5000));
  // It bounds TCP connect plus the whole login: without faults it must not fire on a slow link.
  cfg.limits.server_connect_timeout_ms = static_cast<uint32_t>(sc.faulty ? r.range(100, 3000) : r.range(20000, 60000));
  bool query_timeout = sc.faulty || r.chance(300);
  // Without faults the timeouts must never fire: a slow link (1-byte chunks, 40 ms delays) may
  // take many virtual seconds over one result.
  cfg.limits.server_query_timeout_ms =
      query_timeout ? static_cast<uint32_t>(sc.faulty ? r.range(1000, 8000) : r.range(120000, 300000)) : 0;
  if (big) cfg.limits.server_query_timeout_ms = query_timeout ? 600000 : 0;
  if (sc.faulty)
    cfg.limits.client_idle_timeout_ms = static_cast<uint32_t>(r.range(2000, 30000));
  else
    cfg.limits.client_idle_timeout_ms = r.chance(500) ? 0 : static_cast<uint32_t>(r.range(20000, 60000));
  static constexpr uint32_t kWatermarks[] = {256, 4096, 65536, 1u << 20};
  cfg.limits.max_output_buffer_bytes = kWatermarks[r.below(4)];
  cfg.protocol.compression_to_client = r.chance(800);

  sc.to_server = random_link(r, big);
  sc.from_server = random_link(r, big);
  sc.auth_switch = r.chance(200) ? 1000 : 0;
  sc.max_lookup_delay_ms = static_cast<uint32_t>(r.range(0, 50));
  if (sc.faulty) {
    // One or two kinds of trouble per seed, each on a share of the connections.
    int kinds = 1 + static_cast<int>(r.below(2));
    for (int k = 0; k < kinds; ++k) {
      switch (r.below(11)) {
        case 0:
          sc.refuse_now = 500;
          break;
        case 1:
          sc.refuse_later = 500;
          break;
        case 2:
          sc.connect_timeout = 500;
          break;
        case 3:
          sc.silent_greeting = 500;
          break;
        case 4:
          sc.server_reset = 600;
          break;
        case 5:
          sc.corrupt_to_server = 600;
          break;
        case 6:
          sc.corrupt_from_server = 600;
          break;
        case 7:
          sc.lookup_error = 500;
          break;
        case 8:
          sc.server_kill = 500;
          break;
        case 9:
          sc.drain_at_ms = static_cast<int64_t>(r.below(500));
          break;
        default:
          break;  // client-side faults only
      }
    }
  }
  // A client whose server connects fail learns it at login only when a server accepts each login
  // first; with the connect at the first statement, that statement's odp-made ERR would take the
  // place of a server answer the transcript checks. (Set after the draws: seeds stay as they were.)
  if (sc.refuse_now != 0 || sc.refuse_later != 0 || sc.connect_timeout != 0 || sc.silent_greeting != 0)
    cfg.pool.connect_on_first_statement = false;
  size_t n = 1 + r.below(3);
  for (size_t i = 0; i < n; ++i) {
    ClientScenario c;
    c.start_ms = r.below(30);
    c.to_proxy = random_link(r, big);
    c.to_client = random_link(r, big);
    ClientPlan& p = c.plan;
    p.compress = r.chance(250);
    p.deprecate_eof = r.chance(500);
    p.other_plugin = r.chance(200);
    if (r.chance(300)) p.database = "test";
    p.quit_at_end = r.chance(700);
    p.pipeline = r.chance(300);
    p.loose_inner_seq = p.compress && r.chance(500);
    if (r.chance(40)) {
      p.user = "nobody";
      c.expect_auth_failure = true;
    } else if (r.chance(40)) {
      p.password = "wrong";
      c.expect_auth_failure = true;
    }
    bool tiny = c.to_proxy.max_chunk_bytes <= 3 || c.to_client.max_chunk_bytes <= 3 ||
                sc.to_server.max_chunk_bytes <= 3 || sc.from_server.max_chunk_bytes <= 3;
    size_t steps = r.below(9);
    bool sleep_ok = sc.faulty && cfg.limits.server_query_timeout_ms != 0 && !big;
    for (size_t s = 0; s < steps; ++s) {
      p.script.push_back(random_step(r, big && i == 0, sleep_ok));
      uint32_t rows = static_cast<uint32_t>(r.chance(50) && !tiny ? r.range(100, 2000) : r.below(30));
      p.rows.push_back(rows);
    }
    if (sc.faulty) {
      switch (r.below(5)) {
        case 0:
          c.reset_at_ms = static_cast<int64_t>(r.below(400));
          break;
        case 1:
          c.corrupt_to_proxy_at = r.below(600);
          break;
        case 2:
          c.corrupt_to_client_at = r.below(3000);
          break;
        case 3:
          p.vanish_after_bytes = 1 + r.below(4000);
          break;
        default:
          p.stall_login = r.chance(500);
          break;
      }
    }
    sc.clients.push_back(std::move(c));
  }
  return sc;
}

Scenario quiet_scenario(uint64_t seed, std::vector<StepKind> script) {
  Scenario sc;
  sc.seed = seed;
  admin::ClusterConfig cluster;
  cluster.name = "c1";
  cluster.server_mode = admin::ServerMode::mysql;
  cluster.rootservice_list = {"10.0.0.9:2881"};
  sc.config.clusters.push_back(cluster);
  sc.config.default_cluster = "c1";
  sc.config.limits.client_idle_timeout_ms = 0;
  sc.config.limits.max_output_buffer_bytes = 65536;
  LinkParams fast;
  fast.max_chunk_bytes = 65536;
  fast.window_bytes = 1u << 20;
  sc.to_server = sc.from_server = fast;
  ClientScenario c;
  c.to_proxy = c.to_client = fast;
  c.plan.script = std::move(script);
  c.plan.rows.assign(c.plan.script.size(), 7);
  sc.clients.push_back(std::move(c));
  return sc;
}

FakeEnv::FakeEnv(const Scenario& sc) : sc_(sc), sim_(sc.seed) {
  sim_.after_event = [this] { reap(); };
}

FakeEnv::~FakeEnv() {
  // Sessions first: their destructors close the conns they still hold.
  sessions_.clear();
}

FakeConn& FakeEnv::new_conn(std::string name, LinkParams params) {
  conns_.push_back(std::make_unique<FakeConn>(sim_, std::move(name), params));
  return *conns_.back();
}

void FakeEnv::accept_client(size_t index) {
  const ClientScenario& cs = sc_.clients[index];
  LinkParams proxy_side = cs.to_client;
  proxy_side.high_watermark_bytes = sc_.config.limits.max_output_buffer_bytes;
  FakeConn& client_end = new_conn("client" + std::to_string(index), cs.to_proxy);
  FakeConn& proxy_end = new_conn("proxy-client" + std::to_string(index), proxy_side);
  FakeConn::link(client_end, proxy_end, true);
  client_end.corrupt_outgoing_at(cs.corrupt_to_proxy_at);
  proxy_end.corrupt_outgoing_at(cs.corrupt_to_client_at);
  proxy_conns_.push_back(&proxy_end);
  auto id = static_cast<uint32_t>(index + 1);
  auto& transcript = transcripts_[id];
  transcript = std::make_unique<Transcript>();
  clients_[index] = std::make_unique<FakeClient>(sim_, client_end, cs.plan, *transcript);
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

proxy::Conn* FakeEnv::connect(const std::string& /*host_port*/, uint32_t timeout_ms, core::StreamHandler* handler,
                              int& err, uint32_t opener) {
  Rng& r = sim_.rng();
  if (r.chance(sc_.refuse_now)) {
    err = ECONNREFUSED;
    return nullptr;
  }
  LinkParams proxy_side = sc_.to_server;
  proxy_side.high_watermark_bytes = sc_.config.limits.max_output_buffer_bytes;
  FakeConn& proxy_end = new_conn("proxy-server", proxy_side);
  FakeConn& server_end = new_conn("server", sc_.from_server);
  FakeConn::link(proxy_end, server_end, false);
  proxy_end.set_handler(handler);
  proxy_conns_.push_back(&proxy_end);
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
  int64_t reset_at = r.chance(sc_.server_reset) ? static_cast<int64_t>(r.below(300)) : -1;
  uint32_t thread_id = next_thread_id_++;
  sim_.at(delay, [this, &proxy_end, &server_end, fail, plan, reset_at, thread_id, opener] {
    if (proxy_end.closed()) return;  // the proxy gave up first
    if (fail != 0) {
      proxy_end.handler()->on_stream_connected(fail);
      return;
    }
    servers_.push_back(std::make_unique<FakeServer>(sim_, server_end, plan, thread_id, [this](uint32_t id) {
      auto it = transcripts_.find(id);
      return it == transcripts_.end() ? nullptr : it->second.get();
    }));
    // Without a pool a server connection serves the session that opened it.
    auto it = transcripts_.find(opener);
    if (it != transcripts_.end()) servers_.back()->set_transcript(it->second.get());
    servers_.back()->start();
    proxy_end.set_connected();
    if (reset_at >= 0) sim_.at(static_cast<uint64_t>(reset_at), [&proxy_end] { proxy_end.reset_link(); });
    proxy_end.handler()->on_stream_connected(0);
  });
  err = 0;
  return &proxy_end;
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

void FakeEnv::session_finished(proxy::ClientSession* session) {
  finished_.push_back(session);
}

void FakeEnv::reap() {
  // Like ProxyWorker::reap_sessions: destroyed after the event, never inside its own callback.
  for (proxy::ClientSession* s : finished_) sessions_.erase(s->token());
  finished_.clear();
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

std::string FakeEnv::check_clients() {
  bool corrupted = false;
  for (const auto& c : conns_) corrupted = corrupted || c->corrupted_something();
  for (size_t i = 0; i < clients_.size(); ++i) {
    const FakeClient& c = *clients_[i];
    const ClientScenario& cs = sc_.clients[i];
    std::string who = "client " + std::to_string(i) + ": ";
    using S = FakeClient::State;
    if (c.state() != S::closed && c.state() != S::idle) {
      return who + "stuck in state " + std::to_string(static_cast<int>(c.state())) + " at quiescence (hang)";
    }
    if (!corrupted) {
      std::string bad = c.check_received(sc_.faulty);
      if (!bad.empty()) return who + bad;
      if (!c.frame_seq_error().empty()) return who + c.frame_seq_error();
    }
    if (sc_.faulty) continue;
    if (cs.expect_auth_failure) {
      if (c.logged_in() || c.login_error() != protocol::errc::ER_ACCESS_DENIED_ERROR) {
        return who + "expected ERR 1045 at login, got " + std::to_string(c.login_error());
      }
      continue;
    }
    if (!c.logged_in()) return who + "login failed without faults: error " + std::to_string(c.login_error());
    if (c.steps_done() != cs.plan.script.size()) return who + "script not completed without faults";
    if (c.state() == S::idle && cs.plan.quit_at_end) return who + "never saw the proxy close after COM_QUIT";
  }
  return "";
}

std::string FakeEnv::run() {
  clients_.resize(sc_.clients.size());
  for (size_t i = 0; i < sc_.clients.size(); ++i) {
    sim_.at(sc_.clients[i].start_ms, [this, i] { accept_client(i); });
  }
  if (sc_.drain_at_ms >= 0) {
    sim_.at(static_cast<uint64_t>(sc_.drain_at_ms), [this] {
      for (const auto& [token, s] : sessions_) s->begin_drain();
    });
  }
  if (auto e = run_until_quiet("scenario"); !e.empty()) return e;
  for (const auto& [token, s] : sessions_) {
    if (s->phase() != proxy::ClientSession::Phase::ready) {
      return "session " + std::to_string(s->id()) + " alive at quiescence in phase " +
             std::to_string(static_cast<int>(s->phase()));
    }
  }
  if (auto e = check_clients(); !e.empty()) return e;
  if (!sc_.faulty) {
    int64_t auth_failures = 0;
    for (const auto& c : sc_.clients) auth_failures += c.expect_auth_failure ? 1 : 0;
    if (stats_.client_auth_failures_total.load() != auth_failures) {
      return "client_auth_failures_total=" + std::to_string(stats_.client_auth_failures_total.load()) + ", expected " +
             std::to_string(auth_failures);
    }
    if (stats_.client_protocol_errors_total.load() != 0 || stats_.server_protocol_errors_total.load() != 0 ||
        stats_.server_aborts_total.load() != 0) {
      return "protocol error or abort counted without faults";
    }
  }
  // Shut down what is left, as ProxyWorker::shutdown_sessions does.
  std::vector<proxy::ClientSession*> alive;
  for (const auto& [token, s] : sessions_) alive.push_back(s.get());
  for (proxy::ClientSession* s : alive) s->terminate("fake-io shutdown");
  reap();
  if (auto e = run_until_quiet("shutdown"); !e.empty()) return e;
  if (!sessions_.empty()) return "sessions left after shutdown";
  if (stats_.client_connections.load() != 0) {
    return "client_connections gauge " + std::to_string(stats_.client_connections.load()) + " after all ended";
  }
  if (stats_.server_connections.load() != 0) {
    return "server_connections gauge " + std::to_string(stats_.server_connections.load()) + " after all ended";
  }
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

std::string FakeEnv::stats_summary() {
  int64_t values[core::kStatCount];
  core::read_stats(stats_, values);
  std::string out;
  for (size_t i = 0; i < core::kStatCount; ++i) {
    if (values[i] != 0 && std::string_view(core::kStatInfo[i].name).find("bytes") == std::string_view::npos) {
      out += std::string(core::kStatInfo[i].name) + "=" + std::to_string(values[i]) + " ";
    }
  }
  return out + "virtual_ms=" + std::to_string(sim_.now_ms()) + " events=" + std::to_string(sim_.events_run());
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
    if (!failure.empty()) failure += "\n  stats: " + env.stats_summary();
  }
  if (failure.empty()) return "";
  return failure + "\n  " + sc.describe();
}

}  // namespace odp::fakeio
