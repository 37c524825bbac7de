#include "proxy/server_pool.h"

#include <algorithm>

#include "core/log.h"

namespace odp::proxy {

std::string PoolKey::text() const {
  std::string k;
  k.reserve(host_port.size() + user.size() + 24);
  k += host_port;
  k += '\x1f';
  k += user;
  k += '\x1f';
  k += std::to_string(client_capabilities);
  k += '\x1f';
  k += std::to_string(charset);
  return k;
}

ServerPool::ServerPool(uint32_t max_per_server, uint32_t max_idle_per_key)
    : max_per_server_(max_per_server), max_idle_per_key_(max_idle_per_key) {}

ServerPool::~ServerPool() {
  close_all();
}

void ServerPool::set_limits(uint32_t max_per_server, uint32_t max_idle_per_key) {
  max_per_server_ = max_per_server;
  max_idle_per_key_ = max_idle_per_key;
}

std::optional<ServerPool::Idle> ServerPool::acquire(const PoolKey& key, uint64_t history) {
  auto it = idle_.find(key.text());
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  auto& list = it->second;
  // Most recently released first (warm), but one that last ran this session's state wins.
  size_t pick = list.size() - 1;
  for (size_t i = list.size(); i-- > 0;) {
    if (list[i].sync.applied && list[i].sync.applied->owner == history) {
      pick = i;
      break;
    }
  }
  Idle out = std::move(list[pick]);
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(pick));
  return out;
}

void ServerPool::release(const PoolKey& key, Idle idle, uint64_t now_ms) {
  if (idle.conn == nullptr) return;
  std::string host_port = idle.conn->host_port();
  auto& list = idle_[key.text()];
  if (idle.conn->state() != ServerConn::State::ready || list.size() >= max_idle_per_key_) {
    idle.conn->close(false);
    graveyard_.push_back(std::move(idle.conn));
    return;
  }
  idle.conn->set_owner(*this);
  idle.since_ms = now_ms;
  list.push_back(std::move(idle));
  wake_one(host_port);
}

void ServerPool::opened(const std::string& host_port) {
  ++open_[host_port];
}

void ServerPool::closed(const std::string& host_port) {
  auto it = open_.find(host_port);
  if (it != open_.end() && it->second > 0) --it->second;
  wake_one(host_port);
}

bool ServerPool::may_open(const std::string& host_port) const {
  return max_per_server_ == 0 || open_count(host_port) < max_per_server_;
}

uint32_t ServerPool::open_count(const std::string& host_port) const {
  auto it = open_.find(host_port);
  return it == open_.end() ? 0 : it->second;
}

void ServerPool::wait(const std::string& host_port, PoolWaiter* waiter) {
  waiters_[host_port].push_back(waiter);
  // Idle connections of another user or dialect hold the slots: give one up (its close wakes
  // the first waiter).
  for (auto& [key, list] : idle_) {
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->conn->host_port() != host_port) continue;
      std::unique_ptr<ServerConn> conn = std::move(it->conn);
      list.erase(it);
      conn->quit();
      graveyard_.push_back(std::move(conn));
      return;
    }
  }
}

void ServerPool::cancel(PoolWaiter* waiter) {
  for (auto& [hp, q] : waiters_) q.erase(std::remove(q.begin(), q.end(), waiter), q.end());
  wakeups_.erase(std::remove(wakeups_.begin(), wakeups_.end(), waiter), wakeups_.end());
}

void ServerPool::wake_one(const std::string& host_port) {
  auto it = waiters_.find(host_port);
  if (it == waiters_.end() || it->second.empty()) return;
  wakeups_.push_back(it->second.front());
  it->second.pop_front();
}

void ServerPool::run_wakeups() {
  graveyard_.clear();
  while (!wakeups_.empty()) {
    std::vector<PoolWaiter*> now;
    now.swap(wakeups_);
    for (PoolWaiter* w : now) w->on_pool_slot();
  }
}

void ServerPool::expire(uint64_t now_ms, uint64_t max_idle_ms) {
  for (auto& [key, list] : idle_) {
    for (auto& e : list) {
      if (now_ms - e.since_ms > max_idle_ms) {
        e.conn->quit();
        e.conn.reset();
      }
    }
    std::erase_if(list, [](const Idle& e) { return e.conn == nullptr; });
  }
}

size_t ServerPool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

size_t ServerPool::waiting_count() const {
  size_t n = 0;
  for (const auto& [hp, q] : waiters_) n += q.size();
  return n;
}

void ServerPool::close_all() {
  for (auto& [key, list] : idle_) {
    for (auto& e : list) e.conn->quit();
  }
  idle_.clear();
  graveyard_.clear();
}

void ServerPool::drop(ServerConn& conn) {
  conn.close(false);
  for (auto& [key, list] : idle_) {
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->conn.get() == &conn) {
        graveyard_.push_back(std::move(it->conn));
        list.erase(it);
        return;
      }
    }
  }
}

void ServerPool::on_server_login_failed(ServerConn& conn, const protocol::ErrPacket&) {
  drop(conn);
}

void ServerPool::on_server_data(ServerConn& conn, std::span<const uint8_t>) {
  // An idle connection has nothing to say unless the server is closing it (KILL, wait_timeout).
  LOG_INFO("pooled server connection closed by the server server=%s", conn.host_port().c_str());
  drop(conn);
}

void ServerPool::on_server_closed(ServerConn& conn, int) {
  drop(conn);
}

}  // namespace odp::proxy
