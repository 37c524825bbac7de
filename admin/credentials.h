#pragma once
// Stored password hashes of backend users, for server_mode "mysql": the proxy checks a client's
// mysql_native_password scramble against SHA1(SHA1(password)) and recovers SHA1(password) to log
// in to servers. The hashes come from the cluster's [cluster.NAME.users] table, else from
// mysql.user on the first reachable server of rootservice_list, read with the meta account.
//
// Blocking (a metadata query can take up to the connect + read timeouts): control thread only.
// Thread-safe; the network query runs outside the lock.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "admin/config.h"
#include "base/result.h"

namespace odp::admin {

inline constexpr const char* kNativePasswordPlugin = "mysql_native_password";
// Credential::plugin of an account whose authentication_string is no usable hash (e.g. MariaDB's
// "invalid" for accounts that log in by unix socket only): it exists but cannot log in through odp.
inline constexpr const char* kInvalidHashPlugin = "invalid_authentication_string";

struct Credential {
  bool exists = false;               // false: no such user (log-in refused as a wrong password would be)
  bool empty_password = false;       // the account has no password (stage2 is all zero)
  std::array<uint8_t, 20> stage2{};  // SHA1(SHA1(password))
  // kNativePasswordPlugin when stage2 is usable; any other value: the account exists but odp
  // cannot verify its password (another auth plugin), so the log-in must be refused with a reason.
  std::string plugin;
};

// One mysql.user row as the metadata query returns it.
struct UserRow {
  std::string host;
  std::string authentication_string;
  std::string plugin;
};

// "*" + 40 hex digits (either case) -> 20 bytes.
Result<std::array<uint8_t, 20>, std::string> parse_stage2(std::string_view text);

// A credential from a [cluster.NAME.users] value ("*HEX" or "" for no password).
Result<Credential, std::string> credential_from_config(std::string_view stage2_text);

// Chooses among a user's mysql.user rows (one per host): host '%' first, then the others in host
// order, preferring rows that use mysql_native_password (or no plugin). No rows: exists = false.
Credential credential_from_rows(std::vector<UserRow> rows);

// The SQL that reads a user's rows; `escaped_user` must already be escaped for a quoted literal.
std::string user_rows_query(std::string_view escaped_user);

// The meta account's login name on the wire: in mysql mode "proxyro@sys" becomes "proxyro"
// (MySQL servers know no tenants); in oceanbase mode it is used as written.
std::string meta_login_user(const ClusterConfig& cluster);

struct CredentialStoreOptions {
  std::chrono::milliseconds positive_ttl{10000};  // a found user is trusted this long
  std::chrono::milliseconds negative_ttl{2000};   // "no such user" is remembered this long
  std::chrono::milliseconds error_ttl{1000};      // an unreachable cluster is not asked again for this long
  size_t max_entries = 10000;                     // past it, expired then oldest entries are dropped
  unsigned connect_timeout_s = 3;
  unsigned read_timeout_s = 3;
};

class CredentialStore {
 public:
  // Reads a user's rows from the cluster; an error means the metadata could not be read.
  using Fetcher = std::function<Result<std::vector<UserRow>, std::string>(const ClusterConfig&, const std::string&)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  CredentialStore() : CredentialStore(CredentialStoreOptions{}) {}
  // Empty `fetcher` / `clock`: libmariadb against the cluster / std::chrono::steady_clock.
  explicit CredentialStore(CredentialStoreOptions options, Fetcher fetcher = {}, Clock clock = {});

  // exists = false when the user does not exist; an error string when the metadata is unreachable.
  Result<Credential, std::string> lookup(const ClusterConfig& cluster, const std::string& user);
  // Forgets a cached answer (e.g. after a server refused the recovered password).
  void invalidate(const std::string& cluster, const std::string& user);
  void clear();
  size_t cached_entries() const;

 private:
  struct Entry {
    bool failed = false;
    Credential credential;
    std::string error;
    std::chrono::steady_clock::time_point expires;
  };
  void store(const std::string& key, Entry entry, std::chrono::steady_clock::time_point now);

  CredentialStoreOptions options_;
  Fetcher fetcher_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> cache_;
};

// The default fetcher: connects over TCP with the meta account to each rootservice_list entry in
// turn until one answers, then reads mysql.user.
Result<std::vector<UserRow>, std::string> fetch_user_rows(const ClusterConfig& cluster, const std::string& user,
                                                          unsigned connect_timeout_s, unsigned read_timeout_s);

}  // namespace odp::admin
