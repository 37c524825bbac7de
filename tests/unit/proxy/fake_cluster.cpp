#include "tests/unit/proxy/fake_cluster.h"

#include "tests/unit/proxy/fake_mysql.h"

namespace odp::fakeio {

FakeCluster::FakeCluster(Sim& sim, size_t servers) : sim_(sim) {
  for (size_t i = 0; i < servers; ++i) {
    Server s;
    s.host_port = "10.0.1." + std::to_string(i + 1) + ":2881";
    servers_.push_back(std::move(s));
  }
  for (int p = 0; p < kPartitions; ++p) leaders_.push_back(static_cast<size_t>(p) % servers);
}

std::optional<size_t> FakeCluster::index_of(const std::string& host_port) const {
  for (size_t i = 0; i < servers_.size(); ++i)
    if (servers_[i].host_port == host_port) return i;
  return std::nullopt;
}

FakeServer* FakeCluster::find_thread(size_t i, uint32_t thread_id) const {
  for (FakeServer* c : servers_[i].conns)
    if (c->alive() && c->thread_id() == thread_id) return c;
  return nullptr;
}

void FakeCluster::kill_server(size_t i, uint64_t down_ms) {
  Server& s = servers_[i];
  if (s.down) return;
  ++deaths_;
  s.down = true;
  s.hung = false;
  uint64_t epoch = ++s.epoch;
  // Copy: a dying connection does not unregister, but keep the walk independent of it anyway.
  std::vector<FakeServer*> conns = s.conns;
  for (FakeServer* c : conns) c->die();
  sim_.at(down_ms, [this, i, epoch] {
    if (servers_[i].epoch == epoch) servers_[i].down = false;
  });
}

void FakeCluster::hang_server(size_t i, uint64_t ms) {
  Server& s = servers_[i];
  if (s.down || s.hung) return;
  ++hangs_;
  s.hung = true;
  uint64_t epoch = ++s.epoch;
  sim_.at(ms, [this, i, epoch] {
    Server& srv = servers_[i];
    if (srv.epoch != epoch || !srv.hung) return;
    srv.hung = false;
    std::vector<FakeServer*> conns = srv.conns;
    for (FakeServer* c : conns) c->resume();
  });
}

int FakeCluster::partition_of(int64_t id) {
  int64_t r = id % kPartitions;
  return static_cast<int>(r < 0 ? -r : r);
}

void FakeCluster::move_leader(int partition, size_t to) {
  size_t& l = leaders_[static_cast<size_t>(partition)];
  if (l == to) return;
  l = to;
  ++leader_changes_;
}

std::optional<std::string> FakeCluster::row(int64_t id) const {
  auto it = rows_.find(id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

size_t FakeCluster::apply(Tag statement, const std::vector<TxWrite>& writes, uint64_t conn_serial) {
  Apply a;
  a.statement = statement;
  a.conn_serial = conn_serial;
  for (const TxWrite& w : writes) {
    if (statement.valid() && w.tag.client != statement.client) {
      violate("client " + std::to_string(statement.client) + "'s statement " + tag_text(statement) +
              " committed client " + std::to_string(w.tag.client) + "'s write " + tag_text(w.tag) +
              " (a transaction left open on a shared connection)");
    }
    if (w.insert) {
      rows_[w.id] = w.value;
    } else if (auto it = rows_.find(w.id); it != rows_.end()) {
      it->second += w.value;
    } else {
      continue;  // an UPDATE that found no row changed nothing
    }
    ++applications_[w.tag];
    a.writes.push_back(w.tag);
  }
  applies_.push_back(std::move(a));
  return applies_.size() - 1;
}

int FakeCluster::applications(Tag write) const {
  auto it = applications_.find(write);
  return it == applications_.end() ? 0 : it->second;
}

}  // namespace odp::fakeio
