// ClientSession, SHOW [FULL] PROCESSLIST (processlist.h): odp's sessions of the client's user, with
// the ids KILL takes here, gathered from every worker through the mailboxes.
#include "protocol/resultset_writer.h"
#include "proxy/client_session.h"

namespace odp::proxy {

using namespace protocol;

SessionActivity ClientSession::activity() const {
  SessionActivity a;
  a.id = id_;
  a.user = model_.identity().login.user;
  a.tenant = model_.identity().login.tenant;
  a.host = peer_;
  a.database = model_.database();
  a.running = phase_ != Phase::ready;
  a.since_ms = phase_since_ms_;
  if (a.running && exchange_.command() == Command::query) {
    std::span<const uint8_t> req = exchange_.request();
    if (req.size() > kPacketHeaderBytes + 1) {
      const size_t n = std::min(req.size() - kPacketHeaderBytes - 1, kProcesslistMaxInfo);
      a.statement.assign(reinterpret_cast<const char*>(req.data()) + kPacketHeaderBytes + 1, n);
    }
  }
  return a;
}

void ClientSession::list_processes(std::span<const uint8_t> packet, bool full) {
  exchange_.set_request(packet, Command::query);  // this session's own row shows the statement
  enter(Phase::locating);
  env_.list_sessions(token_, [this, full](std::vector<SessionActivity> sessions) {
    if (phase_ != Phase::locating) return;  // closing meanwhile
    const LoginName& login = model_.identity().login;
    const auto rows = processlist_rows(sessions, ProcesslistViewer{login.user, login.tenant, model_.identity().admin},
                                       full, env_.now_ms());
    const auto& columns = processlist_columns();
    std::vector<ColumnType> types(columns.size(), ColumnType::var_string);
    for (size_t i = 0; i < types.size(); ++i)
      if (processlist_column_is_integer(i)) types[i] = ColumnType::longlong;
    std::vector<uint8_t> out;
    encode_text_resultset(columns, rows, model_.identity().client_caps, 1, out, model_.status_flags(),
                          (model_.identity().mariadb_ext_caps & mariadb_cap::EXTENDED_TYPE_INFO) != 0, types);
    link_.send(out);
    core::Stats::inc(env_.stats().sql_request_total);
    exchange_.clear_request();
    resume_ready();
  });
}

}  // namespace odp::proxy
