#pragma once
// odp's configuration, loaded from TOML (etc/odp.toml documents every key and its default).
// Loading may throw internally (toml++), but the API returns values: errors carry line numbers.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace odp::admin {

enum class ServerMode { oceanbase, mysql };
enum class ReadConsistency { strong, weak };

struct ListenConfig {
  std::string address = "0.0.0.0:2883";       // SQL clients
  std::string admin_http = "127.0.0.1:2884";  // Prometheus /metrics and /healthz; "" disables
  uint32_t workers = 0;                       // 0 = one per CPU
  uint32_t backlog = 1024;
  uint32_t drain_timeout_ms = 30000;  // SIGTERM/SIGINT: how long to wait for clients before closing them
};

struct LimitsConfig {
  uint32_t client_max_connections = 10000;       // beyond it: ERR 1040 and close
  uint64_t max_packet_bytes = 256ull << 20;      // largest logical packet (after reassembly) a client may send
  uint32_t client_idle_timeout_ms = 28800000;    // 8 h, like wait_timeout
  uint32_t client_handshake_timeout_ms = 10000;  // a client must finish TLS + login within this
  uint32_t server_connect_timeout_ms = 3000;     // TCP connect + login to a server
  // A statement running this long is stopped (KILL QUERY, the session lives on); 0 = no limit.
  // 10 minutes: long analytics still run, a statement nobody waits for any more does not hold a
  // server connection (and the pool's slot) forever.
  uint32_t server_query_timeout_ms = 600000;
  // A statement whose server sent nothing for this long makes odp check the server is alive (a
  // probe must get its greeting within server_connect_timeout_ms); 0 = never check.
  uint32_t server_silence_probe_ms = 5000;
  uint32_t max_output_buffer_bytes = 1u << 20;  // per connection; past it the peer is not read (backpressure)
  uint32_t splice_min_bytes = 128u << 10;       // a row's rest at least this long is spliced (0 = never)
};

struct ClusterConfig {
  std::string name;
  std::vector<std::string> rootservice_list;  // "127.0.0.1:3306"
  ServerMode server_mode = ServerMode::oceanbase;
  std::string meta_user = "proxyro@sys";
  std::string meta_password;
  std::string default_tenant = "sys";
  uint32_t refresh_interval_ms = 20000;
  // server_mode "mysql": user name -> stored SHA1(SHA1(password)) as in mysql.user ("*HEX", 41 chars).
  // Users not listed are looked up on the server with the meta account.
  std::map<std::string, std::string> users;
};

struct RoutingConfig {
  ReadConsistency read_consistency = ReadConsistency::strong;
  std::string route_policy = "FOLLOWER_FIRST";  // FOLLOWER_FIRST | UNMERGE_FOLLOWER_FIRST | FOLLOWER_ONLY
  std::string proxy_idc;
  std::string proxy_region;
  // A statement that never ran (its server refused the connection, or answered "not master" /
  // "not initialized" before running it) is retried on fresh locations for up to this long while
  // a new leader is elected; only then does the client see the error.
  uint32_t failover_wait_ms = 10000;
};

// Server connections: per-worker pools shared between client sessions at transaction boundaries.
struct PoolConfig {
  // Open connections per server per worker; 0 = sized from the machine (16 per CPU over all workers,
  // at least 4 per worker). Beyond it statements wait in line (FIFO) for a connection.
  uint32_t max_server_connections = 0;
  uint32_t max_wait_ms = 10000;        // a statement waits at most this long for a connection (0 = no bound)
  uint32_t max_idle_per_server = 128;  // idle connections kept per server, user and protocol dialect
  uint32_t idle_timeout_ms = 60000;    // idle pooled connections older than this are closed
  // A login odp can check alone (server_mode "mysql": cached credential, known database) gets its
  // OK at once and a server connection with its first statement; false: a server accepts every
  // login before the client's OK (for clients that fail over on a failed connect).
  bool connect_on_first_statement = true;
  // A pooled connection's global variables are of its login (or last reset). A session takes one
  // whose values are at most this much older than the session's own login without resetting it
  // first (COM_RESET_CONNECTION, a server round trip per login otherwise); a SET GLOBAL through
  // odp counts at once. 0: never older (a reset for every connection from before the login).
  uint32_t global_variables_max_age_ms = 1000;
};

struct ProtocolConfig {
  bool ob20_to_server = true;
  bool ob20_to_client = false;
  bool checksum = true;
  bool compression_to_client = true;  // accept CLIENT_COMPRESS from clients
};

struct TlsConfig {
  std::string client_cert;  // PEM; TLS towards clients is off while cert or key is unset
  std::string client_key;
  std::string client_ca;  // optional: verify client certificates against it
  std::string min_version = "TLSv1.2";
  bool enabled() const { return !client_cert.empty() && !client_key.empty(); }
};

struct AdminConfig {
  std::string proxysys_password_sha1;  // hex SHA1(password) of root@proxysys; "" = no password
  bool allow_remote = false;           // root@proxysys only from loopback/private addresses unless true
};

struct LogConfig {
  std::string level = "info";
  std::string dir;  // "" = stderr
  uint32_t slow_query_ms = 1000;
};

struct Config {
  std::string source;  // file path it came from
  ListenConfig listen;
  LimitsConfig limits;
  std::vector<ClusterConfig> clusters;  // in file order; the first is the default cluster
  std::string default_cluster;          // [proxy] default_cluster, else the first cluster's name
  RoutingConfig routing;
  PoolConfig pool;
  ProtocolConfig protocol;
  TlsConfig tls;
  AdminConfig admin;
  LogConfig log;

  const ClusterConfig* find_cluster(const std::string& name) const;
};

// One problem found in a config file, with its 1-based line (0 when the problem has no line).
struct ConfigError {
  std::string message;  // "odp.toml:12: limits.max_packet_bytes must be between 1024 and 1073741824"
  uint32_t line = 0;
};

// Parses TOML text. Unknown keys, wrong types and out-of-range values are errors (all reported).
Result<Config, std::vector<ConfigError>> parse_config(const std::string& text, const std::string& source_name);
Result<Config, std::vector<ConfigError>> load_config(const std::string& path);

// Changes one key by its dotted name, as `alter proxyconfig set routing.route_policy = 'X'` does.
// Returns an error message if the key is unknown, the value invalid, or the key cannot change live.
Result<Ok, std::string> set_config_value(Config& config, const std::string& dotted_key, const std::string& value);

// Every key with its current value as text, in a stable order (for `show proxyconfig`).
// Secrets (meta_password, proxysys_password_sha1, users' hashes) are shown as "******" when set.
std::vector<std::pair<std::string, std::string>> config_items(const Config& config);

// True when a change to this dotted key takes effect without a restart (for cluster keys use
// "cluster.NAME.key"; the cluster need not exist). Unknown keys are not live.
bool config_key_is_live(const std::string& dotted_key);

// Dotted keys whose values differ between two configs (secrets compared, never printed), in
// config_items order; a cluster present in only one of them is reported as "cluster.NAME".
std::vector<std::string> changed_config_keys(const Config& before, const Config& after);

// The subset of changed_config_keys that cannot take effect without a restart (what a SIGHUP
// reload reports instead of applying). Adding or removing a cluster counts as such a change.
std::vector<std::string> restart_required_keys(const Config& before, const Config& after);

}  // namespace odp::admin
