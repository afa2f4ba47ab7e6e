#include "xenballoon/util/pidfile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "xenballoon/util/parse.h"

namespace xenballoon {

Result<std::unique_ptr<Pidfile>> Pidfile::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{"cannot open pidfile " + path + ": " + std::strerror(errno), errno};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      auto pid = n > 0 ? parse_u64(trim(std::string_view(buf, static_cast<std::size_t>(n))))
                       : std::nullopt;
      std::string who = pid ? "PID " + std::to_string(*pid) : "another process";
      return Error{"already running: " + who + " holds the pidfile " + path, EEXIST};
    }
    return Error{"cannot lock pidfile " + path + ": " + std::strerror(err), err};
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return Error{"cannot write pidfile " + path + ": " + std::strerror(err), err};
  }
  return std::unique_ptr<Pidfile>(new Pidfile(path, fd));
}

Pidfile::~Pidfile() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace xenballoon
