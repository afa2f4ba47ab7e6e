// A daemon's main loop on one thread: poll() over a signalfd (signals.h) and registered fds,
// with timers on the steady clock, until a stop signal (SIGTERM, SIGINT) or stop(). SIGHUP calls
// the reload callback when one is set. Not thread-safe: register, run and stop from the thread
// that runs it (callbacks may add and remove fds and timers, and call stop()).
//
// One pass of run(): the before-poll callback; poll() until an fd is ready, a signal arrives or
// the earliest of the timers and wake_at() is due; then, in this order, the signals (the signals
// callback with every one read, then a stop signal ends run() and SIGHUP reloads), the ready fds
// in registration order, and the due timers in order of their times (ties: the first
// scheduled; a repeating timer keeps its place). Nothing more runs in the pass once stop() was
// called.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "xenballoon/daemon/signals.h"
#include "xenballoon/result.h"

namespace xenballoon::daemon {

class Loop {
 public:
  using Clock = std::chrono::steady_clock;
  using Callback = std::function<void()>;
  // Gets poll()'s revents: POLLIN, POLLOUT, POLLHUP, POLLERR.
  using FdCallback = std::function<void(short revents)>;
  using SignalsCallback = std::function<void(const std::vector<int>& signals)>;
  using Id = std::uint64_t;

  // `signals` must outlive the loop. Stop signals: SIGTERM and SIGINT.
  explicit Loop(SignalSet& signals);

  // The signals that end run() (each must be in the SignalSet to be seen). A program that has
  // no configuration to reload may stop on SIGHUP too.
  void set_stop_signals(std::vector<int> signals) { stop_signals_ = std::move(signals); }
  // Called on SIGHUP (once per pass however many arrived) unless SIGHUP is a stop signal.
  void on_reload(Callback callback) { reload_ = std::move(callback); }
  // Called with every signal read in a pass (SIGCHLD, SIGUSR1, the stop signals too), before
  // the loop acts on them.
  void on_signals(SignalsCallback callback) { on_signals_ = std::move(callback); }
  // Called at the start of every pass: work that must happen before each wait, such as
  // draining a queue or computing the next wake-up with wake_at().
  void before_poll(Callback callback) { before_poll_ = std::move(callback); }

  // Watches `fd` for `events`; the callback runs whenever poll() reports anything for it
  // (POLLHUP, POLLERR and POLLNVAL included: remove or replace an fd that will not recover). A
  // negative fd is skipped (set_fd() can give it one later).
  Id add_fd(int fd, FdCallback callback, short events = POLLIN);
  void set_fd(Id id, int fd);
  void set_events(Id id, short events);
  void remove_fd(Id id);

  // Calls `callback` once at `when` (at once when it has passed).
  Id schedule(Clock::time_point when, Callback callback);
  // Calls `callback` at `first`, then every `period` (> 0) after the time it was due; times
  // missed while the loop was busy are skipped, not made up.
  Id schedule_every(Clock::time_point first, Clock::duration period, Callback callback);
  // False when no such timer is pending (it ran, or was cancelled).
  bool cancel(Id id);
  // Wake no later than `when` in this pass only (before_poll() may set it each pass).
  void wake_at(Clock::time_point when);

  // Runs passes until a stop signal or stop(). An Error when poll() fails.
  Result<void> run();
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }
  // The stop signal that ended run(); 0 when it was stop() (or run() has not ended).
  int stop_signal() const { return stop_signal_; }

 private:
  struct Watch {
    Id id;
    int fd;
    short events;
    FdCallback callback;
  };
  struct Timer {
    Id id;
    Clock::time_point when;
    Clock::duration period;  // zero: once
    Callback callback;
  };

  bool is_stop_signal(int signal_number) const;
  void handle_signals();
  std::optional<Clock::time_point> next_wake() const;
  void run_due_timers();

  SignalSet& signals_;
  std::vector<int> stop_signals_;
  Callback reload_;
  SignalsCallback on_signals_;
  Callback before_poll_;
  std::vector<Watch> watches_;
  std::vector<Timer> timers_;
  std::optional<Clock::time_point> wake_at_;
  Id next_id_ = 1;
  bool stopping_ = false;
  int stop_signal_ = 0;
};

}  // namespace xenballoon::daemon
