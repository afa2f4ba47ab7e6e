// Is anything listening? Loopback TCP ports and Unix sockets. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

namespace xenballoon::sim::host {

// True when nothing listens on 127.0.0.1:port (a bind succeeds).
bool loopback_port_is_free(std::uint16_t port);

// True when 127.0.0.1:port accepts a connection.
bool loopback_port_accepts(std::uint16_t port);

// True when the Unix socket at `path` accepts a connection.
bool unix_socket_accepts(const std::string& path);

}  // namespace xenballoon::sim::host
