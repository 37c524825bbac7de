#pragma once
// Prepared statements across server connections (the client's side is client_statements.h).
//
// A client's COM_STMT_PREPARE always reaches a server: the client gets the server's answer of
// now (after DDL, or under another sql_mode, an old answer would be wrong). Each server connection
// keeps the statements prepared on it under (statement text, session context): the context is the
// database and every session variable the statement was prepared under, so a statement is reused
// only where the server would parse it the same. An execute on a connection that lacks its
// statement prepares it there first, silently. A server statement remembers the parameter types it
// was last told, and an execute that does not re-send types gets them inserted when the client's
// differ. Server statements whose text no client holds any more are closed.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/binary_value.h"
#include "proxy/client_statements.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

// One statement prepared on a server connection.
struct ServerStmt {
  ShapePtr shape;
  std::string context;  // SessionVars::context it was prepared under
  uint32_t id = 0;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  std::vector<protocol::ParamType> types;  // what the server was last told (empty: never)
  uint64_t last_use = 0;
};

class ServerStatements {
 public:
  static constexpr size_t kMaxStatements = 64;  // x connections: well below max_prepared_stmt_count

  ServerStmt* find(const StatementShape* shape, std::string_view context);
  // Inserts (replacing an entry of the same text and context); `to_close` gets the server ids that
  // left the cache (the caller sends COM_STMT_CLOSE for them).
  ServerStmt& insert(ServerStmt stmt, std::vector<uint32_t>& to_close);
  // Entries whose text no client statement holds any more: removed, their ids to close.
  void sweep_unused(std::vector<uint32_t>& to_close);
  size_t size() const { return stmts_.size(); }
  void clear() { stmts_.clear(); }

 private:
  std::vector<ServerStmt> stmts_;
  uint64_t clock_ = 0;
};

// The values of a COM_STMT_EXECUTE's parameters for routing, read without allocating: integers and
// strings become SqlValues (others Kind::other); long-data and NULL parameters are not in the
// value section. Updates stmt.types when the client sends types. At most out.size() values are
// read (the rest stay unknown).
Result<size_t, std::string> execute_params(std::span<const uint8_t> payload, ClientStmt& stmt,
                                           std::span<routing::SqlValue> out);

// Readies a client's COM_STMT_EXECUTE payload for a server statement, in `payload` itself: the
// statement id becomes the server's, and when the client did not send types (new_params_bound=0)
// but the server statement was last told other ones (or none), the client's types are inserted.
// `scratch` is reused memory. Afterwards server.types are the types the server knows.
Result<bool, std::string> ready_execute(std::vector<uint8_t>& payload, const ClientStmt& stmt, ServerStmt& server,
                                        std::vector<uint8_t>& scratch);

}  // namespace odp::proxy
