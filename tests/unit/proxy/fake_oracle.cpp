// The oracle over writes: what the cluster applied (its ledger) against what each client was told.
//
//   - a write whose OK reached its client (and, in a transaction, whose COMMIT's OK did) was
//     applied exactly once;
//   - a write the client saw the server refuse (4038, duplicate key...), or whose transaction it
//     rolled back or never committed, was never applied;
//   - any other write (odp answered with its own error, or the connection ended first) was applied
//     at most once;
//   - nothing was applied that no client sent, and nothing twice;
//   - when a statement that applied writes (an autocommit write, a COMMIT) got odp's own error,
//     odp could not have known better: the server's answer never fully reached odp (the
//     connection broke, the server died or hung, odp gave up first).
#include "tests/unit/proxy/fake_world.h"

namespace odp::fakeio {

std::string check_writes(const FakeCluster& cluster, const std::vector<const ClientModel*>& models,
                         const std::function<const FakeConn*(uint64_t)>& proxy_end_of) {
  auto model_of = [&](uint32_t client) -> const ClientModel* {
    return client >= 1 && client <= models.size() ? models[client - 1] : nullptr;
  };
  for (const ClientModel* m : models) {
    if (m == nullptr) continue;
    for (const WriteNote& w : m->writes()) {
      int n = cluster.applications(w.tag);
      std::string what = "write " + tag_text(w.tag) + " (row " + std::to_string(w.row) + ", " +
                         write_state_name(w.state) + (w.tx != 0 ? ", in a transaction" : "") + ") was applied " +
                         std::to_string(n) + " times";
      if (n > 1) return what + ": a statement ran twice";
      switch (w.state) {
        case WriteState::acked:
          if (n != 1) return what + ": the client was told it succeeded";
          break;
        case WriteState::failed:
        case WriteState::uncommitted:
          if (n != 0) return what + ": the client was told it failed, or never committed it";
          break;
        default:
          break;
      }
    }
  }
  for (const FakeCluster::Apply& a : cluster.applies()) {
    for (const Tag& t : a.writes) {
      const ClientModel* m = model_of(t.client);
      bool sent = false;
      if (m != nullptr)
        for (const WriteNote& w : m->writes()) sent = sent || w.tag == t;
      if (!sent) return "write " + tag_text(t) + " was applied but no client sent it";
    }
    const ClientModel* m = model_of(a.statement.client);
    if (m == nullptr || !a.statement.valid()) continue;
    auto outcome = m->outcome(a.statement);
    if (outcome != Outcome::Kind::local_err) continue;
    const FakeConn* odp_end = proxy_end_of(a.conn_serial);
    if (odp_end != nullptr && a.response_end != 0 && odp_end->delivered_total() >= a.response_end) {
      return "statement " + tag_text(a.statement) + " applied " + std::to_string(a.writes.size()) +
             " write(s) and the server's OK reached odp (" + std::to_string(a.response_end) + " of " +
             std::to_string(odp_end->delivered_total()) +
             " bytes read), yet the client got odp's own error: a success reported as a failure";
    }
  }
  return "";
}

}  // namespace odp::fakeio
