#include "xs_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

namespace xenballoon::testing {
namespace {

// struct xsd_sockmsg: type, req_id, tx_id, len, then len bytes.
constexpr std::size_t kHeader = 16;

int unix_socket(const std::string& path, bool listen) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const auto* a = reinterpret_cast<const sockaddr*>(&addr);
  const bool ok = listen ? ::bind(fd, a, sizeof addr) == 0 && ::listen(fd, 16) == 0
                         : ::connect(fd, a, sizeof addr) == 0;
  if (!ok) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One client and its upstream, with what each side has sent but not yet forwarded whole.
struct Pair {
  int client = -1, upstream = -1;
  std::vector<char> from_client;
};

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

XsProxy::XsProxy(std::string listen_path, std::string upstream_path)
    : listen_path_(std::move(listen_path)), upstream_path_(std::move(upstream_path)) {
  ::unlink(listen_path_.c_str());
  listen_fd_ = unix_socket(listen_path_, true);
  if (listen_fd_ < 0 || ::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("proxy: cannot listen on " + listen_path_);
  thread_ = std::thread([this] { run(); });
}

XsProxy::~XsProxy() {
  if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
  ::unlink(listen_path_.c_str());
}

void XsProxy::run() {
  std::vector<Pair> pairs;
  auto drop = [](Pair& p) {
    ::close(p.client);
    ::close(p.upstream);
    p.client = p.upstream = -1;
  };
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
    if (fds[0].revents != 0) break;
    const std::size_t polled = pairs.size();  // a connection accepted now waits for the next poll
    if (fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      int upstream = client >= 0 ? unix_socket(upstream_path_, false) : -1;
      if (upstream >= 0) {
        pairs.push_back({client, upstream, {}});
        ++connections_;
      } else if (client >= 0) {
        ::close(client);
      }
    }
    char buf[65536];
    for (std::size_t i = 0; i < polled; ++i) {
      Pair& p = pairs[i];
      const pollfd& c = fds[2 + 2 * i];
      const pollfd& u = fds[3 + 2 * i];
      if (u.revents != 0) {
        ssize_t n = ::recv(p.upstream, buf, sizeof buf, 0);
        if (n <= 0 || !send_all(p.client, buf, static_cast<std::size_t>(n))) {
          drop(p);
          continue;
        }
      }
      if (c.revents != 0) {
        ssize_t n = ::recv(p.client, buf, sizeof buf, 0);
        if (n <= 0) {
          drop(p);
          continue;
        }
        p.from_client.insert(p.from_client.end(), buf, buf + n);
        // Forward whole messages, looking at each one's transaction id.
        while (p.from_client.size() >= kHeader) {
          std::uint32_t header[4];
          std::memcpy(header, p.from_client.data(), kHeader);
          const std::size_t size = kHeader + header[3];
          if (p.from_client.size() < size) break;
          if (header[2] != 0 && armed_.exchange(false)) {
            ++cuts_;
            drop(p);
            break;
          }
          if (!send_all(p.upstream, p.from_client.data(), size)) {
            drop(p);
            break;
          }
          p.from_client.erase(p.from_client.begin(),
                              p.from_client.begin() + static_cast<std::ptrdiff_t>(size));
        }
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (Pair& p : pairs) drop(p);
}

}  // namespace xenballoon::testing
