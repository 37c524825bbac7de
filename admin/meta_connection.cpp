#include "admin/meta_connection.h"

#include <mysql.h>

#include <mutex>

#include "admin/address.h"
#include "admin/credentials.h"

namespace odp::admin {

MetaConnection::MetaConnection(unsigned connect_timeout_s, unsigned read_timeout_s)
    : connect_timeout_s_(connect_timeout_s), read_timeout_s_(read_timeout_s) {}

MetaConnection::~MetaConnection() {
  close();
}

void MetaConnection::close() {
  if (conn_ != nullptr) mysql_close(conn_);
  conn_ = nullptr;
  endpoint_.clear();
}

Status<std::string> MetaConnection::connect(const ClusterConfig& cluster) {
  if (conn_ != nullptr && cluster_ == cluster.name) return Ok{};
  close();
  cluster_ = cluster.name;
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
    MYSQL* conn = mysql_init(nullptr);
    if (conn == nullptr) return Err(std::string("mysql_init failed: out of memory"));
    unsigned protocol = MYSQL_PROTOCOL_TCP;  // "localhost" must not mean the unix socket
    mysql_options(conn, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s_);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s_);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout_s_);
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(conn, hp->host.c_str(), login.c_str(), cluster.meta_password.c_str(), nullptr, hp->port,
                           nullptr, 0) == nullptr) {
      failures += (failures.empty() ? "" : "; ") + entry + ": " + mysql_error(conn);
      mysql_close(conn);
      continue;
    }
    conn_ = conn;
    endpoint_ = entry;
    return Ok{};
  }
  if (cluster.rootservice_list.empty()) failures = "rootservice_list is empty";
  return Err("cluster " + cluster.name + ": metadata unreachable: " + failures);
}

Result<routing::MetaRows, std::string> MetaConnection::query(const std::string& sql) {
  if (conn_ == nullptr) return Err(std::string("not connected"));
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    std::string err = endpoint_ + ": " + mysql_error(conn_);
    close();
    return Err(err);
  }
  MYSQL_RES* res = mysql_store_result(conn_);
  if (res == nullptr) {
    std::string err = endpoint_ + ": " + mysql_error(conn_);
    close();
    return Err(err);
  }
  routing::MetaRows out;
  unsigned n = mysql_num_fields(res);
  MYSQL_FIELD* fields = mysql_fetch_fields(res);
  for (unsigned i = 0; i < n; ++i) out.columns.emplace_back(fields[i].name);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    std::vector<std::optional<std::string>> r;
    r.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    out.rows.push_back(std::move(r));
  }
  mysql_free_result(res);
  return out;
}

std::string MetaConnection::escape(const std::string& text) {
  if (conn_ == nullptr) return text;
  std::string escaped(text.size() * 2 + 1, '\0');
  unsigned long n = mysql_real_escape_string(conn_, escaped.data(), text.data(), text.size());
  escaped.resize(n);
  return escaped;
}

}  // namespace odp::admin
