// The fake server's SQL: statements run against the session (fake_backend.h) and the cluster's
// shared table (fake_cluster.h); their answers go out through the answer builder (fake_mysql.cpp).
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/resultset_writer.h"
#include "tests/unit/proxy/fake_mysql.h"
#include "tests/unit/proxy/fake_mysql_util.h"

namespace odp::fakeio {

using namespace protocol;
using namespace detail;

namespace {

constexpr uint64_t kForeverSeconds = 100;  // SLEEP(n) this long or longer never answers

ColumnType column_type(const FakeValue& v, bool user_variable) {
  if (!user_variable) return ColumnType::var_string;
  if (v.is_null() && !v.typed_null && v.type == FakeValue::Kind::string) return ColumnType::long_blob;
  switch (v.type) {
    case FakeValue::Kind::integer:
      return ColumnType::longlong;
    case FakeValue::Kind::real:
      return ColumnType::double_;
    default:
      return ColumnType::var_string;
  }
}

uint8_t column_charset(const FakeValue& v, ColumnType t) {
  if (t == ColumnType::longlong || t == ColumnType::double_ || t == ColumnType::long_blob) return 63;
  return v.kind == FakeValue::Kind::string ? v.charset : 45;
}

bool is_temp_table(const std::string& table) {
  return table == "t_tmp" || (table.size() > 6 && table.compare(table.size() - 6, 6, ".t_tmp") == 0);
}

}  // namespace

void FakeServer::run_query(std::string_view sql) {
  Stmt st = parse_statement(sql);
  begin_answer(attribute(st.tag, "COM_QUERY"));
  if (st.kind == Stmt::Kind::invalid) {
    put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "You have an error in your SQL syntax (fake server): " + st.error});
    end_answer();
    return;
  }
  run(st, {}, false);
}

void FakeServer::run(const Stmt& s, std::span<const FakeValue> params, bool binary) {
  switch (s.kind) {
    case Stmt::Kind::set: {
      Changes changes;
      if (auto err = s_.apply_set(s, params, changes)) {
        put_err(*err);
      } else {
        put_ok(OkPacket{}, changes);
      }
      break;
    }
    case Stmt::Kind::select:
      run_select(s, params, binary);
      return;
    case Stmt::Kind::use:
      if (!known_database(s.name)) {
        put_err(SqlError{errc::ER_BAD_DB_ERROR, "42000", "Unknown database '" + s.name + "'"});
      } else {
        Changes changes;
        s_.set_database(s.name, changes);
        put_ok(OkPacket{}, changes);
      }
      break;
    case Stmt::Kind::begin:
    case Stmt::Kind::commit:
    case Stmt::Kind::rollback:
      run_transaction(s);
      break;
    case Stmt::Kind::insert:
    case Stmt::Kind::update:
      run_write(s, params);
      break;
    case Stmt::Kind::create_temp:
    case Stmt::Kind::drop_temp: {
      bool exists = s_.temp_tables.count("t_tmp") != 0;
      bool create = s.kind == Stmt::Kind::create_temp;
      if (!is_temp_table(s.table)) {
        put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "only t_tmp is known (fake server)"});
      } else if (create && exists) {
        put_err(SqlError{1050, "42S01", "Table 't_tmp' already exists"});
      } else if (!create && !exists) {
        put_err(SqlError{1051, "42S02", "Unknown table 't_tmp'"});
      } else {
        if (create)
          s_.temp_tables.insert("t_tmp");
        else
          s_.temp_tables.erase("t_tmp");
        Changes changes;
        changes.state = true;
        put_ok(OkPacket{}, changes);
      }
      break;
    }
    case Stmt::Kind::call:
      run_call(s);
      return;
    case Stmt::Kind::kill:
      run_kill(s);
      return;
    case Stmt::Kind::do_: {
      const Expr& e = s.items[0];
      if (e.kind == Expr::Kind::call && e.name == "LAST_INSERT_ID" && e.args.size() == 1) {
        SqlError err;
        auto v = s_.eval(e.args[0], params, err);
        if (!v) {
          put_err(err);
          break;
        }
        s_.last_insert_id = std::strtoull(v->text.c_str(), nullptr, 10);
        put_ok(OkPacket{}, Changes{});
      } else if (e.kind == Expr::Kind::word && e.name == "ok") {
        OkPacket ok;
        ok.affected_rows = 1;
        put_ok(ok, Changes{});
      } else {
        put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "You have an error in your SQL syntax (fake server)"});
      }
      break;
    }
    case Stmt::Kind::load_infile:
    case Stmt::Kind::legacy_rows:
    case Stmt::Kind::legacy_big:
      run_legacy(s);
      return;
    case Stmt::Kind::invalid:
      put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "You have an error in your SQL syntax (fake server)"});
      break;
  }
  end_answer();
}

void FakeServer::run_select(const Stmt& s, std::span<const FakeValue> params, bool binary) {
  std::vector<std::string> names;
  std::vector<ColumnType> types;
  std::vector<uint8_t> charsets;
  std::vector<std::optional<std::string>> row;
  bool has_row = true;
  if (s.items.size() == 1 && s.items[0].kind == Expr::Kind::call && s.items[0].name == "SLEEP" && s.table.empty()) {
    SqlError err;
    auto v = s.items[0].args.empty() ? std::nullopt : s_.eval(s.items[0].args[0], params, err);
    start_sleep(v ? std::strtoull(v->text.c_str(), nullptr, 10) : 0, s.items[0].text);
    return;
  }
  std::optional<std::string> kv_value;
  if (s.table == kTable) {
    SqlError err;
    auto id = s.where_id ? s_.eval(*s.where_id, params, err) : std::nullopt;
    if (!id) {
      put_err(err.code != 0 ? err : SqlError{errc::ER_PARSE_ERROR, "42000", "WHERE id = ... expected"});
      end_answer();
      return;
    }
    int64_t key = std::strtoll(id->text.c_str(), nullptr, 10);
    kv_value = world_.cluster().row(key);
    // The open transaction sees its own writes.
    for (const TxWrite& w : s_.tx) {
      if (w.id != key) continue;
      if (w.insert)
        kv_value = w.value;
      else if (kv_value)
        *kv_value += w.value;
    }
    has_row = kv_value.has_value();
  } else if (!s.table.empty()) {
    if (!is_temp_table(s.table) || s_.temp_tables.count("t_tmp") == 0) {
      std::string db = s.table.find('.') != std::string::npos ? "" : s_.database() + ".";
      put_err(SqlError{1146, "42S02", "Table '" + db + s.table + "' doesn't exist"});
      end_answer();
      return;
    }
  }
  for (const Expr& e : s.items) {
    names.push_back(e.text);
    if (e.kind == Expr::Kind::word && s.table == kTable && e.name == "v") {
      types.push_back(ColumnType::var_string);
      charsets.push_back(45);
      row.push_back(kv_value);
      continue;
    }
    if (e.kind == Expr::Kind::call && e.name == "COUNT") {
      types.push_back(ColumnType::longlong);
      charsets.push_back(63);
      row.emplace_back("0");
      continue;
    }
    SqlError err;
    auto v = s_.eval(e, params, err);
    if (!v) {
      put_err(err);
      end_answer();
      return;
    }
    ColumnType t = column_type(*v, e.kind == Expr::Kind::uservar);
    types.push_back(t);
    charsets.push_back(column_charset(*v, t));
    row.push_back(v->is_null() ? std::nullopt : std::optional<std::string>(v->text));
  }
  if (binary) {
    // Binary rows carry every value as a string here: the columns say so.
    for (auto& t : types) t = ColumnType::var_string;
    for (auto& c : charsets) c = 45;
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  if (has_row) rows.push_back(std::move(row));
  send_columns(names, types, charsets);
  send_rows(rows, binary);
  send_eof_or_ok(0);
  info_.types = types;
  info_.rows = rows;
  end_answer();
}

void FakeServer::send_columns(const std::vector<std::string>& names, const std::vector<ColumnType>& types,
                              const std::vector<uint8_t>& charsets) {
  std::vector<uint8_t> p;
  put_lenenc_int(p, names.size());
  put(p);
  for (size_t i = 0; i < names.size(); ++i) {
    ColumnDefinition41 col;
    col.name = col.org_name = names[i];
    col.type = types[i];
    col.charset = charsets[i];
    col.column_length = types[i] == ColumnType::longlong ? 20 : 1024;
    if (charsets[i] == 63) col.flags = colflag::BINARY;
    p.clear();
    encode_column_definition41(col, p);
    put(p);
  }
  if (!(caps_ & cap::DEPRECATE_EOF)) {
    p.clear();
    encode_eof(EofPacket{0, status()}, p);
    put(p);
  }
}

void FakeServer::send_rows(const std::vector<std::vector<std::optional<std::string>>>& rows, bool binary) {
  for (const auto& row : rows) {
    std::vector<uint8_t> p;
    if (binary) {
      put_u8(p, 0x00);
      std::vector<uint8_t> bitmap((row.size() + 7 + 2) / 8, 0);
      for (size_t i = 0; i < row.size(); ++i)
        if (!row[i]) bitmap[(i + 2) / 8] |= static_cast<uint8_t>(1u << ((i + 2) % 8));
      p.insert(p.end(), bitmap.begin(), bitmap.end());
      for (const auto& v : row)
        if (v) put_lenenc_str(p, *v);
    } else {
      for (const auto& v : row) {
        if (v)
          put_lenenc_str(p, *v);
        else
          put_u8(p, 0xFB);
      }
    }
    put(p);
  }
}

void FakeServer::send_eof_or_ok(uint16_t flags) {
  if (caps_ & cap::DEPRECATE_EOF) {
    OkPacket ok;
    ok.status_flags = flags;
    put_ok(ok, Changes{}, 0xFE);
    return;
  }
  std::vector<uint8_t> p;
  encode_eof(EofPacket{0, static_cast<uint16_t>(flags | status())}, p);
  put(p);
  info_.status = static_cast<uint16_t>(flags | status());
}

void FakeServer::run_write(const Stmt& s, std::span<const FakeValue> params) {
  if (s.table != kTable) {
    // The first suite's INSERT INTO t: any other table takes rows and keeps nothing.
    OkPacket ok;
    ok.affected_rows = 1;
    put_ok(ok, Changes{});
    return;
  }
  SqlError err;
  TxWrite w;
  w.tag = tag_;
  w.insert = s.kind == Stmt::Kind::insert;
  std::optional<FakeValue> id;
  if (w.insert) {
    if (s.columns != std::vector<std::string>{"id", "v"} || s.items.size() != 2) {
      put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "INSERT INTO test.kv (id, v) VALUES (?, ?) expected"});
      return;
    }
    id = s_.eval(s.items[0], params, err);
    auto v = id ? s_.eval(s.items[1], params, err) : std::nullopt;
    if (!v) {
      put_err(err);
      return;
    }
    w.value = v->text;
  } else {
    const Expr* e = s.set_value ? &*s.set_value : nullptr;
    if (e == nullptr || e->kind != Expr::Kind::call || e->name != "CONCAT" || e->args.size() != 2 ||
        e->args[0].kind != Expr::Kind::word || e->args[0].name != "v" || !s.where_id) {
      put_err(SqlError{errc::ER_PARSE_ERROR, "42000", "UPDATE test.kv SET v = CONCAT(v, x) WHERE id = n expected"});
      return;
    }
    id = s_.eval(*s.where_id, params, err);
    auto v = id ? s_.eval(e->args[1], params, err) : std::nullopt;
    if (!v) {
      put_err(err);
      return;
    }
    w.value = v->text;
  }
  w.id = std::strtoll(id->text.c_str(), nullptr, 10);
  int partition = FakeCluster::partition_of(w.id);
  if (world_.cluster().leader(partition) != server_) {
    put_err(SqlError{errc::OB_NOT_MASTER, "HY000", "Not master"});
    return;
  }
  bool exists = world_.cluster().has_row(w.id);
  for (const TxWrite& t : s_.tx)
    if (t.id == w.id && t.insert) exists = true;
  if (w.insert && exists) {
    put_err(SqlError{1062, "23000", "Duplicate entry '" + std::to_string(w.id) + "' for key 'PRIMARY'"});
    return;
  }
  OkPacket ok;
  ok.affected_rows = (w.insert || exists) ? 1 : 0;
  if (ok.affected_rows == 1) {
    if (s_.in_tx)
      s_.tx.push_back(w);
    else
      pending_apply_ = world_.cluster().apply(tag_, {w}, conn_.serial());
  }
  put_ok(ok, Changes{});
}

void FakeServer::commit(Tag by) {
  if (!s_.tx.empty()) pending_apply_ = world_.cluster().apply(by, s_.tx, conn_.serial());
  s_.tx.clear();
  s_.in_tx = false;
}

void FakeServer::run_transaction(const Stmt& s) {
  switch (s.kind) {
    case Stmt::Kind::begin:
      if (s_.in_tx) commit(tag_);  // BEGIN inside a transaction commits it first
      s_.in_tx = true;
      break;
    case Stmt::Kind::commit:
      commit(tag_);
      break;
    default:
      s_.tx.clear();
      s_.in_tx = false;
      break;
  }
  put_ok(OkPacket{}, Changes{});
}

void FakeServer::run_kill(const Stmt& s) {
  FakeServer* target = world_.cluster().find_thread(server_, static_cast<uint32_t>(s.number));
  if (target == nullptr) {
    put_err(SqlError{errc::ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + std::to_string(s.number)});
    end_answer();
    return;
  }
  target->kill(s.kill_query, *this);
  put_ok(OkPacket{}, Changes{});
  end_answer();
}

void FakeServer::run_call(const Stmt& s) {
  if (s.name == "sim_make_temp") {
    // A procedure that creates a temporary table: the tracker says "state changed" and nothing
    // odp can see in the statement explains it.
    if (s_.temp_tables.count("t_tmp") != 0) {
      put_err(SqlError{1050, "42S01", "Table 't_tmp' already exists"});
    } else {
      s_.temp_tables.insert("t_tmp");
      Changes changes;
      changes.state = true;
      put_ok(OkPacket{}, changes);
    }
    end_answer();
    return;
  }
  if (s.name == "multi" && s.items.size() == 1) {
    uint64_t n = std::min<uint64_t>(std::strtoull(s.items[0].value.text.c_str(), nullptr, 10), 10);
    for (uint64_t i = 0; i < n; ++i) {
      std::vector<uint8_t> framed;
      uint8_t seq = seq_;
      std::vector<std::string> names{"c0", "c1"};
      std::vector<std::vector<std::optional<std::string>>> rows;
      size_t count = 1 + sim_.rng().below(5);
      for (size_t r = 0; r < count; ++r) rows.push_back({std::string(sim_.rng().below(20), 'm'), std::to_string(r)});
      seq = encode_text_resultset(names, rows, caps_, seq, framed,
                                  static_cast<uint16_t>(status() | status::MORE_RESULTS_EXISTS));
      put_framed(framed, seq);
    }
    put_ok(OkPacket{}, Changes{});
    end_answer();
    return;
  }
  put_err(SqlError{1305, "42000", "PROCEDURE " + s.name + " does not exist"});
  end_answer();
}

void FakeServer::run_legacy(const Stmt& s) {
  if (s.kind == Stmt::Kind::load_infile) {
    std::vector<uint8_t> payload{0xFB};
    put_bytes(payload, std::string_view("data.csv"));
    put(payload);
    state_ = State::infile;
    infile_bytes_ = 0;
    infile_seq_ = 1;
    infile_tag_ = tag_;
    ensure_record();
    infile_record_ = record_;
    end_answer(false);
    if (plan_.kill_after_infile) {
      // Killed before reading the file: the ERR follows the request at once.
      end_infile_with(SqlError{errc::ER_CONNECTION_KILLED, "70100", "Connection was killed"});
      close_after_answer();
    }
    return;
  }
  std::vector<std::string> names;
  std::vector<std::vector<std::optional<std::string>>> rows;
  if (s.kind == Stmt::Kind::legacy_rows) {
    names = {"c0", "c1", "c2"};
    size_t n = std::min<uint64_t>(s.number, 100000);
    for (size_t r = 0; r < n; ++r) {
      std::vector<std::optional<std::string>> row;
      for (size_t c = 0; c < 3; ++c) {
        if (sim_.rng().chance(100))
          row.emplace_back(std::nullopt);
        else
          row.emplace_back(std::string(sim_.rng().below(40), static_cast<char>('a' + sim_.rng().below(26))));
      }
      rows.push_back(std::move(row));
    }
  } else {
    names = {"c0"};
    size_t bytes = std::min<uint64_t>(s.number, 40u << 20);
    for (size_t r = 0; r < 2; ++r) rows.push_back({std::string(bytes + r, static_cast<char>('a' + r))});
  }
  std::vector<uint8_t> framed;
  uint8_t seq = encode_text_resultset(names, rows, caps_, seq_, framed, status());
  put_framed(framed, seq);
  end_answer();
}

void FakeServer::start_sleep(uint64_t seconds, std::string column) {
  sleeping_ = true;
  sleep_tag_ = tag_;
  sleep_column_ = std::move(column);
  tag_ = {};  // nothing is filed until it answers
  uint64_t generation = ++sleep_generation_;
  sleep_forever_ = seconds >= kForeverSeconds;
  if (sleep_forever_) return;  // the proxy's query timeout must cut it off
  sim_.at(seconds * 1000, [this, generation] {
    if (!sleeping_ || generation != sleep_generation_ || state_ == State::done) return;
    if (paused()) {
      sleep_due_ = true;
      return;
    }
    finish_sleep();
    process();
  });
}

void FakeServer::finish_sleep() {
  if (!sleeping_) return;
  sleeping_ = false;
  begin_answer(sleep_tag_);
  send_columns({sleep_column_}, {ColumnType::longlong}, {63});
  send_rows({{std::string("0")}}, false);
  send_eof_or_ok(0);
  info_.types = {ColumnType::longlong};
  info_.rows = {{std::string("0")}};
  end_answer();
}

}  // namespace odp::fakeio
