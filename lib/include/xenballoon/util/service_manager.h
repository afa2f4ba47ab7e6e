// The service manager's notification protocol (sd_notify(3)): one datagram with the state text to
// the AF_UNIX socket named by $NOTIFY_SOCKET. systemd documents the protocol as the stable
// interface and recommends implementing it directly rather than linking libsystemd for it.
// Thread-safe (reads the environment, keeps no state).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "xenballoon/result.h"

namespace xenballoon::service_manager {

// Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1", ...). Without $NOTIFY_SOCKET (not
// started by a service manager) it does nothing and succeeds. A path socket or, with a leading
// '@', an abstract one. Errors name the socket and the errno.
Result<void> notify(std::string_view state);

// $WATCHDOG_USEC when the watchdog is on for this process ($WATCHDOG_PID absent or ours);
// nullopt when it is off, unset or not a positive number.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace xenballoon::service_manager
