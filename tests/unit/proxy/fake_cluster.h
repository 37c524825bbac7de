#pragma once
// The fake cluster behind odp: servers that may die (connections reset, refused for a while, then
// back empty) or hang (accept, never answer, then go on with what came meanwhile), and one table
// shared by all of them, test.kv, HASH-partitioned on id, whose partitions each have a leader.
// A write reaching a server that does not lead the row's partition fails with 4038 (not master) and
// is not applied; every write applied is entered in a ledger once per application, which the
// oracle compares with what each client was told.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/proxy/fake_backend.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_sql.h"

namespace odp::fakeio {

class FakeServer;

inline constexpr int kPartitions = 3;
inline constexpr const char* kTable = "test.kv";

class FakeCluster {
 public:
  FakeCluster(Sim& sim, size_t servers);

  // --- servers ---------------------------------------------------------------------------------
  size_t size() const { return servers_.size(); }
  const std::string& host_port(size_t i) const { return servers_[i].host_port; }
  std::optional<size_t> index_of(const std::string& host_port) const;
  bool down(size_t i) const { return servers_[i].down; }
  bool hung(size_t i) const { return servers_[i].hung; }
  // Every connection a server accepted (they stay registered; dead ones say so themselves).
  void attach(size_t i, FakeServer* conn) { servers_[i].conns.push_back(conn); }
  FakeServer* find_thread(size_t i, uint32_t thread_id) const;
  // The server process dies now: its connections reset, connects are refused for `down_ms`.
  void kill_server(size_t i, uint64_t down_ms);
  // The server stops answering for `ms` (SIGSTOP), then goes on.
  void hang_server(size_t i, uint64_t ms);
  uint64_t deaths() const { return deaths_; }
  uint64_t hangs() const { return hangs_; }

  // --- the partitioned table ----------------------------------------------------------------
  static int partition_of(int64_t id);
  size_t leader(int partition) const { return leaders_[static_cast<size_t>(partition)]; }
  void move_leader(int partition, size_t to);
  uint64_t leader_changes() const { return leader_changes_; }
  std::optional<std::string> row(int64_t id) const;

  // --- the ledger -----------------------------------------------------------------------------
  // One statement that applied writes (an autocommit write, or a COMMIT / an implicit commit):
  // which writes, on which connection, and where its answer ended in the server's stream.
  struct Apply {
    Tag statement;
    std::vector<Tag> writes;
    uint64_t conn_serial = 0;
    uint64_t response_end = 0;  // set once the answer is written
  };
  // Applies writes (their checks done: leader, duplicates); returns the Apply's index.
  size_t apply(Tag statement, const std::vector<TxWrite>& writes, uint64_t conn_serial);
  void answered(size_t apply_index, uint64_t response_end) { applies_[apply_index].response_end = response_end; }
  const std::vector<Apply>& applies() const { return applies_; }
  int applications(Tag write) const;
  bool has_row(int64_t id) const { return rows_.count(id) != 0; }

  // The first broken rule seen by a fake server (a statement killed that nobody asked to kill, a
  // COMMIT that committed another client's writes...).
  void violate(std::string what) {
    if (violation_.empty()) violation_ = std::move(what);
  }
  const std::string& violation() const { return violation_; }

 private:
  struct Server {
    std::string host_port;
    bool down = false;
    bool hung = false;
    uint64_t epoch = 0;  // bumped per death / hang: stale wake-ups do nothing
    std::vector<FakeServer*> conns;
  };
  Sim& sim_;
  std::vector<Server> servers_;
  std::vector<size_t> leaders_;
  std::map<int64_t, std::string> rows_;
  std::map<Tag, int> applications_;
  std::vector<Apply> applies_;
  uint64_t leader_changes_ = 0;
  uint64_t deaths_ = 0;
  uint64_t hangs_ = 0;
  std::string violation_;
};

}  // namespace odp::fakeio
