// ClientSession for root@proxysys: no server behind it; every command is answered by odp's
// internal command layer (admin/internal_commands.h) and never forwarded.
#include "admin/internal_commands.h"
#include "base/log.h"
#include "protocol/packet.h"
#include "protocol/resultset_writer.h"
#include "proxy/client_session.h"
#include "proxy/processlist.h"

namespace odp::proxy {

using namespace protocol;

void ClientSession::handle_internal_command(std::span<const uint8_t> packet, std::span<const uint8_t> payload) {
  auto cmd = static_cast<Command>(payload[0]);
  std::vector<uint8_t> out;
  switch (cmd) {
    case Command::quit:
      close_session(true);
      return;
    case Command::ping:
    case Command::init_db:
    case Command::reset_connection: {
      OkPacket ok;
      ok.status_flags = status::AUTOCOMMIT;
      encode_ok_packet(1, ok, model_.identity().client_caps, out);
      break;
    }
    case Command::query: {
      std::string_view sql(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1);
      if (auto full = parse_show_processlist(sql)) {
        list_processes(packet, *full);  // every user's sessions, with the ids `kill` takes
        return;
      }
      admin::InternalResult r = env_.run_internal_command(sql);
      switch (r.kind) {
        case admin::InternalResult::Kind::ok: {
          OkPacket ok;
          ok.affected_rows = r.affected_rows;
          ok.status_flags = status::AUTOCOMMIT;
          encode_ok_packet(1, ok, model_.identity().client_caps, out);
          break;
        }
        case admin::InternalResult::Kind::error: {
          ErrPacket err;
          err.code = r.error_code;
          err.sql_state = r.sql_state;
          err.message = r.message;
          encode_err_packet(1, err, out);
          break;
        }
        case admin::InternalResult::Kind::rows:
          encode_text_resultset(r.columns, r.rows, model_.identity().client_caps, 1, out, status::AUTOCOMMIT,
                                (model_.identity().mariadb_ext_caps & mariadb_cap::EXTENDED_TYPE_INFO) != 0);
          break;
      }
      break;
    }
    default: {
      ErrPacket err;
      err.code = errc::ER_UNKNOWN_COM_ERROR;
      err.sql_state = "08S01";
      err.message = std::string("odp: ") + command_name(cmd) + " is not available to root@proxysys";
      encode_err_packet(1, err, out);
      break;
    }
  }
  link_.send(out);
  link_.channel().end_response();  // OB 2.0 clients: the answer is whole
  set_timeout(idle_timeout_ms());
}

}  // namespace odp::proxy
