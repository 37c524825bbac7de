#pragma once
// systemd's notification protocol (Type=notify): READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1.
// A no-op without NOTIFY_SOCKET (not started by systemd) or when built without libsystemd.
#include <chrono>

namespace odp::app {

void notify(const char* state);
// How often to send WATCHDOG=1 (half of WatchdogSec), or zero when the watchdog is off.
std::chrono::milliseconds watchdog_interval();

}  // namespace odp::app
