// Test support: a plain HTTP/1.0 GET over loopback. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

namespace xenballoon::testing {

struct HttpResult {
  int status = 0;  // 0: no connection or no valid answer
  std::string headers;
  std::string body;
};

HttpResult http_get(std::uint16_t port, const std::string& path, const std::string& method = "GET");

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

// True when nothing is bound to `port` on 127.0.0.1 right now.
bool port_is_free(std::uint16_t port);

// A TCP socket connected to 127.0.0.1:port (close it), or -1.
int connect_loopback(std::uint16_t port);

}  // namespace xenballoon::testing
