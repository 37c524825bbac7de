#include "proxy/prepared_statements.h"

#include <doctest/doctest.h>

#include "protocol/commands.h"

using namespace odp;
using namespace odp::protocol;
using namespace odp::proxy;

namespace {
std::vector<uint8_t> execute_payload(uint32_t id, bool bind, int64_t key, std::string_view name) {
  static const uint8_t key_raw[8] = {0};
  (void)key_raw;
  ComStmtExecute e;
  e.statement_id = id;
  e.new_params_bound = bind;
  e.types = {ParamType{ColumnType::longlong, false}, ParamType{ColumnType::var_string, false}};
  static std::vector<uint8_t> storage;
  storage.clear();
  for (int i = 0; i < 8; ++i) storage.push_back(static_cast<uint8_t>(static_cast<uint64_t>(key) >> (8 * i)));
  e.values.resize(2);
  e.values[0].type = e.types[0];
  e.values[0].raw = std::span<const uint8_t>(storage.data(), 8);
  e.values[1].type = e.types[1];
  e.values[1].raw = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(name.data()), name.size());
  std::vector<uint8_t> p;
  encode_com_stmt_execute(e, 0, p);
  return p;
}
}  // namespace

TEST_CASE("prepared statements: execute rewritten for another connection") {
  ClientStmt stmt;
  stmt.sql = "SELECT * FROM t WHERE id = ? AND name = ?";
  stmt.num_params = 2;
  auto first = execute_payload(7, true, 42, "bob");
  auto r1 = rewrite_execute(first, stmt, 1001, true);
  REQUIRE(r1.ok());
  CHECK(protocol::statement_id_of(std::span<const uint8_t>(r1->payload)) == 1001u);
  REQUIRE(r1->params.size() == 2);
  CHECK(r1->params[0].kind == routing::SqlValue::Kind::integer);
  CHECK(r1->params[0].integer == 42);
  CHECK(r1->params[1].text == "bob");
  CHECK(stmt.types.size() == 2);

  // A later execute without types, sent to a connection that never saw them: types are added.
  auto later = execute_payload(7, false, -5, "al");
  auto r2 = rewrite_execute(later, stmt, 2002, true);
  REQUIRE(r2.ok());
  CHECK(r2->payload.size() > later.size());
  ExecuteContext ctx;
  ctx.num_params = 2;
  auto back = decode_com_stmt_execute(r2->payload, ctx);
  REQUIRE(back.ok());
  CHECK(back->statement_id == 2002);
  CHECK(back->new_params_bound);
  CHECK(back->values[0].as_int64() == -5);
  CHECK(back->values[1].as_string() == "al");
  // ...and left alone (bar the id) for a connection that has them.
  auto r3 = rewrite_execute(later, stmt, 3003, false);
  REQUIRE(r3.ok());
  CHECK(r3->payload.size() == later.size());
  CHECK(protocol::statement_id_of(std::span<const uint8_t>(r3->payload)) == 3003u);

  CHECK_FALSE(rewrite_execute(std::vector<uint8_t>{0x17, 1}, stmt, 1, true).ok());
}

TEST_CASE("prepared statements: per-connection cache is bounded, least recently used goes") {
  ServerStmtCache cache;
  for (uint32_t i = 0; i < ServerStmtCache::kMaxStatements; ++i) {
    ServerStmt s;
    s.id = i + 1;
    CHECK(cache.insert(ServerStmtCache::key("db", "q" + std::to_string(i)), s).empty());
  }
  CHECK(cache.find(ServerStmtCache::key("db", "q0")) != nullptr);  // q0 is now recent
  ServerStmt s;
  s.id = 9999;
  auto evicted = cache.insert(ServerStmtCache::key("db", "new"), s);
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0] == 2);  // q1
  CHECK(cache.size() == ServerStmtCache::kMaxStatements);
  CHECK(cache.find(ServerStmtCache::key("other", "q0")) == nullptr);
}
