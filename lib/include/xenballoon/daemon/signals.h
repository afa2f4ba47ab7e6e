// The signals a daemon handles itself: blocked, and read without blocking from a signalfd that a
// poll loop (loop.h) watches. SIGPIPE is ignored, so a peer that goes away is an EPIPE write.
// Not thread-safe: open it in main() before the first thread starts (threads inherit the mask,
// so no other thread takes the signals), and read it from one thread.
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon::daemon {

class SignalSet {
 public:
  // Blocks SIGTERM, SIGINT and `more` (SIGHUP, SIGUSR1, SIGCHLD...) in the calling thread and
  // opens a non-blocking, close-on-exec signalfd for them; ignores SIGPIPE. Children started
  // with spawn() (util/spawn.h) reset both.
  static Result<SignalSet> open(std::initializer_list<int> more = {});

  SignalSet(SignalSet&& other) noexcept;
  SignalSet& operator=(SignalSet&& other) noexcept;
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;
  // Closes the signalfd. The signals stay blocked: one pending would otherwise be delivered with
  // its default action (most end the process).
  ~SignalSet();

  // Readable (POLLIN) while a signal is pending.
  int fd() const { return fd_; }
  bool contains(int signal_number) const;
  // Every pending signal, in the order the kernel hands them out; empty when none is pending.
  std::vector<int> read_pending();

 private:
  SignalSet(int fd, std::vector<int> signals) : fd_(fd), signals_(std::move(signals)) {}
  int fd_ = -1;
  std::vector<int> signals_;
};

}  // namespace xenballoon::daemon
