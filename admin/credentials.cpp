#include "admin/credentials.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "admin/address.h"
#include "admin/meta_connection.h"
#include "base/log.h"

namespace odp::admin {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool native_plugin(std::string_view plugin) {
  return plugin.empty() || plugin == kNativePasswordPlugin;
}

std::string cache_key(const std::string& cluster, const std::string& user) {
  std::string key = cluster;
  key.push_back('\0');
  key += user;
  return key;
}

}  // namespace

Result<std::array<uint8_t, 20>, std::string> parse_stage2(std::string_view text) {
  if (text.size() != 41 || text.front() != '*') {
    return Err{std::string("a password hash must be '*' and 40 hex digits")};
  }
  std::array<uint8_t, 20> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(text[1 + 2 * i]);
    int lo = hex_value(text[2 + 2 * i]);
    if (hi < 0 || lo < 0) return Err{std::string("a password hash must be '*' and 40 hex digits")};
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

Result<Credential, std::string> credential_from_config(std::string_view stage2_text) {
  Credential c;
  c.exists = true;
  c.plugin = kNativePasswordPlugin;
  if (stage2_text.empty()) {
    c.empty_password = true;
    return c;
  }
  auto stage2 = parse_stage2(stage2_text);
  if (!stage2) return Err{stage2.error()};
  c.stage2 = *stage2;
  return c;
}

Credential credential_from_rows(std::vector<UserRow> rows) {
  Credential c;
  if (rows.empty()) return c;
  // Rank: '%' before specific hosts, native before other plugins; ties in host order, so the
  // choice never depends on the order the server returned rows in.
  std::stable_sort(rows.begin(), rows.end(), [](const UserRow& a, const UserRow& b) {
    auto rank = [](const UserRow& r) { return (native_plugin(r.plugin) ? 0 : 2) + (r.host == "%" ? 0 : 1); };
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return a.host < b.host;
  });
  const UserRow& row = rows.front();
  c.exists = true;
  c.locked = row.locked;
  c.password_expired = row.password_expired;
  if (!native_plugin(row.plugin)) {
    c.plugin = row.plugin;
    return c;
  }
  c.plugin = kNativePasswordPlugin;
  if (row.authentication_string.empty()) {
    c.empty_password = true;
    return c;
  }
  auto stage2 = parse_stage2(row.authentication_string);
  if (!stage2) {
    c.plugin = kInvalidHashPlugin;
    return c;
  }
  c.stage2 = *stage2;
  return c;
}

std::string user_rows_query(std::string_view escaped_user, UserQueryDialect dialect) {
  const std::string user(escaped_user);
  switch (dialect) {
    case UserQueryDialect::mariadb:
      // MariaDB keeps the lock and the password's age only in global_priv's JSON; its mysql.user
      // view has password_expired (a password expired by hand) but no account_locked.
      return "SELECT u.host, u.authentication_string, u.plugin, u.password_expired, "
             "JSON_VALUE(g.priv, '$.account_locked'), JSON_VALUE(g.priv, '$.password_last_changed'), "
             "JSON_VALUE(g.priv, '$.password_lifetime'), @@global.default_password_lifetime, UNIX_TIMESTAMP() "
             "FROM mysql.user u LEFT JOIN mysql.global_priv g ON g.user = u.user AND g.host = u.host "
             "WHERE u.user = '" +
             user + "'";
    case UserQueryDialect::mysql:
      return "SELECT host, authentication_string, plugin, password_expired, account_locked, "
             "UNIX_TIMESTAMP(password_last_changed), password_lifetime, @@global.default_password_lifetime, "
             "UNIX_TIMESTAMP() FROM mysql.user WHERE user = '" +
             user + "'";
    case UserQueryDialect::bare:
      break;
  }
  return "SELECT host, authentication_string, plugin FROM mysql.user WHERE user = '" + user + "'";
}

namespace {
std::optional<int64_t> integer_of(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (errno != 0 || end == text->c_str()) return std::nullopt;
  return static_cast<int64_t>(v);
}
}  // namespace

UserRow user_row_from_columns(const std::vector<std::optional<std::string>>& columns, UserQueryDialect dialect) {
  auto col = [&](size_t i) -> std::optional<std::string> { return i < columns.size() ? columns[i] : std::nullopt; };
  UserRow row{col(0).value_or(""), col(1).value_or(""), col(2).value_or("")};
  if (dialect == UserQueryDialect::bare) return row;
  const std::string locked = col(4).value_or("");
  row.locked = locked == "true" || locked == "1" || locked == "Y";  // MariaDB's JSON true; MySQL's 'Y'
  row.password_expired = col(3).value_or("N") == "Y";
  // A lifetime of its own (days; 0 never expires) or, when there is none (NULL; MariaDB's -1,
  // PASSWORD EXPIRE DEFAULT), the server's default_password_lifetime.
  std::optional<int64_t> lifetime = integer_of(col(6));
  if (!lifetime || *lifetime < 0) lifetime = integer_of(col(7));
  std::optional<int64_t> changed = integer_of(col(5));
  std::optional<int64_t> now = integer_of(col(8));
  // MariaDB marks a password expired by hand with a last change of 0 (password_expired says so).
  if (lifetime && *lifetime > 0 && changed && *changed > 0 && now && *changed + *lifetime * 86400 <= *now) {
    row.password_expired = true;
  }
  return row;
}

std::string meta_login_user(const ClusterConfig& cluster) {
  if (cluster.server_mode != ServerMode::mysql) return cluster.meta_user;
  return cluster.meta_user.substr(0, cluster.meta_user.find('@'));
}

Result<std::vector<UserRow>, std::string> fetch_user_rows(const ClusterConfig& cluster, const std::string& user,
                                                          unsigned connect_timeout_s, unsigned read_timeout_s) {
  MetaConnection meta(connect_timeout_s, read_timeout_s);
  if (auto st = meta.connect(cluster); !st) return Err{st.error()};
  const std::string escaped = meta.escape(user);
  std::string errors;
  for (UserQueryDialect dialect : kUserQueryDialects) {
    auto result = meta.query(user_rows_query(escaped, dialect));
    if (!result) {
      // A server of another kind, or a meta account that may not read global_priv: the next,
      // plainer form (the bare one knows no lock nor expiry; say so once).
      errors += (errors.empty() ? "" : "; ") + result.error();
      if (auto st = meta.connect(cluster); !st) return Err{st.error()};  // a failed query closed it
      continue;
    }
    if (dialect == UserQueryDialect::bare) {
      static std::atomic<bool> warned{false};
      if (!warned.exchange(true)) {
        LOG_WARN(
            "credentials: cluster %s: account locks and password expiry are not read (%s); grant the meta "
            "account SELECT on mysql.global_priv (MariaDB) to have them checked at login",
            cluster.name.c_str(), errors.c_str());
      }
    }
    std::vector<UserRow> rows;
    for (const auto& columns : result->rows) rows.push_back(user_row_from_columns(columns, dialect));
    return rows;
  }
  return Err{"cluster " + cluster.name + ": reading mysql.user: " + errors};
}

CredentialStore::CredentialStore(CredentialStoreOptions options, Fetcher fetcher, Clock clock)
    : options_(options), fetcher_(std::move(fetcher)), clock_(std::move(clock)), cache_(options.cache) {
  if (!fetcher_) {
    unsigned connect_s = options_.connect_timeout_s;
    unsigned read_s = options_.read_timeout_s;
    fetcher_ = [connect_s, read_s](const ClusterConfig& cluster, const std::string& user) {
      return fetch_user_rows(cluster, user, connect_s, read_s);
    };
  }
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

namespace {
std::chrono::milliseconds lifetime_of(const ClusterConfig& cluster) {
  return std::chrono::milliseconds(std::max<uint32_t>(cluster.refresh_interval_ms, 1));
}
}  // namespace

std::optional<CredentialAnswer> CredentialStore::cached(const ClusterConfig& cluster, const std::string& user,
                                                        const std::string& database, bool& refresh) {
  refresh = false;
  const std::string key = cache_key(cluster.name, user);
  auto configured = cluster.users.find(user);
  std::lock_guard<std::mutex> lock(mu_);
  if (configured != cluster.users.end()) {
    CredentialAnswer a;
    auto c = credential_from_config(configured->second);
    if (c) {
      a.result = std::move(c).value();
    } else {
      a.result = Err{c.error()};
    }
    a.database_known = cache_.knows_database(key, database, clock_(), lifetime_of(cluster));
    return a;
  }
  auto hit = cache_.probe(key, database, clock_(), lifetime_of(cluster));
  if (!hit) return std::nullopt;
  refresh = hit->refresh;
  CredentialAnswer a;
  a.result = std::move(hit->answer);
  a.from_cache = true;
  a.database_known = hit->database_known;
  return a;
}

Result<Credential, std::string> CredentialStore::fetch(const ClusterConfig& cluster, const std::string& user) {
  // The query runs unlocked: a slow cluster must not hold up workers' cached() or other users.
  auto rows = fetcher_(cluster, user);
  Result<Credential, std::string> answer{Credential{}};
  if (rows) {
    answer = credential_from_rows(std::move(rows).value());
  } else {
    LOG_WARN("credentials: lookup failed cluster=%s user=%s error=\"%s\"", cluster.name.c_str(), user.c_str(),
             rows.error().c_str());
    answer = Err{rows.error()};
  }
  std::lock_guard<std::mutex> lock(mu_);
  cache_.store(cache_key(cluster.name, user), answer, clock_(), lifetime_of(cluster));
  return answer;
}

CredentialAnswer CredentialStore::find(const ClusterConfig& cluster, const std::string& user,
                                       const std::string& database) {
  bool refresh = false;
  if (auto a = cached(cluster, user, database, refresh)) {
    if (refresh) this->refresh(cluster, user);  // already on a job thread: do it now
    return std::move(*a);
  }
  CredentialAnswer a;
  a.result = fetch(cluster, user);
  return a;
}

CredentialAnswer CredentialStore::recheck(const ClusterConfig& cluster, const std::string& user,
                                          const std::string& database) {
  if (cluster.users.count(user) == 0) {
    bool claimed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      claimed = cache_.claim_refetch(cache_key(cluster.name, user), clock_());
    }
    if (claimed) {
      auto fresh = fetch(cluster, user);
      // An unreachable cluster leaves the cached answer standing (a refusal, not an outage).
      if (fresh) {
        CredentialAnswer a;
        a.result = std::move(fresh);
        std::lock_guard<std::mutex> lock(mu_);
        a.database_known =
            cache_.knows_database(cache_key(cluster.name, user), database, clock_(), lifetime_of(cluster));
        return a;
      }
    }
  }
  CredentialAnswer a = find(cluster, user, database);
  a.from_cache = false;  // checked as far as it may be: no further re-check
  return a;
}

void CredentialStore::refresh(const ClusterConfig& cluster, const std::string& user) {
  (void)fetch(cluster, user);
}

void CredentialStore::note_database(const std::string& cluster, const std::string& user, const std::string& database) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.note_database(cache_key(cluster, user), database, clock_());
}

void CredentialStore::invalidate(const std::string& cluster, const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(cache_key(cluster, user));
}

void CredentialStore::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

size_t CredentialStore::cached_entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

}  // namespace odp::admin
