#include "xenballoon/daemon/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace xenballoon::daemon {

Result<SignalSet> SignalSet::open(std::initializer_list<int> more) {
  std::vector<int> signals = {SIGTERM, SIGINT};
  for (int signal_number : more) {
    if (std::find(signals.begin(), signals.end(), signal_number) == signals.end()) {
      signals.push_back(signal_number);
    }
  }
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal_number : signals) {
    if (sigaddset(&mask, signal_number) != 0) {
      return Error{"signal " + std::to_string(signal_number) + ": " + std::strerror(errno), errno};
    }
  }
  if (const int error = ::pthread_sigmask(SIG_BLOCK, &mask, nullptr); error != 0) {
    return Error{std::string("pthread_sigmask: ") + std::strerror(error), error};
  }
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return Error{std::string("signalfd: ") + std::strerror(error), error};
  }
  return SignalSet(fd, std::move(signals));
}

SignalSet::SignalSet(SignalSet&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), signals_(std::move(other.signals_)) {}

SignalSet& SignalSet::operator=(SignalSet&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    signals_ = std::move(other.signals_);
  }
  return *this;
}

SignalSet::~SignalSet() {
  if (fd_ >= 0) ::close(fd_);
}

bool SignalSet::contains(int signal_number) const {
  return std::find(signals_.begin(), signals_.end(), signal_number) != signals_.end();
}

std::vector<int> SignalSet::read_pending() {
  std::vector<int> pending;
  if (fd_ < 0) return pending;
  signalfd_siginfo info{};
  for (;;) {
    const ssize_t got = ::read(fd_, &info, sizeof info);
    if (got == static_cast<ssize_t>(sizeof info)) {
      pending.push_back(static_cast<int>(info.ssi_signo));
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN: nothing more pending
    }
  }
  return pending;
}

}  // namespace xenballoon::daemon
