// A plain HTTP GET for xenballoon-monitor's --exporter mode. Thread-safe (no shared state).
#pragma once

#include <string>

#include "xenballoon/result.h"

namespace xenballoon::dom0 {

// GET http://<host>:<port><path>; `address` is "[host]:port" as --web.listen-address writes it
// (no host: localhost). The body of a 200 answer, or an error naming the address.
Result<std::string> http_fetch(const std::string& address, const std::string& path);

}  // namespace xenballoon::dom0
