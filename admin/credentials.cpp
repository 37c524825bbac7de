#include "admin/credentials.h"

#include <mysql.h>

#include <algorithm>
#include <memory>

#include "admin/address.h"
#include "core/log.h"

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

struct MysqlCloser {
  void operator()(MYSQL* m) const { mysql_close(m); }
};

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

std::string user_rows_query(std::string_view escaped_user) {
  return "SELECT host, authentication_string, plugin FROM mysql.user WHERE user = '" + std::string(escaped_user) + "'";
}

std::string meta_login_user(const ClusterConfig& cluster) {
  if (cluster.server_mode != ServerMode::mysql) return cluster.meta_user;
  return cluster.meta_user.substr(0, cluster.meta_user.find('@'));
}

Result<std::vector<UserRow>, std::string> fetch_user_rows(const ClusterConfig& cluster, const std::string& user,
                                                          unsigned connect_timeout_s, unsigned read_timeout_s) {
  // mysql_library_init is not thread-safe; mysql_init calls it implicitly, so do it once first.
  static std::once_flag init_once;
  std::call_once(init_once, [] { mysql_library_init(0, nullptr, nullptr); });

  std::string failures;
  const std::string login = meta_login_user(cluster);
  for (const std::string& entry : cluster.rootservice_list) {
    auto hp = parse_host_port(entry);
    if (!hp) {
      failures += (failures.empty() ? "" : "; ") + hp.error();
      continue;
    }
    std::unique_ptr<MYSQL, MysqlCloser> conn(mysql_init(nullptr));
    if (!conn) return Err{std::string("mysql_init failed: out of memory")};
    unsigned protocol = MYSQL_PROTOCOL_TCP;  // "localhost" must not mean the unix socket
    mysql_options(conn.get(), MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s);
    mysql_options(conn.get(), MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
    mysql_options(conn.get(), MYSQL_OPT_WRITE_TIMEOUT, &read_timeout_s);
    mysql_options(conn.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(conn.get(), hp->host.c_str(), login.c_str(), cluster.meta_password.c_str(), nullptr,
                           hp->port, nullptr, 0) == nullptr) {
      failures += (failures.empty() ? "" : "; ") + entry + ": " + mysql_error(conn.get());
      continue;
    }
    std::string escaped(user.size() * 2 + 1, '\0');
    unsigned long n = mysql_real_escape_string(conn.get(), escaped.data(), user.data(), user.size());
    escaped.resize(n);
    std::string sql = user_rows_query(escaped);
    if (mysql_real_query(conn.get(), sql.data(), sql.size()) != 0) {
      return Err{"cluster " + cluster.name + ": " + entry + ": reading mysql.user: " + mysql_error(conn.get())};
    }
    MYSQL_RES* res = mysql_store_result(conn.get());
    if (res == nullptr) {
      return Err{"cluster " + cluster.name + ": " + entry + ": reading mysql.user: " + mysql_error(conn.get())};
    }
    std::vector<UserRow> rows;
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      auto col = [&](int i) { return row[i] != nullptr ? std::string(row[i], lengths[i]) : std::string(); };
      rows.push_back(UserRow{col(0), col(1), col(2)});
    }
    mysql_free_result(res);
    return rows;
  }
  if (cluster.rootservice_list.empty()) failures = "rootservice_list is empty";
  return Err{"cluster " + cluster.name + ": metadata unreachable: " + failures};
}

CredentialStore::CredentialStore(CredentialStoreOptions options, Fetcher fetcher, Clock clock)
    : options_(options), fetcher_(std::move(fetcher)), clock_(std::move(clock)) {
  if (!fetcher_) {
    unsigned connect_s = options_.connect_timeout_s;
    unsigned read_s = options_.read_timeout_s;
    fetcher_ = [connect_s, read_s](const ClusterConfig& cluster, const std::string& user) {
      return fetch_user_rows(cluster, user, connect_s, read_s);
    };
  }
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

Result<Credential, std::string> CredentialStore::lookup(const ClusterConfig& cluster, const std::string& user) {
  auto configured = cluster.users.find(user);
  if (configured != cluster.users.end()) return credential_from_config(configured->second);

  const std::string key = cache_key(cluster.name, user);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (clock_() < it->second.expires) {
        if (it->second.failed) return Err{it->second.error};
        return it->second.credential;
      }
      cache_.erase(it);
    }
  }
  // The query runs unlocked: a slow cluster must not hold up invalidate() or other clusters.
  auto rows = fetcher_(cluster, user);
  auto now = clock_();
  Entry entry;
  if (!rows) {
    entry.failed = true;
    entry.error = rows.error();
    entry.expires = now + options_.error_ttl;
    LOG_WARN("credentials: lookup failed cluster=%s user=%s error=\"%s\"", cluster.name.c_str(), user.c_str(),
             rows.error().c_str());
    store(key, entry, now);
    return Err{rows.error()};
  }
  entry.credential = credential_from_rows(std::move(rows).value());
  entry.expires = now + (entry.credential.exists ? options_.positive_ttl : options_.negative_ttl);
  Credential result = entry.credential;
  store(key, std::move(entry), now);
  return result;
}

void CredentialStore::store(const std::string& key, Entry entry, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.max_entries == 0) return;
  if (cache_.size() >= options_.max_entries && cache_.find(key) == cache_.end()) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= options_.max_entries) {
      auto oldest = std::min_element(cache_.begin(), cache_.end(),
                                     [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
      cache_.erase(oldest);
    }
  }
  cache_[key] = std::move(entry);
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
