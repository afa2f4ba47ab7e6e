#include "xenballoon/util/service_manager.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "xenballoon/util/parse.h"

namespace xenballoon::service_manager {

Result<void> notify(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || name[0] == '\0') return {};
  std::string path(name);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path[0] != '/' && path[0] != '@') {
    return Error{"NOTIFY_SOCKET \"" + path + "\" is neither a path nor an abstract name", EINVAL};
  }
  if (path.size() >= sizeof address.sun_path) {
    return Error{"NOTIFY_SOCKET \"" + path + "\" is too long", ENAMETOOLONG};
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    return Error{std::string("socket for NOTIFY_SOCKET: ") + std::strerror(err), err};
  }
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (sent < 0) {
    return Error{"cannot notify " + path + ": " + std::strerror(err), err};
  }
  return {};
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::nullopt;
  std::optional<std::uint64_t> interval = parse_u64(usec);
  if (!interval || *interval == 0) return std::nullopt;
  if (const char* pid = std::getenv("WATCHDOG_PID")) {
    std::optional<std::uint64_t> owner = parse_u64(pid);
    if (!owner || *owner != static_cast<std::uint64_t>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(*interval);
}

}  // namespace xenballoon::service_manager
