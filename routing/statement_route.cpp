#include "routing/statement_route.h"

namespace odp::routing {

namespace {
// Re-sendable elsewhere: nothing ties the session to its connection, and no transaction has run a
// statement yet.
bool resendable(const StatementRouteRequest& req, const ClassifiedSql& c) {
  return !req.tied && !c.multi_statement;
}

bool may_resend_unran(const StatementRouteRequest& req, const ClassifiedSql& c) {
  return resendable(req, c) && (!req.in_transaction || req.starts_transaction);
}

bool names_table(const ClassifiedSql& c) {
  return c.table_count > 0 && c.type != StmtType::ddl && c.type != StmtType::show;
}
}  // namespace

StatementRoute route_statement(const StatementRouteRequest& req) {
  StatementRoute out;
  static const ClassifiedSql kNoStatement{};
  const ClassifiedSql& c = req.sql != nullptr ? *req.sql : kNoStatement;
  const ClusterTopology* ct = req.snapshot != nullptr ? req.snapshot->find_cluster(req.cluster) : nullptr;
  if (ct == nullptr || ct->servers.empty()) {
    // Nothing known of the cluster yet (before its first discovery: a new process, just after a
    // hot upgrade): the caller sends the statement to its configured servers. A 4038 from there is
    // a stale route like any other, hidden once the locations have come.
    out.retryable = names_table(c) && may_resend_unran(req, c);
    return out;
  }
  out.generation = req.snapshot->generation;

  const TableEntry* entry = nullptr;
  bool location_pending = false;  // the table's location did not come in time: routed without it
  if (names_table(c)) {
    std::string_view db = c.tables[0].database.empty() ? req.database : c.tables[0].database;
    std::string_view table = c.tables[0].table;
    entry = ct->find_table(req.tenant, db, table);
    if (entry == nullptr && ct->discovered && !db.empty() && !req.give_up_table_wait &&
        !ct->known_missing(req.tenant, db, table)) {
      // The first statement on a table waits (bounded, by the caller) for its location: a strong
      // read must not land on a lagging follower.
      out.outcome = StatementRoute::Outcome::wait_for_table;
      out.has_table = true;
      out.table_database = db;
      out.table_name = table;
      return out;
    }
    // (Before the first discovery nothing is known missing: the table may be anywhere.)
    location_pending =
        entry == nullptr && !db.empty() && (!ct->discovered || !ct->known_missing(req.tenant, db, table));
    if (entry != nullptr || location_pending) {
      out.has_table = true;
      out.table_database = db;
      out.table_name = table;
    }
  }

  RouteInput in;
  in.cluster = ct;
  in.tenant = ct->find_tenant(req.tenant);
  in.table = entry;
  if (entry != nullptr) in.partition = choose_partition(*entry, c, req.params);
  Consistency consistency = c.read_consistency;
  if (consistency == Consistency::unset) consistency = req.session_consistency;
  if (consistency == Consistency::unset) consistency = req.default_consistency;
  const bool single_read = c.is_read() && !c.multi_statement;
  in.weak = consistency == Consistency::weak && single_read && !req.in_transaction;
  in.policy = req.policy;
  in.place = req.place;
  if (req.avoided != nullptr && !req.leader_confirmed) {
    for (size_t i = 0; i < ct->servers.size() && i < 64; ++i)
      if (req.avoided(req.avoided_ctx, ct->servers[i].host_port)) in.avoid |= uint64_t{1} << i;
  }
  RouteDecision d = route(in);
  for (uint8_t i = 0; i < d.count; ++i) out.candidates[i] = ct->servers[d.candidates[i]].host_port;
  out.count = d.count;
  out.reason = d.reason;
  out.weak = in.weak;
  out.to_leader = d.to_leader;
  // (A table whose location is still on its way counts: a 4038 from the server the statement went
  // to without it is hidden the same way, once the location has come. A read may also run again
  // after its server died mid-answer.)
  out.retryable = (entry != nullptr || location_pending) && may_resend_unran(req, c);
  out.replayable_read = single_read && resendable(req, c) && !req.in_transaction;
  const bool transactional = c.type == StmtType::select || c.type == StmtType::insert || c.type == StmtType::replace ||
                             c.type == StmtType::update || c.type == StmtType::delete_;
  out.rerunnable_transaction_start = resendable(req, c) && req.starts_transaction && transactional;
  out.outcome = out.count > 0 ? StatementRoute::Outcome::route : StatementRoute::Outcome::no_topology;
  return out;
}

}  // namespace odp::routing
