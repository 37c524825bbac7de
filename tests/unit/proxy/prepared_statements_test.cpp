#include "proxy/prepared_statements.h"

#include <doctest/doctest.h>

#include "protocol/commands.h"
#include "protocol/packet.h"

using namespace odp;
using namespace odp::protocol;
using namespace odp::proxy;

namespace {
std::vector<uint8_t> execute_payload(uint32_t id, bool bind, int64_t key, std::string_view name) {
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

std::vector<uint8_t> framed(const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out;
  encode_packet(0, payload, out);
  return out;
}

ClientStmt two_params() {
  ClientStmt stmt;
  stmt.shape = make_statement_shape("SELECT * FROM t WHERE id = ? AND name = ?");
  stmt.num_params = 2;
  stmt.long_data.assign(2, 0);
  return stmt;
}
}  // namespace

TEST_CASE("prepared statements: parameters for routing, read without allocating") {
  ClientStmt stmt = two_params();
  std::array<routing::SqlValue, 4> params{};
  // The values point into the payload: it must outlive them.
  std::vector<uint8_t> first = execute_payload(7, true, 42, "bob");
  auto n = execute_params(first, stmt, params);
  REQUIRE(n.ok());
  CHECK(*n == 2);
  CHECK(params[0].kind == routing::SqlValue::Kind::integer);
  CHECK(params[0].integer == 42);
  CHECK(params[1].text == "bob");
  CHECK(stmt.types.size() == 2);
  // Later executes reuse the types the client bound.
  std::vector<uint8_t> second = execute_payload(7, false, -5, "al");
  n = execute_params(second, stmt, params);
  REQUIRE(n.ok());
  CHECK(params[0].integer == -5);
  CHECK_FALSE(execute_params(std::vector<uint8_t>{0x17, 1}, stmt, params).ok());
}

TEST_CASE("prepared statements: long data parameters have no bytes in the execute") {
  // What MariaDB Connector/J sends for setBytes/setBinaryStream: COM_STMT_SEND_LONG_DATA for
  // each parameter, then an execute with types and no values.
  ClientStmt stmt;
  stmt.shape = make_statement_shape("SELECT ? AS a, CONCAT('[', ?, ']') AS b, ? IS NULL AS c");
  stmt.num_params = 3;
  stmt.long_data = {1, 1, 1};
  std::vector<uint8_t> p = {0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, /*null bitmap*/ 0, /*bound*/ 1, 0xfd, 0, 0xfd, 0, 0xfd, 0};
  std::array<routing::SqlValue, 4> params{};
  auto n = execute_params(p, stmt, params);
  REQUIRE(n.ok());
  CHECK(*n == 3);
  CHECK(params[0].kind == routing::SqlValue::Kind::other);
  // A trailing long-data parameter after a plain one: the plain value is read, the rest skipped.
  stmt.long_data = {0, 0, 1};
  std::vector<uint8_t> q = {0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x08, 0, 0xfd, 0, 0xfd, 0};
  for (int i = 0; i < 8; ++i) q.push_back(i == 0 ? 9 : 0);
  q.push_back(2);
  q.push_back('h');
  q.push_back('i');
  n = execute_params(q, stmt, params);
  REQUIRE(n.ok());
  CHECK(params[0].integer == 9);
  CHECK(params[1].text == "hi");
}

TEST_CASE("prepared statements: the server statement learns the exact types; others' are replaced") {
  ClientStmt stmt = two_params();
  std::array<routing::SqlValue, 2> params{};
  REQUIRE(execute_params(execute_payload(7, true, 42, "bob"), stmt, params).ok());
  ServerStmt server;
  server.id = 1001;
  std::vector<uint8_t> scratch;
  // The client sends types: the id is patched, the server knows them from now on.
  auto request = framed(execute_payload(7, true, 42, "bob"));
  size_t size = request.size();
  auto r = ready_execute(request, stmt, server, scratch);
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  CHECK(request.size() == size);
  CHECK(statement_id_of(std::span<const uint8_t>(request).subspan(4)) == 1001u);
  CHECK(server.types == stmt.types);
  // Without types, to a server statement that has them: only the id changes.
  request = framed(execute_payload(7, false, 1, "x"));
  size = request.size();
  REQUIRE(ready_execute(request, stmt, server, scratch).ok());
  CHECK(request.size() == size);
  // Without types, to a server statement last told other types (another client's): inserted.
  ServerStmt other;
  other.id = 2002;
  other.types = {ParamType{ColumnType::var_string, false}, ParamType{ColumnType::var_string, false}};
  request = framed(execute_payload(7, false, -5, "al"));
  auto r2 = ready_execute(request, stmt, other, scratch);
  REQUIRE(r2.ok());
  CHECK(*r2);
  CHECK(other.types == stmt.types);
  PacketHeader h = decode_header(request.data());
  CHECK(h.length == request.size() - 4);
  ExecuteContext ctx;
  ctx.num_params = 2;
  auto back = decode_com_stmt_execute(std::span<const uint8_t>(request).subspan(4), ctx);
  REQUIRE(back.ok());
  CHECK(back->statement_id == 2002);
  CHECK(back->new_params_bound);
  CHECK(back->values[0].as_int64() == -5);
  CHECK(back->values[1].as_string() == "al");
}

TEST_CASE("prepared statements: per-connection statements by text and context, bounded") {
  ServerStatements stmts;
  std::vector<ShapePtr> shapes;
  std::vector<uint32_t> to_close;
  for (uint32_t i = 0; i < ServerStatements::kMaxStatements; ++i) {
    shapes.push_back(make_statement_shape("q" + std::to_string(i)));
    ServerStmt s;
    s.shape = shapes.back();
    s.context = "db";
    s.id = i + 1;
    stmts.insert(std::move(s), to_close);
  }
  CHECK(to_close.empty());
  CHECK(stmts.find(shapes[0].get(), "db") != nullptr);     // q0 is now recent
  CHECK(stmts.find(shapes[0].get(), "other") == nullptr);  // another sql_mode / database
  ServerStmt s;
  s.shape = make_statement_shape("new");
  s.context = "db";
  s.id = 9999;
  stmts.insert(std::move(s), to_close);
  REQUIRE(to_close.size() == 1);
  CHECK(to_close[0] == 2);  // q1, the least recently used
  CHECK(stmts.size() == ServerStatements::kMaxStatements);
  // Statements whose text no client holds are swept (and closed).
  to_close.clear();
  shapes[0]->clients = 1;
  stmts.sweep_unused(to_close);
  CHECK(stmts.size() == 1);
  CHECK(to_close.size() == ServerStatements::kMaxStatements - 1);
}
