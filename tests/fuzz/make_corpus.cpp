// Writes the seed corpus for every fuzz target from our own encoders:
//   fuzz_make_corpus <dir>   -> <dir>/<target>/<seed-name>
// The output is checked in under tests/fuzz/corpus; rerun after changing an input format.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/auth.h"
#include "protocol/column_def.h"
#include "protocol/commands.h"
#include "protocol/compress.h"
#include "protocol/handshake.h"
#include "protocol/ob20.h"
#include "protocol/packet.h"
#include "protocol/prepare_ok.h"
#include "protocol/result_packets.h"
#include "protocol/rows.h"
#include "protocol/session_track.h"

using namespace odp::protocol;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void seed(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(g_root / target);
  std::ofstream f(g_root / target / name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> with_prefix(std::vector<uint8_t> prefix, const std::vector<uint8_t>& rest) {
  prefix.insert(prefix.end(), rest.begin(), rest.end());
  return prefix;
}

HandshakeV10 handshake() {
  HandshakeV10 hs;
  hs.server_version = "5.7.25-OceanBase-v4.2.1.0";
  hs.connection_id = 7;
  for (size_t i = 0; i < 20; ++i) hs.scramble[i] = static_cast<uint8_t>('A' + i);
  hs.capabilities = 0xF7FF | cap::PLUGIN_AUTH | cap::CONNECT_ATTRS | cap::PLUGIN_AUTH_LENENC_DATA | cap::SESSION_TRACK |
                    cap::DEPRECATE_EOF | cap::MULTI_STATEMENTS | cap::MULTI_RESULTS;
  hs.charset = 45;
  hs.status_flags = status::AUTOCOMMIT;
  hs.auth_plugin_name = "mysql_native_password";
  return hs;
}

void handshakes() {
  std::vector<uint8_t> p;
  encode_handshake_v10(handshake(), p);
  seed("handshake_v10", "mysql_plugin_auth", p);
  HandshakeV10 maria = handshake();
  maria.capabilities &= ~cap::LONG_PASSWORD;
  maria.mariadb_ext_capabilities = 0x1d;
  maria.server_version = "5.5.5-10.11.6-MariaDB";
  p.clear();
  encode_handshake_v10(maria, p);
  seed("handshake_v10", "mariadb", p);

  HandshakeResponse41 r;
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH | cap::CONNECT_WITH_DB |
                   cap::CONNECT_ATTRS | cap::PLUGIN_AUTH_LENENC_DATA;
  r.max_packet_size = 1 << 24;
  r.charset = 45;
  r.username = "app@t1#ob";
  r.auth_response = std::string(20, 'x');
  r.database = "test";
  r.auth_plugin_name = "mysql_native_password";
  r.attributes = {{"_client_name", "libmariadb"}, {"__ob_client_version", "2.2"}};
  p.clear();
  encode_handshake_response41(r, p);
  seed("handshake_response41", "full", p);
  r.capabilities = cap::PROTOCOL_41 | cap::SECURE_CONNECTION;
  p.clear();
  encode_handshake_response41(r, p);
  seed("handshake_response41", "minimal", p);
  p.clear();
  encode_ssl_request(cap::PROTOCOL_41 | cap::SECURE_CONNECTION, 1 << 24, 45, p);
  seed("handshake_response41", "ssl_request", p);
}

void result_packets() {
  const uint8_t all = 0x0F;
  const uint32_t caps = cap::PROTOCOL_41 | cap::TRANSACTIONS | cap::SESSION_TRACK;
  OkPacket ok;
  ok.affected_rows = 3;
  ok.status_flags = status::AUTOCOMMIT | status::SESSION_STATE_CHANGED;
  ok.info = "Rows matched: 3";
  std::vector<uint8_t> st;
  encode_session_track_record(SessionTrackType::schema, "", "test", st);
  ok.session_state.assign(st.begin(), st.end());
  std::vector<uint8_t> p;
  encode_ok(ok, caps, p);
  seed("result_packets", "ok_session_track", with_prefix({all}, p));
  p.clear();
  encode_ok(OkPacket{}, caps, p, 0xFE);
  seed("result_packets", "ok_fe", with_prefix({all}, p));
  p.clear();
  encode_err(ErrPacket{1064, "42000", "You have an error in your SQL syntax"}, p);
  seed("result_packets", "err", with_prefix({all}, p));
  p.clear();
  encode_eof(EofPacket{0, status::AUTOCOMMIT}, p);
  seed("result_packets", "eof", with_prefix({all}, p));
  p.clear();
  encode_prepare_ok(PrepareOk{1, 2, 3, 0}, p);
  seed("result_packets", "prepare_ok", with_prefix({all}, p));
  ColumnDefinition41 c;
  c.schema = "test";
  c.table = "t";
  c.name = "id";
  c.type = ColumnType::long_;
  p.clear();
  encode_column_definition41(c, p);
  seed("result_packets", "column_def", with_prefix({all}, p));
  // Session-track target: the records alone.
  std::vector<uint8_t> recs;
  encode_session_track_record(SessionTrackType::system_variables, "autocommit", "OFF", recs);
  encode_session_track_record(SessionTrackType::schema, "", "test", recs);
  encode_session_track_record(SessionTrackType::state_change, "", "1", recs);
  encode_session_track_record(SessionTrackType::gtids, "", "uuid:1-5", recs);
  encode_session_track_record(SessionTrackType::transaction_state, "", "T_______", recs);
  seed("session_track", "all_types", recs);
}

void auth_packets() {
  std::vector<uint8_t> p;
  encode_auth_switch_request(AuthSwitchRequest{"mysql_native_password", std::string(20, 'a') + '\0'}, p);
  seed("auth_packets", "auth_switch", p);
  p.clear();
  encode_auth_more_data(AuthMoreData{"\x03"}, p);
  seed("auth_packets", "more_data", p);
  const std::string hex = stage2_to_mysql_hex(native_password_stage2("secret"));
  seed("auth_packets", "stage2_hex", std::vector<uint8_t>(hex.begin(), hex.end()));
}

void framing() {
  std::vector<uint8_t> stream;
  std::vector<uint8_t> q;
  encode_com_query("select 1", q);
  encode_packet(0, q, stream);
  encode_packet(1, {}, stream);
  seed("packet_assembler", "two_packets", with_prefix({3}, stream));
  std::vector<uint8_t> frames;
  std::vector<uint8_t> big(200, 'a');
  encode_compressed(0, stream, frames);
  encode_compressed(1, big, frames);
  seed("compressed_decoder", "raw_and_zlib", with_prefix({5}, frames));
}

// Tracker input: [cmd][capsel] then packets [control][u16 len][payload].
void add_pkt(std::vector<uint8_t>& out, const std::vector<uint8_t>& payload, uint8_t control = 0) {
  out.push_back(control);
  put_u16(out, static_cast<uint16_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
}

void tracker() {
  const uint32_t caps = cap::PROTOCOL_41 | cap::TRANSACTIONS;
  std::vector<uint8_t> cnt, col, eof, row, ok, err, fe_ok;
  put_lenenc_int(cnt, 1);
  ColumnDefinition41 c;
  c.name = "a";
  encode_column_definition41(c, col);
  encode_eof(EofPacket{0, status::AUTOCOMMIT}, eof);
  encode_text_row({std::string_view("1")}, row);
  encode_ok(OkPacket{}, caps, ok);
  encode_err(ErrPacket{1146, "42S02", "no table"}, err);
  encode_ok(OkPacket{}, caps, fe_ok, 0xFE);

  std::vector<uint8_t> s{static_cast<uint8_t>(Command::query), 0};
  add_pkt(s, cnt);
  add_pkt(s, col);
  add_pkt(s, eof);
  add_pkt(s, row);
  add_pkt(s, eof);
  seed("response_tracker", "query_resultset", s);
  s = {static_cast<uint8_t>(Command::query), 1};
  add_pkt(s, cnt);
  add_pkt(s, col);
  add_pkt(s, row);
  add_pkt(s, fe_ok);
  seed("response_tracker", "query_deprecate_eof", s);
  s = {static_cast<uint8_t>(Command::query), 0};
  add_pkt(s, {0xFB, 'f'});
  add_pkt(s, ok, 2);
  seed("response_tracker", "local_infile", s);
  std::vector<uint8_t> pok;
  encode_prepare_ok(PrepareOk{1, 1, 1, 0}, pok);
  s = {static_cast<uint8_t>(Command::stmt_prepare), 0};
  add_pkt(s, pok);
  add_pkt(s, col);
  add_pkt(s, eof);
  add_pkt(s, col);
  add_pkt(s, eof);
  seed("response_tracker", "prepare", s);
  s = {static_cast<uint8_t>(Command::stmt_execute), 0};
  add_pkt(s, cnt);
  add_pkt(s, col);
  add_pkt(s, eof);
  add_pkt(s, {0x00, 0x00, 0x01, 0x00, 0x00, 0x00});
  add_pkt(s, {0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}, 1);
  add_pkt(s, err);
  seed("response_tracker", "execute_binary_rows", s);
  s = {static_cast<uint8_t>(Command::ping), 0};
  add_pkt(s, ok);
  seed("response_tracker", "ping", s);
}

void commands() {
  std::vector<uint8_t> p;
  encode_com_query("SELECT * FROM t WHERE id = 1", p);
  seed("commands", "query", with_prefix({0x00}, p));
  seed("commands", "query_attrs",
       with_prefix({0x01}, std::vector<uint8_t>{0x03, 0x01, 0x01, 0x00, 0x01, 0x08, 0x80, 0x01, 'a', 7, 0, 0, 0, 0, 0,
                                                0, 0, 'x'}));
  p.clear();
  encode_com_init_db("test", p);
  seed("commands", "init_db", with_prefix({0x00}, p));
  p.clear();
  encode_com_field_list(ComFieldList{"t", "%"}, p);
  seed("commands", "field_list", with_prefix({0x00}, p));
  p.clear();
  encode_com_process_kill(5, p);
  seed("commands", "process_kill", with_prefix({0x00}, p));
  p.clear();
  encode_com_set_option(1, p);
  seed("commands", "set_option", with_prefix({0x00}, p));
  ComChangeUser cu;
  cu.username = "u";
  cu.auth_response = std::string(20, 'z');
  cu.database = "d";
  cu.charset = 45;
  cu.auth_plugin_name = "mysql_native_password";
  cu.attributes = {{"k", "v"}};
  p.clear();
  encode_com_change_user(cu, cap::SECURE_CONNECTION | cap::PLUGIN_AUTH | cap::CONNECT_ATTRS, p);
  seed("commands", "change_user", with_prefix({0x0E}, p));
  p.clear();
  encode_com_stmt_prepare("SELECT ?", p);
  seed("commands", "stmt_prepare", with_prefix({0x00}, p));
  ComStmtExecute e;
  e.statement_id = 1;
  e.new_params_bound = true;
  e.types = {{ColumnType::var_string, false}, {ColumnType::longlong, true}};
  const std::vector<uint8_t> foo{'f', 'o', 'o'}, eight(8, 1);
  e.values.resize(2);
  e.values[0].raw = foo;
  e.values[1].raw = eight;
  p.clear();
  encode_com_stmt_execute(e, 0, p);
  seed("commands", "stmt_execute", with_prefix({0x20}, p));
  p.clear();
  encode_com_stmt_fetch(ComStmtFetch{1, 10}, p);
  seed("commands", "stmt_fetch", with_prefix({0x00}, p));
  p.clear();
  encode_com_stmt_close(1, p);
  seed("commands", "stmt_close", with_prefix({0x00}, p));
  p.clear();
  encode_com_stmt_send_long_data(ComStmtSendLongData{1, 0, foo}, p);
  seed("commands", "send_long_data", with_prefix({0x00}, p));

  // Rows target: [ncols][types...][payload].
  std::vector<uint8_t> text;
  encode_text_row({std::string_view("1"), std::nullopt, std::string_view("abc")}, text);
  seed("rows", "text", with_prefix({3, 0xfd, 0xfd, 0xfd}, text));
  std::vector<BinaryValue> vals(2);
  vals[0].type = {ColumnType::long_, false};
  const std::vector<uint8_t> four{1, 0, 0, 0};
  vals[0].raw = four;
  vals[1].type = {ColumnType::var_string, false};
  vals[1].is_null = true;
  std::vector<uint8_t> bin;
  encode_binary_row(vals, bin);
  seed("rows", "binary", with_prefix({2, 0x03, 0xfd}, bin));
}

void ob20() {
  std::vector<uint8_t> q, framed, extra, stream;
  encode_com_query("select 1", q);
  encode_packet(0, q, framed);
  const std::string ip = "client_ip=127.0.0.1";
  encode_ob20_extra_info_item(ob20extra::TRACE_INFO, std::vector<uint8_t>(ip.begin(), ip.end()), extra);
  Ob20Header h;
  h.connection_id = 7;
  h.request_id = 1;
  h.flags = ob20flag::NEW_EXTRA_INFO;
  encode_ob20_frame(h, extra, framed, true, stream);
  h.comp_seq = 1;
  h.packet_seq = 1;
  h.flags = ob20flag::LAST_PACKET;
  encode_ob20_frame(h, {}, framed, false, stream);
  seed("ob20", "two_frames", with_prefix({4}, stream));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  handshakes();
  result_packets();
  auth_packets();
  framing();
  tracker();
  commands();
  ob20();
  return 0;
}
