#pragma once
// Hot upgrade (SIGUSR2): the running odp starts the binary at its own path, with the same
// arguments, as a child that inherits the listening sockets. The numbers of the inherited
// descriptors travel in the environment (ODP_UPGRADE_FDS="sql=5,6;admin=7;ready=8;handover=9;
// next_id=1234"); the child
// accepts on the same sockets (no bind, so no moment where a connect is refused) and, once it
// serves, writes "ready <pid>\n" on the ready pipe. The parent then stops accepting and moves its
// idle sessions over the handover socket (proxy/handover.h); the child gives new sessions ids
// from next_id on, above every id the parent gave.
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace odp::app {

inline constexpr const char* kUpgradeEnv = "ODP_UPGRADE_FDS";

// What a process started by a hot upgrade inherited (empty when started normally).
struct Inherited {
  std::vector<int> sql_fds;
  int admin_fd = -1;
  int ready_fd = -1;
  int handover_fd = -1;  // unix seqpacket socket: sessions handed over by the parent
  uint32_t next_id = 0;  // first connection id this process gives (0: from 1)
  bool active() const { return ready_fd >= 0; }
};

// Reads and removes kUpgradeEnv; marks the descriptors close-on-exec again and closes every other
// descriptor above stderr (the old process's server connections are not close-on-exec). Call it
// first thing in main, before anything opens a descriptor. A malformed value is an error.
Result<Inherited, std::string> take_inherited();

// Tells the parent this process serves (writes on and closes the ready pipe).
void report_ready(Inherited& inherited);

// The real path of the running executable (resolved once at start-up, before a package manager
// may replace the file: the replaced file is then the one started).
std::string executable_path();

struct UpgradeChild {
  pid_t pid = -1;
  int ready_fd = -1;     // read end of the ready pipe (non-blocking, close-on-exec)
  int handover_fd = -1;  // this process's end of the handover socket (close-on-exec, blocking)
};

// Starts `exe` with `argv` and the listening sockets; the caller watches `ready_fd`. The child
// gives connection ids from `next_id` on.
Result<UpgradeChild, std::string> spawn_upgrade(const std::string& exe, const std::vector<std::string>& argv,
                                                const std::vector<int>& sql_fds, int admin_fd, uint32_t next_id = 0);

// Parses kUpgradeEnv's value (exposed for tests).
Result<Inherited, std::string> parse_inherited(const std::string& value);

}  // namespace odp::app
