#pragma once
// The running proxy: listeners, worker threads and the control thread. app/main.cpp drives it.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "admin/config.h"
#include "base/result.h"

namespace odp::proxy {

class Server {
 public:
  // Binds one SO_REUSEPORT listener per worker and starts the workers. On failure returns one
  // clear line, e.g. "listen 127.0.0.1:2883: Address already in use".
  // `inherited`: listening sockets handed over by the process this one hot-upgrades (same
  // address): used instead of binding, so no connection is refused while the processes change.
  // `on_upgrade`: what `alter proxy upgrade` calls (on a worker thread); none = not available.
  // `handover_fd`: the new process's end of the hot upgrade's handover socket (sessions the old
  // process moves arrive on it; proxy/handover.h); `first_id`: the first connection id to give.
  static Result<std::unique_ptr<Server>, std::string> start(std::shared_ptr<const admin::Config> config,
                                                            std::vector<int> inherited = {},
                                                            std::function<void()> on_upgrade = {}, int handover_fd = -1,
                                                            uint32_t first_id = 0);
  virtual ~Server() = default;

  // Applies a reloaded config to what can change live. Returns the dotted keys that changed
  // but cannot take effect without a restart (the caller logs them).
  virtual std::vector<std::string> reload(std::shared_ptr<const admin::Config> config) = 0;
  // Stops accepting, closes idle clients, lets statements in flight finish.
  virtual void begin_drain() = 0;
  virtual bool draining() const = 0;
  // The drain's deadline (listen.drain_timeout_ms): closes every session left, each with ERR 1053
  // where its client can read one, and kills their statements still running on servers.
  virtual void expire_drain() = 0;
  // Those KILLs not answered yet (the control loop waits a little for them before it exits).
  virtual size_t drain_kills_pending() const = 0;
  // Hot upgrade, once the new process accepts on the same sockets: stops accepting, keeps serving
  // the sessions until they end (main closes what is left at listen.drain_timeout_ms).
  // With `handover_fd` (the old process's end of the handover socket, owned by the Server from
  // now on): sessions at a quiet point move to the new process at each handover_tick().
  virtual void begin_handover(int handover_fd = -1) = 0;
  // While handing over: moves the sessions that reached a quiet point (the control loop calls it).
  virtual void handover_tick() = 0;
  // Sessions moved to the new process (hot upgrade).
  virtual uint64_t sessions_handed_over() const = 0;
  // The next connection id this process would give.
  virtual uint32_t next_connection_id() const = 0;
  // The listening sockets (valid until a drain or handover starts), to hand to a new process.
  virtual std::vector<int> listen_fds() const = 0;
  // Client sessions still open over all workers.
  virtual size_t client_sessions() const = 0;
  // Ends the workers (closing whatever is left) and joins them. Idempotent.
  virtual void stop() = 0;
};

}  // namespace odp::proxy
