#pragma once
// Stored password hashes of backend users, for server_mode "mysql": the proxy checks a client's
// mysql_native_password scramble against SHA1(SHA1(password)) and recovers SHA1(password) to log
// in to servers. The hashes come from the cluster's [cluster.NAME.users] table, else from
// mysql.user on the first reachable server of rootservice_list, read with the meta account, and
// are remembered for the cluster's refresh_interval_ms (the rules are in credential_cache.h).
//
// cached() never blocks and is what workers call; the rest may wait for the cluster (up to the
// connect + read timeouts) and run on job threads. Thread-safe; queries run outside the lock.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/config.h"
#include "admin/credential.h"
#include "admin/credential_cache.h"
#include "base/result.h"

namespace odp::admin {

// One mysql.user row as odp needs it.
struct UserRow {
  std::string host;
  std::string authentication_string;
  std::string plugin;
  bool locked = false;
  bool password_expired = false;  // expired by hand or by its lifetime, at the server's clock
};

// The dialects of the account query, tried in this order until one is accepted: MariaDB 10.4+
// (mysql.user joined with mysql.global_priv, whose JSON holds the lock and the password's age),
// MySQL 5.7+ (all in mysql.user), and the bare columns any server has (no lock, no expiry known).
enum class UserQueryDialect { mariadb, mysql, bare };
inline constexpr UserQueryDialect kUserQueryDialects[] = {UserQueryDialect::mariadb, UserQueryDialect::mysql,
                                                          UserQueryDialect::bare};

// The SQL that reads a user's rows; `escaped_user` must already be escaped for a quoted literal.
// The mariadb and mysql forms return, after host, authentication_string and plugin: the
// password_expired flag, the lock, the password's last change (unix seconds), its lifetime in
// days, the server's default_password_lifetime and its clock (UNIX_TIMESTAMP()).
std::string user_rows_query(std::string_view escaped_user, UserQueryDialect dialect = UserQueryDialect::bare);

// One row of user_rows_query's answer (NULL columns as nullopt) -> what the row says, with the
// lock and the expiry decided as the server decides them at login.
UserRow user_row_from_columns(const std::vector<std::optional<std::string>>& columns, UserQueryDialect dialect);

// "*" + 40 hex digits (either case) -> 20 bytes.
Result<std::array<uint8_t, 20>, std::string> parse_stage2(std::string_view text);

// A credential from a [cluster.NAME.users] value ("*HEX" or "" for no password).
Result<Credential, std::string> credential_from_config(std::string_view stage2_text);

// Chooses among a user's mysql.user rows (one per host): host '%' first, then the others in host
// order, preferring rows that use mysql_native_password (or no plugin). No rows: exists = false.
Credential credential_from_rows(std::vector<UserRow> rows);

// The meta account's login name on the wire: in mysql mode "proxyro@sys" becomes "proxyro"
// (MySQL servers know no tenants); in oceanbase mode it is used as written.
std::string meta_login_user(const ClusterConfig& cluster);

struct CredentialStoreOptions {
  CredentialCache::Options cache;  // lifetimes: the cluster's refresh_interval_ms (see credential_cache.h)
  unsigned connect_timeout_s = 3;
  unsigned read_timeout_s = 3;
};

// An answer about one user, and how much it may be trusted.
struct CredentialAnswer {
  Result<Credential, std::string> result{Credential{}};  // an error: the metadata is unreachable
  bool from_cache = false;      // not read just now: a password that does not match may be re-checked
  bool database_known = false;  // a server accepted the asked database for this user lately
};

class CredentialStore {
 public:
  // Reads a user's rows from the cluster; an error means the metadata could not be read.
  using Fetcher = std::function<Result<std::vector<UserRow>, std::string>(const ClusterConfig&, const std::string&)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  CredentialStore() : CredentialStore(CredentialStoreOptions{}) {}
  // Empty `fetcher` / `clock`: libmariadb against the cluster / std::chrono::steady_clock.
  explicit CredentialStore(CredentialStoreOptions options, Fetcher fetcher = {}, Clock clock = {});

  // Non-blocking (a short lock, never IO), for workers: the answer when memory may give it.
  // `refresh` is set for the one caller that should run refresh() off the worker.
  std::optional<CredentialAnswer> cached(const ClusterConfig& cluster, const std::string& user,
                                         const std::string& database, bool& refresh);
  // Blocking (job threads): the cached answer, else read from the cluster.
  CredentialAnswer find(const ClusterConfig& cluster, const std::string& user, const std::string& database);
  // Blocking: after a password that did not match, read again, unless it was read within
  // min_refetch (then the cached answer stands).
  CredentialAnswer recheck(const ClusterConfig& cluster, const std::string& user, const std::string& database);
  // Blocking: reads the user again and stores the answer (the background refresh).
  void refresh(const ClusterConfig& cluster, const std::string& user);
  // A server accepted `database` for `user`: logins naming it need not ask a server first.
  void note_database(const std::string& cluster, const std::string& user, const std::string& database);

  // exists = false when the user does not exist; an error string when the metadata is unreachable.
  Result<Credential, std::string> lookup(const ClusterConfig& cluster, const std::string& user) {
    return find(cluster, user, {}).result;
  }
  // Forgets a cached answer (e.g. after a server refused the recovered password).
  void invalidate(const std::string& cluster, const std::string& user);
  void clear();
  size_t cached_entries() const;

 private:
  Result<Credential, std::string> fetch(const ClusterConfig& cluster, const std::string& user);

  CredentialStoreOptions options_;
  Fetcher fetcher_;
  Clock clock_;
  mutable std::mutex mu_;
  CredentialCache cache_;
};

// The default fetcher: connects over TCP with the meta account to each rootservice_list entry in
// turn until one answers, then reads mysql.user.
Result<std::vector<UserRow>, std::string> fetch_user_rows(const ClusterConfig& cluster, const std::string& user,
                                                          unsigned connect_timeout_s, unsigned read_timeout_s);

}  // namespace odp::admin
