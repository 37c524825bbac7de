#pragma once
// Applies the [log] section to the process-wide logger: at start-up, on SIGHUP and after
// `alter proxyconfig set log.level|log.dir = ...`. Blocking (mkdir, open): not for the data path.
#include <string>

#include "admin/config.h"

namespace odp::admin {

// Sets the level and the output (stderr when log.dir is "", else log.dir/odp.log, creating the
// directory). Returns "" or one line saying what failed, e.g. "log.dir /x: Permission denied";
// on failure the previous output stays.
std::string apply_log_settings(const LogConfig& log);

}  // namespace odp::admin
