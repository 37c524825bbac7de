#include "proxy/server_pool.h"

#include <algorithm>

#include "base/log.h"

namespace odp::proxy {

uint32_t auto_server_connection_cap(uint32_t cpus, uint32_t workers) {
  uint32_t total = std::max<uint32_t>(16u * std::max<uint32_t>(cpus, 1), 32);
  return std::max<uint32_t>(4, total / std::max<uint32_t>(workers, 1));
}

ServerPool::ServerPool(Limits limits) : limits_(limits) {}

ServerPool::~ServerPool() {
  close_all();
}

void ServerPool::set_limits(Limits limits) {
  limits_ = limits;
}

ServerPool::PerServer& ServerPool::server(ServerId id) {
  if (id >= servers_.size()) servers_.resize(static_cast<size_t>(id) + 1);
  return servers_[id];
}

const ServerPool::PerServer* ServerPool::find_server(ServerId id) const {
  return id < servers_.size() ? &servers_[id] : nullptr;
}

PooledConn ServerPool::take(uint32_t index) {
  Slot& s = slots_[index];
  auto& list = idle_[s.key.packed()];
  // Swap-remove: the last entry takes this one's place.
  uint32_t last = list.back();
  list[s.position] = last;
  slots_[last].position = s.position;
  list.pop_back();
  PooledConn out = std::move(s.pooled);
  s.used = false;
  ++s.generation;
  free_.push_back(index);
  --idle_total_;
  return out;
}

std::optional<PooledConn> ServerPool::acquire(PoolKey key, uint64_t history, Ticket ticket, bool no_database) {
  if (ticket.slot < slots_.size()) {
    const Slot& s = slots_[ticket.slot];
    if (s.used && s.generation == ticket.generation && s.key == key) return take(ticket.slot);
  }
  auto it = idle_.find(key.packed());
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  const auto& list = it->second;
  // Most recently given back first (warm), but one that last ran this session's state wins; a few
  // are looked at, not all. A session in no database passes over connections in one (each would
  // cost it a COM_CHANGE_USER), looking further.
  auto in_database = [&](uint32_t slot) {
    const ConnSync& sync = slots_[slot].pooled.sync;
    return sync.applied && !sync.applied->database.empty();
  };
  uint32_t pick = list.back();
  bool fits = !no_database || !in_database(pick);
  const size_t look = no_database ? 32 : 8;
  for (size_t i = list.size(), looked = 0; i-- > 0 && looked < look; ++looked) {
    if (no_database && in_database(list[i])) continue;
    const ConnSync& sync = slots_[list[i]].pooled.sync;
    if (sync.applied && sync.applied->owner == history) {
      pick = list[i];
      break;
    }
    if (!fits) {
      pick = list[i];  // the most recent one in no database
      fits = true;
    }
  }
  return take(pick);
}

ServerPool::Ticket ServerPool::release(PoolKey key, PooledConn pooled, uint64_t now_ms) {
  if (pooled.conn == nullptr) return {};
  pooled.conn->forget_staged_extra_info();
  if (pooled.conn->state() != ServerConn::State::ready) {
    pooled.conn->close(false);
    graveyard_.push_back(std::move(pooled.conn));
    return {};
  }
  // Someone waits for this server: the connection goes to the first waiter, never to a newcomer.
  PerServer& ps = server(key.server);
  if (PoolWaiter* w = ps.head; w != nullptr && w->key_ == key) {
    unlink(w);
    pooled.conn->set_owner(*this);
    deliveries_.push_back(Delivery{w, std::move(pooled)});
    return {};
  }
  if (ps.head != nullptr) {
    // The first waiter needs another dialect: this connection's slot serves it better closed
    // (waiters of this dialect behind it do not pass it: it would wait for as long as they come).
    pooled.conn->quit();
    graveyard_.push_back(std::move(pooled.conn));  // its close frees the slot and wakes the waiter
    return {};
  }
  if (limits_.max_per_server != 0 && ps.open > limits_.max_per_server) {
    // Over the cap (lowered live): the connection given back closes, so the server sees no more
    // than the cap once it is idle.
    pooled.conn->quit();
    graveyard_.push_back(std::move(pooled.conn));
    return {};
  }
  auto& list = idle_[key.packed()];
  if (list.size() >= limits_.max_idle_per_key) {
    pooled.conn->quit();
    graveyard_.push_back(std::move(pooled.conn));
    return {};
  }
  pooled.conn->set_owner(*this);
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.pooled = std::move(pooled);
  s.key = key;
  s.since_ms = now_ms;
  s.used = true;
  s.position = static_cast<uint32_t>(list.size());
  list.push_back(index);
  ++idle_total_;
  return Ticket{index, s.generation};
}

void ServerPool::opened(ServerId id) {
  ++server(id).open;
}

void ServerPool::closed(ServerId id) {
  PerServer& ps = server(id);
  if (ps.open > 0) --ps.open;
  wake_for_slot(id);
}

void ServerPool::wake_for_slot(ServerId id) {
  if (PoolWaiter* w = pop_waiter(id)) deliveries_.push_back(Delivery{w, PooledConn{}});
}

bool ServerPool::may_open(ServerId id) const {
  if (limits_.max_per_server == 0) return true;
  const PerServer* ps = find_server(id);
  // Waiters come first: a newcomer may not take a free slot ahead of them.
  return ps == nullptr || (ps->open < limits_.max_per_server && ps->head == nullptr);
}

uint32_t ServerPool::open_count(ServerId id) const {
  const PerServer* ps = find_server(id);
  return ps == nullptr ? 0 : ps->open;
}

void ServerPool::wait(PoolWaiter* w, PoolKey key, uint64_t now_ms) {
  if (w->queued_) return;
  PerServer& ps = server(key.server);
  w->key_ = key;
  w->deadline_ms_ = limits_.max_wait_ms == 0 ? UINT64_MAX : now_ms + limits_.max_wait_ms;
  w->prev_ = ps.tail;
  w->next_ = nullptr;
  if (ps.tail != nullptr) {
    ps.tail->next_ = w;
  } else {
    ps.head = w;
  }
  ps.tail = w;
  w->queued_ = true;
  ++waiting_total_;
  if (ps.open < limits_.max_per_server || limits_.max_per_server == 0) {
    wake_for_slot(key.server);  // a slot is free after all (it came free while others waited)
    return;
  }
  // Idle connections of other dialects hold the slots: give one up (its close wakes a waiter).
  for (auto& [packed, list] : idle_) {
    if (list.empty() || static_cast<ServerId>(packed >> 32) != key.server || packed == key.packed()) continue;
    PooledConn idle = take(list.back());
    idle.conn->quit();
    graveyard_.push_back(std::move(idle.conn));
    return;
  }
  // A session keeps a connection for results it may ask for: it gives it up for the waiter.
  if (PoolKeeper* k = ps.keepers) {
    unkeep(k);
    deliveries_.push_back(Delivery{nullptr, PooledConn{}, k});
  }
}

bool ServerPool::keep(PoolKeeper* k, ServerId id) {
  if (k->keeping_) unkeep(k);
  PerServer& ps = server(id);
  if (ps.head != nullptr) return false;  // sessions wait for this server: they come first
  k->server_ = id;
  k->prev_ = nullptr;
  k->next_ = ps.keepers;
  if (ps.keepers != nullptr) ps.keepers->prev_ = k;
  ps.keepers = k;
  k->keeping_ = true;
  return true;
}

void ServerPool::unkeep(PoolKeeper* k) {
  for (auto* list : {&deliveries_, &delivering_})
    for (auto& d : *list)
      if (d.reclaim == k) d.reclaim = nullptr;
  if (!k->keeping_) return;
  PerServer& ps = server(k->server_);
  if (k->prev_ != nullptr) {
    k->prev_->next_ = k->next_;
  } else {
    ps.keepers = k->next_;
  }
  if (k->next_ != nullptr) k->next_->prev_ = k->prev_;
  k->prev_ = k->next_ = nullptr;
  k->keeping_ = false;
}

void ServerPool::unlink(PoolWaiter* w) {
  if (!w->queued_) return;
  PerServer& ps = server(w->key_.server);
  if (w->prev_ != nullptr) {
    w->prev_->next_ = w->next_;
  } else {
    ps.head = w->next_;
  }
  if (w->next_ != nullptr) {
    w->next_->prev_ = w->prev_;
  } else {
    ps.tail = w->prev_;
  }
  w->prev_ = w->next_ = nullptr;
  w->queued_ = false;
  --waiting_total_;
}

PoolWaiter* ServerPool::pop_waiter(ServerId id) {
  if (id >= servers_.size()) return nullptr;
  PoolWaiter* w = servers_[id].head;
  if (w != nullptr) unlink(w);
  return w;
}

void ServerPool::cancel(PoolWaiter* w) {
  unlink(w);
  for (auto* list : {&deliveries_, &delivering_}) {
    for (auto& d : *list) {
      if (d.waiter != w) continue;
      d.waiter = nullptr;
      if (d.pooled.conn != nullptr) {
        d.pooled.conn->quit();
        graveyard_.push_back(std::move(d.pooled.conn));
      }
    }
  }
}

void ServerPool::run_wakeups(uint64_t now_ms) {
  graveyard_.clear();
  if (waiting_total_ > 0) {
    // By index: a timed-out session may go on to its next command at once and open a connection
    // to a server this pool has not seen yet, which grows servers_.
    for (size_t id = 0; id < servers_.size(); ++id) {
      while (servers_[id].head != nullptr && servers_[id].head->deadline_ms_ <= now_ms) {
        PoolWaiter* w = servers_[id].head;
        unlink(w);
        w->on_pool_timeout();
      }
    }
  }
  while (!deliveries_.empty()) {
    delivering_.swap(deliveries_);  // callbacks may queue more: they run in the next round
    for (Delivery& d : delivering_) {
      if (d.reclaim != nullptr) {
        d.reclaim->on_pool_reclaim();
        continue;
      }
      if (d.waiter == nullptr) continue;  // cancelled meanwhile
      if (d.pooled.conn != nullptr) {
        d.waiter->on_pool_handoff(std::move(d.pooled));
      } else {
        d.waiter->on_pool_slot();
      }
    }
    delivering_.clear();
    // Slots free while sessions wait (a woken waiter went away, the cap was raised): wake more.
    if (waiting_total_ > 0 && deliveries_.empty()) {
      for (size_t id = 0; id < servers_.size(); ++id) {
        PerServer& ps = servers_[id];
        if (ps.head != nullptr && (limits_.max_per_server == 0 || ps.open < limits_.max_per_server))
          wake_for_slot(static_cast<ServerId>(id));
      }
    }
  }
}

void ServerPool::expire(uint64_t now_ms, uint64_t max_idle_ms) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].used || now_ms - slots_[i].since_ms <= max_idle_ms) continue;
    PooledConn idle = take(i);
    idle.conn->quit();
  }
}

void ServerPool::close_all() {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].used) continue;
    PooledConn idle = take(i);
    idle.conn->quit();
  }
  for (auto& d : deliveries_) {
    if (d.pooled.conn != nullptr) d.pooled.conn->quit();
  }
  deliveries_.clear();
  graveyard_.clear();
}

void ServerPool::drop(ServerConn& conn) {
  conn.close(false);
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].used && slots_[i].pooled.conn.get() == &conn) {
      graveyard_.push_back(take(i).conn);
      return;
    }
  }
  for (auto& d : deliveries_) {
    if (d.pooled.conn.get() == &conn) {
      graveyard_.push_back(std::move(d.pooled.conn));
      // The waiter gets a slot to open instead.
      return;
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
