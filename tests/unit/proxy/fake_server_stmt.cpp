// The fake server's prepared statements: COM_STMT_PREPARE keeps the parsed text under a server
// id, COM_STMT_EXECUTE binds the parameters (one of them the command's tag) and runs it.
#include "protocol/binary_value.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/prepare_ok.h"
#include "tests/unit/proxy/fake_mysql.h"

namespace odp::fakeio {

using namespace protocol;

void FakeServer::handle_prepare(std::string_view sql) {
  Stmt st = parse_statement(sql);
  bool preparable = (st.kind == Stmt::Kind::select || st.kind == Stmt::Kind::insert);
  if (!preparable) {
    put_err(
        SqlError{errc::ER_PARSE_ERROR, "42000", "This command is not supported in the prepared statement protocol"});
    end_answer();
    return;
  }
  uint32_t id = s_.next_statement_id++;
  PreparedSql ps;
  ps.sql.assign(sql);
  ps.tag = st.tag;
  uint16_t columns = st.kind == Stmt::Kind::select ? static_cast<uint16_t>(st.items.size()) : 0;
  uint16_t params = st.placeholders;
  ps.stmt = std::move(st);
  s_.statements[id] = std::move(ps);
  PrepareOk pok;
  pok.statement_id = id;
  pok.num_columns = columns;
  pok.num_params = params;
  std::vector<uint8_t> p;
  encode_prepare_ok(pok, p);
  ensure_record();
  if (record_) {
    world_.records().at(tag_, *record_).mark_statement_id(kPacketHeaderBytes);
  }
  put(p);
  info_.num_params = params;
  const bool deprecate_eof = (caps_ & cap::DEPRECATE_EOF) != 0;
  auto defs = [&](uint16_t n, const char* prefix) {
    for (uint16_t i = 0; i < n; ++i) {
      ColumnDefinition41 col;
      col.name = col.org_name = std::string(prefix) + std::to_string(i);
      std::vector<uint8_t> d;
      encode_column_definition41(col, d);
      put(d);
    }
    if (n > 0 && !deprecate_eof) {
      std::vector<uint8_t> e;
      encode_eof(EofPacket{0, status()}, e);
      put(e);
    }
  };
  defs(params, "?");
  defs(columns, "c");
  end_answer();
}

void FakeServer::handle_execute(std::span<const uint8_t> payload) {
  Reader r(payload.data() + 1, payload.size() - 1);
  uint32_t id = 0;
  uint8_t flags = 0;
  uint32_t iterations = 0;
  auto it = r.u32(id) && r.u8(flags) && r.u32(iterations) ? s_.statements.find(id) : s_.statements.end();
  if (it == s_.statements.end()) {
    begin_answer(attribute(std::nullopt, "COM_STMT_EXECUTE of an unknown statement"));
    put_err(SqlError{errc::ER_UNKNOWN_STMT_HANDLER, "HY000", "Unknown prepared statement handler"});
    end_answer();
    return;
  }
  PreparedSql& ps = it->second;
  const size_t n = ps.stmt.placeholders;
  std::vector<FakeValue> params;
  std::optional<Tag> tag;
  bool good = true;
  if (n > 0) {
    std::span<const uint8_t> nulls;
    uint8_t bound = 0;
    good = r.bytes((n + 7) / 8, nulls) && r.u8(bound);
    if (good && bound) {
      ps.param_types.clear();
      for (size_t i = 0; i < n && good; ++i) {
        uint8_t type = 0, flag = 0;
        good = r.u8(type) && r.u8(flag);
        ps.param_types.push_back(static_cast<ColumnType>(type));
      }
    }
    good = good && ps.param_types.size() == n;
    for (size_t i = 0; i < n && good; ++i) {
      if (nulls[i / 8] & (1u << (i % 8))) {
        params.push_back(FakeValue::null());
        continue;
      }
      BinaryValue v;
      good = read_binary_value(r, ParamType{ps.param_types[i], false}, v);
      if (!good) break;
      if (auto i64 = v.as_int64()) {
        params.push_back(FakeValue::integer(*i64));
      } else {
        params.push_back(FakeValue::string(std::string(v.as_string())));
        if (auto t = parse_tag_value(params.back().text)) tag = t;
      }
    }
  }
  begin_answer(attribute(tag, "COM_STMT_EXECUTE"));
  if (!good) {
    put_err(SqlError{1210, "HY000", "Incorrect arguments to EXECUTE"});
    end_answer();
    return;
  }
  info_.prepared_as = ps.tag;
  Stmt st = ps.stmt;  // the statement may be closed while it runs (a KILL of this connection)
  run(st, params, true);
}

}  // namespace odp::fakeio
