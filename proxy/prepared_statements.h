#pragma once
// Prepared statements across server connections.
//
// A client's statement ids are odp's own (per session). Each server connection caches the
// statements prepared on it by (database, SQL text), whoever prepared them, so pooled connections
// serving the same workload reuse their server-side statements. A COM_STMT_EXECUTE is routed by
// its parameter values, then its statement id is rewritten to the chosen connection's (preparing
// the statement there first when it lacks it), and the parameter types are re-sent when that
// connection has never been told them.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "protocol/binary_value.h"
#include "protocol/commands.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

// What a client prepared (odp's statement id -> this).
struct ClientStmt {
  std::string sql;
  std::string database;  // current database at prepare time (unqualified names resolve against it)
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  std::vector<protocol::ParamType> types;  // the last types the client bound (new_params_bound)
  bool cursor = false;                     // executed with a cursor: COM_STMT_FETCH follows
};

// One statement prepared on a server connection.
struct ServerStmt {
  uint32_t id = 0;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  bool types_bound = false;  // an execute with parameter types went to this connection
  uint64_t last_use = 0;
  std::vector<std::vector<uint8_t>> response;  // the prepare response's payloads (to answer others)
};

class ServerStmtCache {
 public:
  static constexpr size_t kMaxStatements = 64;  // x connections: well below max_prepared_stmt_count

  static std::string key(std::string_view database, std::string_view sql);
  ServerStmt* find(const std::string& key);
  // Inserts; returns the server ids evicted to stay within kMaxStatements (the caller closes them).
  std::vector<uint32_t> insert(const std::string& key, ServerStmt stmt);
  size_t size() const { return by_key_.size(); }
  void clear() { by_key_.clear(); }

 private:
  std::unordered_map<std::string, ServerStmt> by_key_;
  uint64_t clock_ = 0;
};

// Rewrites a COM_STMT_EXECUTE payload for a server connection: its statement id, and the parameter
// types added (new_params_bound = 1) when `bind_types` and the client did not send them. Also
// returns the decoded parameters for routing. `stmt.types` is updated when the client sent types.
struct RewrittenExecute {
  std::vector<uint8_t> payload;
  std::vector<routing::SqlValue> params;  // one per parameter (integers and strings; others Kind::other)
  uint8_t flags = 0;
};
Result<RewrittenExecute, std::string> rewrite_execute(std::span<const uint8_t> payload, ClientStmt& stmt,
                                                      uint32_t server_id, bool bind_types);
// Only decodes the parameters (for routing before a connection is chosen).
Result<std::vector<routing::SqlValue>, std::string> execute_params(std::span<const uint8_t> payload, ClientStmt& stmt);

}  // namespace odp::proxy
