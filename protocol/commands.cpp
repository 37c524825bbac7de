#include "protocol/commands.h"

namespace odp::protocol {
namespace {

DecodeError bad(const char* what) {
  return DecodeError{what};
}

// Checks and skips the command byte.
bool expect(Reader& r, Command cmd) {
  uint8_t b = 0;
  return r.u8(b) && b == static_cast<uint8_t>(cmd);
}

void put_cmd(std::vector<uint8_t>& out, Command cmd) {
  put_u8(out, static_cast<uint8_t>(cmd));
}

bool is_stmt_id_command(Command c) {
  return c == Command::stmt_execute || c == Command::stmt_fetch || c == Command::stmt_close ||
         c == Command::stmt_reset || c == Command::stmt_send_long_data || c == Command::stmt_bulk_execute;
}

Result<ComStmtId, DecodeError> decode_stmt_id(std::span<const uint8_t> payload, Command cmd) {
  Reader r(payload);
  if (!expect(r, cmd)) return Err{bad("command byte mismatch")};
  ComStmtId c;
  if (!r.u32(c.statement_id)) return Err{bad("statement command: truncated statement id")};
  return c;
}

}  // namespace

std::optional<Command> command_of(std::span<const uint8_t> payload) {
  if (payload.empty()) return std::nullopt;
  return static_cast<Command>(payload[0]);
}

Result<ComInitDb, DecodeError> decode_com_init_db(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::init_db)) return Err{bad("command byte mismatch")};
  return ComInitDb{r.rest()};
}
void encode_com_init_db(std::string_view schema, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::init_db);
  put_bytes(payload, schema);
}

Result<ComFieldList, DecodeError> decode_com_field_list(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::field_list)) return Err{bad("command byte mismatch")};
  ComFieldList c;
  if (!r.null_str(c.table)) return Err{bad("COM_FIELD_LIST: table not NUL-terminated")};
  c.wildcard = r.rest();
  return c;
}
void encode_com_field_list(const ComFieldList& c, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::field_list);
  put_null_str(payload, c.table);
  put_bytes(payload, c.wildcard);
}

Result<ComProcessKill, DecodeError> decode_com_process_kill(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::process_kill)) return Err{bad("command byte mismatch")};
  ComProcessKill c;
  if (!r.u32(c.connection_id)) return Err{bad("COM_PROCESS_KILL: truncated connection id")};
  return c;
}
void encode_com_process_kill(uint32_t connection_id, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::process_kill);
  put_u32(payload, connection_id);
}

Result<ComSetOption, DecodeError> decode_com_set_option(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::set_option)) return Err{bad("command byte mismatch")};
  ComSetOption c;
  if (!r.u16(c.option)) return Err{bad("COM_SET_OPTION: truncated option")};
  return c;
}
void encode_com_set_option(uint16_t option, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::set_option);
  put_u16(payload, option);
}

Result<ComChangeUser, DecodeError> decode_com_change_user(std::span<const uint8_t> payload, uint32_t caps) {
  Reader r(payload);
  if (!expect(r, Command::change_user)) return Err{bad("command byte mismatch")};
  ComChangeUser c;
  std::string_view user, auth, db;
  if (!r.null_str(user)) return Err{bad("COM_CHANGE_USER: username not NUL-terminated")};
  if (caps & cap::SECURE_CONNECTION) {
    uint8_t n = 0;
    if (!r.u8(n) || !r.fixed_str(n, auth)) return Err{bad("COM_CHANGE_USER: auth response truncated")};
  } else if (!r.null_str(auth)) {
    return Err{bad("COM_CHANGE_USER: auth response not NUL-terminated")};
  }
  if (!r.null_str(db)) return Err{bad("COM_CHANGE_USER: database not NUL-terminated")};
  c.username.assign(user);
  c.auth_response.assign(auth);
  c.database.assign(db);
  if (r.empty()) return c;
  if (!r.u16(c.charset)) return Err{bad("COM_CHANGE_USER: truncated charset")};
  if ((caps & cap::PLUGIN_AUTH) && !r.empty()) {
    std::string_view plugin;
    if (!r.null_str(plugin)) return Err{bad("COM_CHANGE_USER: plugin name not NUL-terminated")};
    c.auth_plugin_name.assign(plugin);
  }
  if ((caps & cap::CONNECT_ATTRS) && !r.empty()) {
    uint64_t total = 0;
    std::span<const uint8_t> attrs;
    if (!r.lenenc_int(total) || total > r.remaining() || !r.bytes(static_cast<size_t>(total), attrs)) {
      return Err{bad("COM_CHANGE_USER: connect attributes truncated")};
    }
    Reader a(attrs);
    while (!a.empty()) {
      std::string_view k, v;
      if (!a.lenenc_str(k) || !a.lenenc_str(v)) return Err{bad("COM_CHANGE_USER: malformed connect attribute")};
      c.attributes.emplace_back(std::string(k), std::string(v));
    }
  }
  return c;
}

void encode_com_change_user(const ComChangeUser& c, uint32_t caps, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::change_user);
  put_null_str(payload, c.username);
  if (caps & cap::SECURE_CONNECTION) {
    put_u8(payload, static_cast<uint8_t>(c.auth_response.size()));
    put_bytes(payload, std::string_view(c.auth_response).substr(0, 255));
  } else {
    put_null_str(payload, c.auth_response);
  }
  put_null_str(payload, c.database);
  put_u16(payload, c.charset);
  if (caps & cap::PLUGIN_AUTH) put_null_str(payload, c.auth_plugin_name);
  if (caps & cap::CONNECT_ATTRS) {
    std::vector<uint8_t> attrs;
    for (const auto& [k, v] : c.attributes) {
      put_lenenc_str(attrs, k);
      put_lenenc_str(attrs, v);
    }
    put_lenenc_int(payload, attrs.size());
    put_bytes(payload, attrs);
  }
}

Result<ComStmtPrepare, DecodeError> decode_com_stmt_prepare(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::stmt_prepare)) return Err{bad("command byte mismatch")};
  return ComStmtPrepare{r.rest()};
}
void encode_com_stmt_prepare(std::string_view sql, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::stmt_prepare);
  put_bytes(payload, sql);
}

Result<ComStmtFetch, DecodeError> decode_com_stmt_fetch(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::stmt_fetch)) return Err{bad("command byte mismatch")};
  ComStmtFetch f;
  if (!r.u32(f.statement_id) || !r.u32(f.num_rows)) return Err{bad("COM_STMT_FETCH: truncated")};
  return f;
}
void encode_com_stmt_fetch(const ComStmtFetch& f, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::stmt_fetch);
  put_u32(payload, f.statement_id);
  put_u32(payload, f.num_rows);
}

Result<ComStmtId, DecodeError> decode_com_stmt_close(std::span<const uint8_t> payload) {
  return decode_stmt_id(payload, Command::stmt_close);
}
Result<ComStmtId, DecodeError> decode_com_stmt_reset(std::span<const uint8_t> payload) {
  return decode_stmt_id(payload, Command::stmt_reset);
}
void encode_com_stmt_close(uint32_t statement_id, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::stmt_close);
  put_u32(payload, statement_id);
}
void encode_com_stmt_reset(uint32_t statement_id, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::stmt_reset);
  put_u32(payload, statement_id);
}

Result<ComStmtSendLongData, DecodeError> decode_com_stmt_send_long_data(std::span<const uint8_t> payload) {
  Reader r(payload);
  if (!expect(r, Command::stmt_send_long_data)) return Err{bad("command byte mismatch")};
  ComStmtSendLongData d;
  if (!r.u32(d.statement_id) || !r.u16(d.param_id)) return Err{bad("COM_STMT_SEND_LONG_DATA: truncated")};
  d.data = r.rest_bytes();
  return d;
}
void encode_com_stmt_send_long_data(const ComStmtSendLongData& d, std::vector<uint8_t>& payload) {
  put_cmd(payload, Command::stmt_send_long_data);
  put_u32(payload, d.statement_id);
  put_u16(payload, d.param_id);
  put_bytes(payload, d.data);
}

bool patch_statement_id(std::span<uint8_t> payload, uint32_t statement_id) {
  if (payload.size() < 5 || !is_stmt_id_command(static_cast<Command>(payload[0]))) return false;
  for (size_t i = 0; i < 4; ++i) payload[1 + i] = static_cast<uint8_t>(statement_id >> (8 * i));
  return true;
}

std::optional<uint32_t> statement_id_of(std::span<const uint8_t> payload) {
  if (payload.size() < 5 || !is_stmt_id_command(static_cast<Command>(payload[0]))) return std::nullopt;
  Reader r(payload.subspan(1));
  uint32_t id = 0;
  (void)r.u32(id);
  return id;
}

}  // namespace odp::protocol
