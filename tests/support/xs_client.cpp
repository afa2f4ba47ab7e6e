#include "xs_client.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace xenballoon::testing {

XsHandle::XsHandle(const std::string& socket_path) {
  const char* old = std::getenv("XENSTORED_PATH");
  std::string saved = old ? old : "";
  ::setenv("XENSTORED_PATH", socket_path.c_str(), 1);
  h_ = xs_open(0);
  if (old) {
    ::setenv("XENSTORED_PATH", saved.c_str(), 1);
  } else {
    ::unsetenv("XENSTORED_PATH");
  }
}

XsHandle::~XsHandle() {
  if (h_) xs_close(h_);
}

int XsHandle::write(const std::string& path, const std::string& value, xs_transaction_t t) {
  errno = 0;
  return xs_write(h_, t, path.c_str(), value.data(), static_cast<unsigned>(value.size())) ? 0
                                                                                          : errno;
}

int XsHandle::read(const std::string& path, std::string* value, xs_transaction_t t) {
  unsigned len = 0;
  errno = 0;
  void* data = xs_read(h_, t, path.c_str(), &len);
  if (!data) return errno;
  value->assign(static_cast<char*>(data), len);
  std::free(data);
  return 0;
}

int XsHandle::mkdir(const std::string& path, xs_transaction_t t) {
  errno = 0;
  return xs_mkdir(h_, t, path.c_str()) ? 0 : errno;
}

int XsHandle::rm(const std::string& path, xs_transaction_t t) {
  errno = 0;
  return xs_rm(h_, t, path.c_str()) ? 0 : errno;
}

int XsHandle::list(const std::string& path, std::vector<std::string>* children,
                   xs_transaction_t t) {
  unsigned num = 0;
  errno = 0;
  char** names = xs_directory(h_, t, path.c_str(), &num);
  if (!names) return errno;
  children->assign(names, names + num);
  std::free(names);
  return 0;
}

int XsHandle::watch(const std::string& path, const std::string& token) {
  errno = 0;
  return xs_watch(h_, path.c_str(), token.c_str()) ? 0 : errno;
}

int XsHandle::unwatch(const std::string& path, const std::string& token) {
  errno = 0;
  return xs_unwatch(h_, path.c_str(), token.c_str()) ? 0 : errno;
}

std::optional<std::pair<std::string, std::string>> XsHandle::next_event(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    char** event = xs_check_watch(h_);
    if (event) {
      std::pair<std::string, std::string> out{event[XS_WATCH_PATH], event[XS_WATCH_TOKEN]};
      std::free(event);
      return out;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{xs_fileno(h_), POLLIN, 0};
    ::poll(&pfd, 1, static_cast<int>(left.count()));
  }
}

std::vector<std::pair<std::string, std::string>> XsHandle::drain_events(
    std::chrono::milliseconds quiet) {
  std::vector<std::pair<std::string, std::string>> out;
  while (auto event = next_event(quiet)) out.push_back(*event);
  return out;
}

std::vector<std::pair<std::string, std::string>> XsHandle::wait_events(
    std::size_t count, std::chrono::milliseconds timeout, std::chrono::milliseconds quiet) {
  std::vector<std::pair<std::string, std::string>> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto event = next_event(left);
    if (!event) break;
    out.push_back(*event);
  }
  for (auto& extra : drain_events(quiet)) out.push_back(std::move(extra));
  return out;
}

std::string errno_text(int err) {
  switch (err) {
    case 0:
      return "OK";
    case EINVAL:
      return "EINVAL";
    case EACCES:
      return "EACCES";
    case EEXIST:
      return "EEXIST";
    case ENOENT:
      return "ENOENT";
    case ENOSPC:
      return "ENOSPC";
    case EAGAIN:
      return "EAGAIN";
    case E2BIG:
      return "E2BIG";
    case EPERM:
      return "EPERM";
    case EBUSY:
      return "EBUSY";
    case ENOSYS:
      return "ENOSYS";
    case EIO:
      return "EIO";
    case ENOMEM:
      return "ENOMEM";
    default:
      return "errno " + std::to_string(err);
  }
}

}  // namespace xenballoon::testing
