#pragma once
// The routing internal commands: `show proxyroute [like 'db.table']`, `explain route <sql>` and
// `show proxycongestion`. Pure functions of the topology snapshot and the config.
#include <string>
#include <string_view>
#include <vector>

#include "admin/config.h"
#include "admin/internal_commands.h"
#include "routing/topology.h"

namespace odp::admin {

// One server a worker currently avoids (refused or dropped connections).
struct CongestionInfo {
  std::string server;
  uint32_t failures = 0;
  uint64_t avoided_for_ms = 0;  // 0 = not avoided any more
};

// Every loaded table entry of every cluster: one row per partition with its leader and followers.
InternalResult show_proxyroute(const routing::Snapshot* snapshot, const std::optional<std::string>& like);

// How odp would route `sql` for a client of the default cluster and tenant (strong consistency
// unless the statement's hint says otherwise): the table, partition, candidates and why.
InternalResult explain_route(std::string_view sql, const routing::Snapshot* snapshot, const Config& config);

InternalResult show_proxycongestion(const std::vector<CongestionInfo>& servers);

}  // namespace odp::admin
