// When to try connecting to xenstore again: an exponential backoff (100 ms doubling to 5 s by
// default) and what a daemon needs to log an outage once, and to tell a reconnection from the
// first connection. A plain value with no clock of its own (every call takes `now`), so tests
// drive it in virtual time. Not thread-safe: one per connection, on the thread that connects.
#pragma once

#include <chrono>

namespace xenballoon::xenstore {

class Reconnect {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{5000};
  };

  Reconnect() = default;
  explicit Reconnect(Options options);

  // Whether a connection may be tried at `now`: true until the first failure.
  bool due(Clock::time_point now) const { return now >= next_try_; }
  // When the next try is due (the past when it is due now).
  Clock::time_point next_try() const { return next_try_; }
  // The wait the next failure will schedule.
  std::chrono::milliseconds backoff() const { return backoff_; }

  // A try failed at `now`: the next one waits the current backoff, which then doubles up to the
  // maximum. True for the first failure since construction, the last success or the last loss,
  // the one to report; later ones are quieter.
  bool failed(Clock::time_point now);
  // A working connection broke at `now`: the next try waits the current backoff, undoubled (the
  // initial one after a success). The caller reports the loss; the failures after it are not
  // first ones.
  void lost(Clock::time_point now);
  // A connection was made: the backoff starts over. True when it is a reconnection, false for
  // the first connection ever.
  bool succeeded();

  bool ever_connected() const { return ever_connected_; }

 private:
  Options options_;
  std::chrono::milliseconds backoff_{options_.initial};
  Clock::time_point next_try_{};
  bool ever_connected_ = false;
  bool failing_ = false;  // a failure or a loss since the last success
};

}  // namespace xenballoon::xenstore
