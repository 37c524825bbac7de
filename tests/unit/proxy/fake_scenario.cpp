// Scenarios: everything a seed decides before the run (configuration, links, faults, the cluster's
// events, the clients and their scripts).
#include <algorithm>
#include <sstream>

#include "tests/unit/proxy/fake_known_issues.h"
#include "tests/unit/proxy/fake_world.h"

namespace odp::fakeio {

namespace {

LinkParams random_link(Rng& r, bool big) {
  LinkParams p;
  static constexpr uint32_t kChunks[] = {1, 3, 64, 1500, 16384, 65536};
  static constexpr size_t kWindows[] = {64, 1024, 16384, 262144, 4u << 20};
  p.max_chunk_bytes = big ? 65536 : kChunks[r.below(6)];
  p.window_bytes = big ? (4u << 20) : kWindows[r.below(5)];
  p.max_delay_ms = static_cast<uint32_t>(r.chance(200) ? r.range(0, 40) : r.range(0, 3));
  return p;
}

admin::Config base_config(const std::string& first_server) {
  admin::Config cfg;
  admin::ClusterConfig cluster;
  cluster.name = kClusterName;
  cluster.server_mode = admin::ServerMode::mysql;
  cluster.rootservice_list = {first_server};
  cluster.default_tenant = kTenant;
  cfg.clusters.push_back(cluster);
  cfg.default_cluster = kClusterName;
  return cfg;
}

size_t client_count(Rng& r) {
  uint64_t p = r.below(100);
  if (p < 55) return 2 + r.below(5);  // 2..6
  if (p < 88) return 7 + r.below(6);  // 7..12
  return 13 + r.below(8);             // 13..20
}

void add_faults(Rng& r, Scenario& sc) {
  // One or two kinds of trouble per seed, each on a share of the connections.
  int kinds = 1 + static_cast<int>(r.below(2));
  for (int k = 0; k < kinds; ++k) {
    switch (r.below(14)) {
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
        sc.kill_after_infile = 300;
        break;
      case 9:
        sc.drain_at_ms = static_cast<int64_t>(r.below(500));
        break;
      case 10:
      case 11: {
        // Servers die (their connections reset, connects refused for a while) and come back.
        size_t n = 1 + r.below(2);
        for (size_t i = 0; i < n; ++i) {
          ClusterEvent e;
          e.kind = ClusterEvent::Kind::death;
          e.at_ms = r.below(3000);
          e.server = r.below(sc.servers);
          e.duration_ms = r.range(100, 5000);
          sc.events.push_back(e);
        }
        break;
      }
      case 12: {
        // A server stops answering for a while (accepts, reads, says nothing), then goes on.
        ClusterEvent e;
        e.kind = ClusterEvent::Kind::hang;
        e.at_ms = r.below(3000);
        e.server = r.below(sc.servers);
        e.duration_ms = r.range(200, 12000);
        sc.events.push_back(e);
        break;
      }
      default:
        break;  // client-side faults only
    }
  }
}

}  // namespace

std::string Scenario::describe() const {
  std::ostringstream o;
  o << "seed=" << seed << " faulty=" << faulty << " clients=" << clients.size() << " servers=" << servers
    << " pool_cap=" << config.pool.max_server_connections << " pool_wait=" << config.pool.max_wait_ms
    << " pool_idle=" << config.pool.idle_timeout_ms << " topology=" << topology.enabled
    << " table_known=" << topology.table_known << " meta_delay=" << topology.max_delay_ms
    << " primary_zone=" << topology.primary_zone << " handshake_timeout=" << config.limits.client_handshake_timeout_ms
    << " connect_timeout_ms=" << config.limits.server_connect_timeout_ms
    << " query_timeout=" << config.limits.server_query_timeout_ms
    << " idle_timeout=" << config.limits.client_idle_timeout_ms
    << " high_watermark=" << config.limits.max_output_buffer_bytes << " refuse_now=" << refuse_now
    << " refuse_later=" << refuse_later << " connect_timeout=" << connect_timeout
    << " silent_greeting=" << silent_greeting << " server_reset=" << server_reset
    << " corrupt_to_server=" << corrupt_to_server << " corrupt_from_server=" << corrupt_from_server
    << " lookup_error=" << lookup_error << " server_kill=" << server_kill << " drain_at=" << drain_at_ms;
  for (const auto& e : events) {
    static const char* kKinds[] = {"leader_move", "death", "hang"};
    o << "\n  event " << kKinds[static_cast<int>(e.kind)] << " at=" << e.at_ms << " server=" << e.server
      << " partition=" << e.partition << " for=" << e.duration_ms;
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    const auto& c = clients[i];
    o << "\n  client " << (i + 1) << " user=" << c.plan.user << " compress=" << c.plan.compress
      << " deprecate_eof=" << c.plan.deprecate_eof << " session_track=" << c.plan.session_track
      << " other_plugin=" << c.plan.other_plugin << " db=" << c.plan.database << " pipeline=" << c.plan.pipeline
      << " loose_seq=" << c.plan.loose_inner_seq << " stall=" << c.plan.stall_login << " quit=" << c.plan.quit_at_end
      << " vanish_after=" << static_cast<int64_t>(c.plan.vanish_after_bytes) << " reset_at=" << c.reset_at_ms
      << " corrupt_to_proxy=" << static_cast<int64_t>(c.corrupt_to_proxy_at)
      << " corrupt_to_client=" << static_cast<int64_t>(c.corrupt_to_client_at)
      << " chunks=" << c.to_proxy.max_chunk_bytes << "/" << c.to_client.max_chunk_bytes << " start=" << c.start_ms
      << " script=";
    for (const Step& s : c.plan.script) o << step_name(s.kind) << "(" << s.a << "," << s.b << ") ";
  }
  return o.str();
}

Scenario make_scenario(uint64_t seed) {
  Scenario sc;
  sc.seed = seed;
  Rng r(seed ^ 0x5EEDF00Dull);
  sc.faulty = r.chance(600);
  bool big = r.chance(10);
  sc.config = base_config("10.0.1.1:2881");
  admin::Config& cfg = sc.config;
  // The login includes a server connection, which may wait in line for the pool.
  cfg.limits.client_handshake_timeout_ms =
      static_cast<uint32_t>(sc.faulty ? r.range(500, 5000) : r.range(300000, 600000));
  // It bounds TCP connect plus the whole login, and odp's own statements (replay, read-back):
  // without faults it must not fire on a slow link.
  cfg.limits.server_connect_timeout_ms = static_cast<uint32_t>(sc.faulty ? r.range(300, 3000) : r.range(20000, 60000));
  bool query_timeout = sc.faulty || r.chance(300);
  // Without faults the timeouts must never fire: a slow link (1-byte chunks, 40 ms delays) may
  // take many virtual seconds over one result, and sessions wait in line for connections.
  cfg.limits.server_query_timeout_ms =
      query_timeout ? static_cast<uint32_t>(sc.faulty ? r.range(1500, 8000) : r.range(300000, 600000)) : 0;
  if (big) cfg.limits.server_query_timeout_ms = query_timeout ? 600000 : 0;
  if (sc.faulty)
    cfg.limits.client_idle_timeout_ms = static_cast<uint32_t>(r.range(2000, 30000));
  else
    cfg.limits.client_idle_timeout_ms = r.chance(500) ? 0 : static_cast<uint32_t>(r.range(60000, 120000));
  static constexpr uint32_t kWatermarks[] = {256, 4096, 65536, 1u << 20};
  cfg.limits.max_output_buffer_bytes = kWatermarks[r.below(4)];
  cfg.protocol.compression_to_client = r.chance(800);
  // A small pool: sessions share connections and wait in line for them.
  cfg.pool.max_server_connections = static_cast<uint32_t>(r.range(1, 4));
  cfg.pool.max_wait_ms = static_cast<uint32_t>(sc.faulty ? r.range(2000, 20000) : r.range(5000, 30000));
  // Without faults no wait may time out (the run fails on one): with a cap of 1 and a session
  // tied to that connection on a slow link, others wait their turn for many virtual seconds, so
  // the bound is as generous as the query timeout's (a wait that never ends still ends the run).
  if (!sc.faulty) cfg.pool.max_wait_ms = 600000;
  cfg.pool.idle_timeout_ms = static_cast<uint32_t>(r.chance(300) ? r.range(200, 2000) : r.range(5000, 60000));
  cfg.pool.max_idle_per_server = r.chance(200) ? 1 : 128;

  sc.topology.enabled = r.chance(900);
  sc.topology.table_known = r.chance(500);
  sc.topology.max_delay_ms = r.chance(200) ? r.range(300, 1500) : r.range(0, 200);
  sc.topology.primary_zone = r.chance(200) ? "" : "z" + std::to_string(1 + r.below(sc.servers));
  // Leaders move now and then (normal operation, faults or not).
  size_t moves = r.below(4);
  for (size_t i = 0; i < moves; ++i) {
    ClusterEvent e;
    e.kind = ClusterEvent::Kind::leader_move;
    e.at_ms = r.below(4000);
    e.partition = static_cast<int>(r.below(kPartitions));
    e.server = r.below(sc.servers);
    sc.events.push_back(e);
  }

  sc.to_server = random_link(r, big);
  sc.from_server = random_link(r, big);
  sc.auth_switch = r.chance(200) ? 1000 : 0;
  sc.max_lookup_delay_ms = static_cast<uint32_t>(r.range(0, 50));
  if (sc.faulty) add_faults(r, sc);
  // A client whose server connects fail learns it at login only when a server accepts each login
  // first; with the connect at the first statement, that statement's odp-made ERR would take the
  // place of a server answer the transcript checks. (Set after the draws: seeds stay as they were.)
  if (sc.refuse_now != 0 || sc.refuse_later != 0 || sc.connect_timeout != 0 || sc.silent_greeting != 0)
    sc.config.pool.connect_on_first_statement = false;
  const bool kills = r.chance(300);
  sc.kills = kills;
  const size_t n = client_count(r);
  for (size_t i = 0; i < n; ++i) {
    ClientScenario c;
    c.start_ms = r.below(30 + 20 * n);
    c.to_proxy = random_link(r, big);
    c.to_client = random_link(r, big);
    ClientPlan& p = c.plan;
    p.compress = r.chance(250);
    p.deprecate_eof = r.chance(500);
    p.session_track = r.chance(400);
    p.other_plugin = r.chance(200);
    if (r.chance(300)) p.database = kDatabases[r.below(3)];
    p.quit_at_end = r.chance(700);
    p.pipeline = r.chance(300);
    p.loose_inner_seq = p.compress && r.chance(500);
    if (r.chance(30)) {
      p.user = "nobody";
      c.expect_auth_failure = true;
    } else if (r.chance(30)) {
      p.password = "wrong";
      c.expect_auth_failure = true;
    }
    ScriptOptions so;
    so.client = static_cast<uint32_t>(i + 1);
    so.clients = static_cast<uint32_t>(n);
    so.steps = r.range(2, 20);
    so.big = big && i == 0;
    so.sleep_forever = sc.faulty && cfg.limits.server_query_timeout_ms != 0 && !big;
    so.kills = kills;
    p.script = random_script(r, so);
    bool tiny = c.to_proxy.max_chunk_bytes <= 3 || c.to_client.max_chunk_bytes <= 3 ||
                sc.to_server.max_chunk_bytes <= 3 || sc.from_server.max_chunk_bytes <= 3;
    for (Step& s : p.script) {
      if (s.kind == StepKind::select && tiny && s.a >= 100) s.a %= 30;
      // A client that stays connected at the end keeps what ties it to a connection for good: the
      // others would wait for that connection forever.
      if (!p.quit_at_end && (s.kind == StepKind::create_temp || s.kind == StepKind::call_make_temp))
        s.kind = StepKind::read_row;
    }
    if (sc.faulty) {
      switch (r.below(6)) {
        case 0:
          c.reset_at_ms = static_cast<int64_t>(r.below(3000));
          break;
        case 1:
          c.corrupt_to_proxy_at = r.below(2000);
          break;
        case 2:
          c.corrupt_to_client_at = r.below(6000);
          break;
        case 3:
          p.vanish_after_bytes = 1 + r.below(6000);
          break;
        case 4:
          p.stall_login = r.chance(300);
          break;
        default:
          break;
      }
    }
    sc.clients.push_back(std::move(c));
  }
  return sc;
}

Scenario quiet_scenario(uint64_t seed, std::vector<Step> script) {
  Scenario sc;
  sc.seed = seed;
  sc.config = base_config("10.0.1.1:2881");
  sc.config.limits.client_idle_timeout_ms = 0;
  sc.config.limits.max_output_buffer_bytes = 65536;
  sc.config.pool.max_server_connections = 4;
  sc.config.pool.max_wait_ms = 600000;
  sc.topology.enabled = false;
  LinkParams fast;
  fast.max_chunk_bytes = 65536;
  fast.window_bytes = 1u << 20;
  sc.to_server = sc.from_server = fast;
  ClientScenario c;
  c.to_proxy = c.to_client = fast;
  for (Step& s : script) {
    if (s.kind == StepKind::select && s.a == 0) s.a = 7;
  }
  c.plan.script = std::move(script);
  sc.clients.push_back(std::move(c));
  return sc;
}

}  // namespace odp::fakeio
