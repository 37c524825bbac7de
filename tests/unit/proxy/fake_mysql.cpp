// The fake server's protocol: its life (hangs, death), login, COM_CHANGE_USER and the commands
// (see fake_mysql.h).
#include "tests/unit/proxy/fake_mysql.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "protocol/auth.h"
#include "protocol/binary_value.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/prepare_ok.h"
#include "protocol/resultset_writer.h"
#include "proxy/server_conn.h"
#include "tests/unit/proxy/fake_known_issues.h"
#include "tests/unit/proxy/fake_mysql_util.h"

namespace odp::fakeio {

using namespace protocol;
using namespace detail;

FakeServer::FakeServer(ServerWorld& world, size_t server, FakeConn& conn, ServerPlan plan, uint32_t thread_id)
    : world_(world), sim_(world.sim()), server_(server), conn_(conn), plan_(plan), thread_id_(thread_id) {}

void FakeServer::start() {
  conn_.set_handler(this);
  conn_.start_reading();
  world_.cluster().attach(server_, this);
  if (plan_.kill_at_ms >= 0) {
    sim_.at(static_cast<uint64_t>(plan_.kill_at_ms), [this] {
      if (state_ == State::done) return;
      // A kill lands while a statement runs: it gets the ERR and the connection ends. An idle
      // connection is killed when its next command arrives (odp drops idle connections the server
      // closes and reconnects later).
      if (sleeping_) {
        sleeping_ = false;
        ++sleep_generation_;
        kill_now(sleep_tag_);
      } else {
        kill_pending_ = true;
      }
    });
  }
  process();
}

bool FakeServer::paused() const {
  return world_.cluster().hung(server_);
}

void FakeServer::die() {
  if (state_ == State::done) return;
  state_ = State::done;
  sleeping_ = false;
  queue_.clear();
  s_.reset("");  // the transaction dies with the process: nothing of it is applied
  conn_.reset_link();
}

void FakeServer::resume() {
  if (state_ == State::done) return;
  if (sleep_due_) {
    sleep_due_ = false;
    finish_sleep();
  }
  process();
}

void FakeServer::fail() {
  state_ = State::done;
  queue_.clear();
  conn_.close(false);
}

void FakeServer::on_stream_closed(int err) {
  if (state_ == State::done) return;
  if (err == 0 && (!queue_.empty() || (sleeping_ && !sleep_forever_) || paused())) {
    // odp hung up, but what it sent before is still read and run (a hung server, woken up, runs
    // the statements waiting in its socket before it notices the end).
    peer_gone_ = true;
    return;
  }
  fail();
}

void FakeServer::on_stream_data(std::span<const uint8_t> data) {
  if (state_ == State::done) return;
  bool ok = assemble(in_, data, [this](std::span<const uint8_t> payload, uint8_t seq, uint8_t last) {
    queue_.push_back(Packet{std::vector<uint8_t>(payload.begin(), payload.end()), seq, last});
    return true;
  });
  if (!ok) {
    fail();
    return;
  }
  process();
}

void FakeServer::process() {
  if (state_ == State::done || paused()) return;
  if (!greeted_) {
    greeted_ = true;
    if (plan_.silent_greeting) return;
    HandshakeV10 hs;
    hs.server_version = "5.7.25-fake";
    hs.connection_id = thread_id_;
    scramble_ = sim_scramble(sim_.rng());
    handshake_scramble_ = scramble_;
    hs.scramble = scramble_;
    hs.capabilities = proxy::proxy_capabilities();
    hs.charset = charset::utf8mb4_general_ci;
    hs.status_flags = status::AUTOCOMMIT;
    hs.auth_plugin_name = kNativePasswordPlugin;
    std::vector<uint8_t> payload;
    encode_handshake_v10(hs, payload);
    conn_.write(framed_packet(0, payload));
  }
  while (!queue_.empty() && !sleeping_ && state_ != State::done && !paused()) {
    Packet p = std::move(queue_.front());
    queue_.pop_front();
    handle(p);
  }
  if (peer_gone_ && queue_.empty() && !sleeping_ && state_ != State::done) fail();
}

// --- packets ---------------------------------------------------------------------------------

void FakeServer::handle(const Packet& p) {
  std::span<const uint8_t> payload(p.payload);
  static const bool trace = std::getenv("ODP_FAKE_IO_TRACE") != nullptr;
  if (trace) {
    // ODP_FAKE_IO_TRACE=1: every packet a server takes, with the client's trace.
    std::string what(reinterpret_cast<const char*>(p.payload.data()), std::min<size_t>(p.payload.size(), 90));
    for (char& c : what)
      if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '.';
    std::fprintf(stderr, "%llu ms: server %zu thread %u state %d seq %u: %s\n",
                 static_cast<unsigned long long>(sim_.now_ms()), server_, thread_id_, static_cast<int>(state_), p.seq,
                 what.c_str());
  }
  switch (state_) {
    case State::greeting:
    case State::switching:
      handle_login(payload, p.seq);
      return;
    case State::ready:
      if (p.seq != 0 || payload.empty()) {
        fail();
        return;
      }
      handle_command(payload);
      return;
    case State::infile:
      infile_seq_ = p.last_seq;
      if (!payload.empty()) {
        infile_bytes_ += payload.size();
        return;
      }
      {
        state_ = State::ready;
        tag_ = infile_tag_;
        record_ = infile_record_;
        out_.clear();
        seq_ = static_cast<uint8_t>(p.last_seq + 1);
        info_ = ResultInfo{};
        OkPacket ok;
        ok.affected_rows = infile_bytes_;
        put_ok(ok, Changes{});
        end_answer();
        infile_record_.reset();
      }
      return;
    case State::change_user_switch:
      finish_change_user({reinterpret_cast<const char*>(payload.data()), payload.size()}, p.seq);
      return;
    case State::done:
      return;
  }
}

void FakeServer::handle_login(std::span<const uint8_t> payload, uint8_t seq) {
  std::string auth;
  if (state_ == State::greeting) {
    auto r = decode_handshake_response41(payload);
    if (!r) {
      fail();
      return;
    }
    caps_ = r->capabilities;
    if (r->username != kUser || (!r->database.empty() && !known_database(r->database))) {
      ErrPacket err = r->username != kUser ? ErrPacket{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied for user"}
                                           : ErrPacket{errc::ER_BAD_DB_ERROR, "42000", "Unknown database"};
      std::vector<uint8_t> out;
      encode_err_packet(static_cast<uint8_t>(seq + 1), err, out);
      conn_.write(out);
      state_ = State::done;
      conn_.close(true);
      return;
    }
    s_.reset(r->database);
    if (plan_.auth_switch) {
      conn_.write(server_auth_switch(seq, sim_.rng(), scramble_));
      state_ = State::switching;
      return;
    }
    auth = r->auth_response;
  } else {
    auth.assign(payload.begin(), payload.end());
  }
  std::vector<uint8_t> out;
  const bool ok = server_login_answer(auth, scramble_, kPassword, seq, caps_, out);
  conn_.write(out);
  if (!ok) {
    state_ = State::done;
    conn_.close(true);
    return;
  }
  state_ = State::ready;
}

std::optional<Tag> FakeServer::scan_tag(std::span<const uint8_t> payload) {
  std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  if (auto t = find_tag_comment(text)) return t;
  size_t at = text.find("sim:");
  if (at == std::string_view::npos) return std::nullopt;
  size_t end = at + 4;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  return parse_tag_value(text.substr(at, end - at));
}

Tag FakeServer::attribute(std::optional<Tag> tag, std::string_view what) {
  Attribution a = world_.running_on(world_.cluster().host_port(server_), thread_id_);
  if (tag) {
    if (a.client != 0 && a.client != tag->client) {
      world_.cluster().violate("server " + std::to_string(server_) + " thread " + std::to_string(thread_id_) +
                               " got client " + std::to_string(tag->client) + "'s command " + tag_text(*tag) +
                               " while client " + std::to_string(a.client) +
                               "'s session waits for an answer on that connection");
    }
    return *tag;
  }
  if (a.client != 0 && !a.solo.valid() && !a.replaying) {
    world_.cluster().violate("server " + std::to_string(server_) + " thread " + std::to_string(thread_id_) +
                             " got an untagged " + std::string(what) + " on the connection client " +
                             std::to_string(a.client) + " waits on, but that client sent no such command");
  }
  return a.solo;
}

void FakeServer::handle_command(std::span<const uint8_t> payload) {
  auto cmd = static_cast<Command>(payload[0]);
  if (kill_pending_ && cmd != Command::stmt_close && cmd != Command::quit) {
    kill_now(attribute(scan_tag(payload), command_name(cmd)));
    return;
  }
  switch (cmd) {
    case Command::quit:
      state_ = State::done;
      conn_.close(true);
      return;
    case Command::stmt_close: {
      Reader r(payload.data() + 1, payload.size() - 1);
      uint32_t id = 0;
      if (r.u32(id)) s_.statements.erase(id);
      return;
    }
    case Command::query:
      run_query({reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1});
      return;
    case Command::stmt_prepare: {
      std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
      begin_answer(attribute(find_tag_comment(sql), "COM_STMT_PREPARE"));
      handle_prepare(sql);
      return;
    }
    case Command::stmt_execute:
      handle_execute(payload);
      return;
    case Command::change_user:
      handle_change_user(payload);
      return;
    case Command::process_kill:
      begin_answer(attribute(std::nullopt, "COM_PROCESS_KILL"));
      handle_process_kill(payload);
      return;
    default:
      break;
  }
  begin_answer(attribute(std::nullopt, command_name(cmd)));
  switch (cmd) {
    case Command::ping:
      put_ok(OkPacket{}, Changes{});
      break;
    case Command::init_db: {
      std::string db(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
      if (!known_database(db)) {
        put_err(SqlError{errc::ER_BAD_DB_ERROR, "42000", "Unknown database '" + db + "'"});
        break;
      }
      Changes changes;
      s_.set_database(db, changes);
      put_ok(OkPacket{}, changes);
      break;
    }
    case Command::reset_connection:
      s_.reset(s_.database());
      put_ok(OkPacket{}, Changes{});
      break;
    default:
      put_err(SqlError{errc::ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command (fake server)"});
      break;
  }
  end_answer();
}

void FakeServer::handle_change_user(std::span<const uint8_t> payload) {
  Reader r(payload.data() + 1, payload.size() - 1);
  std::string_view user, auth, db, plugin;
  uint8_t len = 0;
  uint16_t cs = 0;
  std::optional<Tag> tag;
  bool parsed = r.null_str(user) && r.u8(len) && r.fixed_str(len, auth) && r.null_str(db) && r.u16(cs);
  if (parsed && !r.empty() && (caps_ & cap::PLUGIN_AUTH)) parsed = r.null_str(plugin);
  if (parsed && !r.empty() && (caps_ & cap::CONNECT_ATTRS)) {
    // The client's connect attributes, passed through by odp: one of them is the command's tag.
    uint64_t total = 0;
    if (r.lenenc_int(total)) {
      while (!r.empty()) {
        std::string_view k, v;
        if (!r.lenenc_str(k) || !r.lenenc_str(v)) break;
        if (k == "_sim_tag") tag = parse_tag_value(v);
      }
    }
  }
  std::string database(db);
  change_user_tag_ = attribute(tag, "COM_CHANGE_USER");
  if (!parsed || user != kUser || (!database.empty() && !known_database(database))) {
    begin_answer(change_user_tag_);
    put_err(SqlError{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied (fake server, COM_CHANGE_USER)"});
    end_answer();
    return;
  }
  s_.reset(database);
  if (plan_.auth_switch) {
    scramble_ = sim_scramble(sim_.rng());
    AuthSwitchRequest sw;
    sw.plugin_name = kNativePasswordPlugin;
    sw.plugin_data.assign(scramble_.begin(), scramble_.end());
    sw.plugin_data.push_back('\0');
    std::vector<uint8_t> body;
    encode_auth_switch_request(sw, body);
    conn_.write(framed_packet(1, body));  // answered by the proxy itself: not client-visible
    state_ = State::change_user_switch;
    return;
  }
  scramble_ = handshake_scramble_;
  finish_change_user(auth, 0);
}

void FakeServer::finish_change_user(std::string_view auth, uint8_t seq) {
  state_ = State::ready;
  Tag t = change_user_tag_;
  bool ok = native_password_verify(auth, scramble_, native_password_stage2(kPassword)).has_value();
  // odp relays the verdict with the client's numbering: the record has sequence id 1, the wire
  // the server's.
  begin_answer(t, 1);
  if (ok) {
    put_ok(OkPacket{}, Changes{});
  } else {
    put_err(SqlError{errc::ER_ACCESS_DENIED_ERROR, "28000", "Access denied (fake server, COM_CHANGE_USER)"});
  }
  if (seq != 0) {
    // Renumber what goes on the wire only.
    for (size_t off = 0; off + kPacketHeaderBytes <= out_.size();) {
      out_[off + 3] = static_cast<uint8_t>(seq + 1);
      off += kPacketHeaderBytes + decode_header(out_.data() + off).length;
    }
  }
  end_answer();
}

}  // namespace odp::fakeio
