#include "app/notify.h"

#ifdef ODP_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace odp::app {

void notify(const char* state) {
#ifdef ODP_HAVE_SYSTEMD
  sd_notify(0, state);
#else
  (void)state;
#endif
}

std::chrono::milliseconds watchdog_interval() {
#ifdef ODP_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::milliseconds(usec / 2000);  // half of WatchdogSec, in ms
  }
#endif
  return std::chrono::milliseconds(0);
}

}  // namespace odp::app
