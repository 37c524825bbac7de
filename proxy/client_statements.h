#pragma once
// The prepared statements a client holds, under odp's own statement ids. Server connections have
// their own ids for the same statements (server_statements.h); a statement prepared on one
// connection is prepared again, silently, on another one that runs it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/binary_value.h"
#include "proxy/statement_facts.h"
#include "routing/sql_classifier.h"

namespace odp::proxy {

// A statement's text with its classification and facts: made once per text (prepare time) and
// shared by every prepared statement of the worker with that text, so that an execute neither
// classifies nor copies the SQL again.
struct StatementShape {
  std::string sql;
  routing::ClassifiedSql classified;  // its views point into `sql`
  StatementFacts facts;
  // Client statements of the worker holding this text (ClientStatements counts): server statements
  // of a text no client holds any more are closed.
  mutable uint32_t clients = 0;
};
using ShapePtr = std::shared_ptr<const StatementShape>;
ShapePtr make_statement_shape(std::string_view sql);

// A worker's shapes by text (bounded; unreferenced entries are swept).
class StatementShapes {
 public:
  ShapePtr get(std::string_view sql);
  void sweep();  // drops shapes no statement uses any more
  size_t size() const { return by_text_.size(); }

 private:
  std::map<std::string, ShapePtr, std::less<>> by_text_;
};

struct ClientStmt {
  ShapePtr shape;
  std::string database;  // current database at prepare time (unqualified names resolve against it)
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  std::vector<protocol::ParamType> types;  // the last types the client bound (new_params_bound)
  // Parameters given by COM_STMT_SEND_LONG_DATA since the last execute (their values are not in
  // the execute's value section); cleared by the execute and by COM_STMT_RESET.
  std::vector<uint8_t> long_data;
  bool has_long_data() const;
  void clear_long_data() { long_data.assign(long_data.size(), 0); }
  const std::string& sql() const { return shape->sql; }
};

class ClientStatements {
 public:
  // Takes a new statement; returns its odp id (never 0).
  uint32_t add(ClientStmt stmt);
  // Keeps a statement under a given id (restoring a serialised session).
  void put(uint32_t id, ClientStmt stmt);
  ClientStmt* find(uint32_t id);
  void erase(uint32_t id);
  void clear();
  ~ClientStatements() { clear(); }
  ClientStatements() = default;
  ClientStatements(ClientStatements&& other) noexcept
      : by_id_(std::move(other.by_id_)), next_id_(other.next_id_), last_(other.last_) {
    other.by_id_.clear();
  }
  ClientStatements& operator=(ClientStatements&& other) noexcept {
    if (this != &other) {
      clear();
      by_id_ = std::move(other.by_id_);
      other.by_id_.clear();
      next_id_ = other.next_id_;
      last_ = other.last_;
    }
    return *this;
  }
  size_t size() const { return by_id_.size(); }
  // MariaDB's statement id 0xFFFFFFFF in a statement command names the statement the session
  // prepared last (mariadb_stmt_execute_direct pipelines COM_STMT_PREPARE and an execute of it):
  // that one's id, while it exists; the id as it is otherwise.
  static constexpr uint32_t kLastPrepared = 0xFFFFFFFF;
  uint32_t resolve(uint32_t id) const { return id == kLastPrepared && last_ != 0 ? last_ : id; }
  void prepared(uint32_t id) { last_ = id; }
  uint32_t next_id() const { return next_id_; }
  void set_next_id(uint32_t id) { next_id_ = id == 0 ? 1 : id; }
  const std::map<uint32_t, ClientStmt>& all() const { return by_id_; }

 private:
  std::map<uint32_t, ClientStmt> by_id_;
  uint32_t next_id_ = 1;
  uint32_t last_ = 0;  // the last statement prepared (0: none, or closed since)
};

}  // namespace odp::proxy
