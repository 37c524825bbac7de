#pragma once
// Where one statement of a session should run: the whole routing decision, from the session's
// facts and the classified statement to an ordered list of servers, with the reasons and the
// retry policy (whether a stale route may be retried, whether a read may run again elsewhere
// when its server dies). Pure: the proxy passes what it knows and acts on the answer.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "routing/router.h"
#include "routing/sql_classifier.h"
#include "routing/topology.h"

namespace odp::routing {

struct StatementRouteRequest {
  const Snapshot* snapshot = nullptr;
  std::string_view cluster;
  std::string_view tenant;
  std::string_view database;                             // the session's current database
  const ClassifiedSql* sql = nullptr;                    // nullptr: no statement (a login): the tenant's servers
  std::span<const SqlValue> params;                      // COM_STMT_EXECUTE parameters
  Consistency session_consistency = Consistency::unset;  // SET ob_read_consistency
  Consistency default_consistency = Consistency::strong;
  // The session is in a transaction (or holds a BEGIN, or runs with autocommit off): no weak
  // reads, no hidden retries.
  bool in_transaction = false;
  // In a transaction that this very statement begins (a held BEGIN goes out with it, or
  // autocommit is off and none is open): nothing is lost if it is re-sent elsewhere.
  bool starts_transaction = false;
  bool tied = false;                // the session must stay on its connection (no hidden retries)
  bool give_up_table_wait = false;  // the table's location did not come in time: route without it
  bool leader_confirmed = false;    // fresh metadata after a 4038: try its leader even if avoided
  RoutePolicy policy = RoutePolicy::follower_first;
  LdcPlace place;
  // Servers this worker avoids (failures): left out unless nothing else remains.
  bool (*avoided)(const void* ctx, std::string_view host_port) = nullptr;
  const void* avoided_ctx = nullptr;
};

struct StatementRoute {
  enum class Outcome : uint8_t {
    route,           // candidates below
    wait_for_table,  // the table's location is being loaded (load_* names it): ask, then wait
    no_topology,     // nothing known about the cluster: the caller uses its configured servers
  };
  Outcome outcome = Outcome::no_topology;
  std::array<std::string_view, RouteDecision::kMaxCandidates> candidates{};  // host:port, best first
  uint8_t count = 0;
  const char* reason = "";
  uint64_t generation = 0;  // the snapshot's
  bool weak = false;
  bool to_leader = false;
  // A 4038 (stale route) may be hidden by refreshing the table's entry and sending again.
  bool retryable = false;
  // A read that may run again elsewhere when its server dies before answering.
  bool replayable_read = false;
  // The first statement of a transaction, a DML or plain query: if its server is lost before it
  // answers, the server rolled the whole transaction back with the connection, so it may begin
  // again elsewhere. (Not DDL and the like: they commit by themselves.)
  bool rerunnable_transaction_start = false;
  // The table the route used (for a re-read after 4038), or the one to load.
  bool has_table = false;
  std::string_view table_database;
  std::string_view table_name;
};

StatementRoute route_statement(const StatementRouteRequest& req);

}  // namespace odp::routing
