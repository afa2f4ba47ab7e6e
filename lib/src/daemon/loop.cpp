#include "xenballoon/daemon/loop.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

namespace xenballoon::daemon {

Loop::Loop(SignalSet& signals) : signals_(signals), stop_signals_{SIGTERM, SIGINT} {}

Loop::Id Loop::add_fd(int fd, FdCallback callback, short events) {
  const Id id = next_id_++;
  watches_.push_back({id, fd, events, std::move(callback)});
  return id;
}

void Loop::set_fd(Id id, int fd) {
  for (Watch& watch : watches_) {
    if (watch.id == id) watch.fd = fd;
  }
}

void Loop::set_events(Id id, short events) {
  for (Watch& watch : watches_) {
    if (watch.id == id) watch.events = events;
  }
}

void Loop::remove_fd(Id id) {
  std::erase_if(watches_, [id](const Watch& watch) { return watch.id == id; });
}

Loop::Id Loop::schedule(Clock::time_point when, Callback callback) {
  const Id id = next_id_++;
  timers_.push_back({id, when, Clock::duration::zero(), std::move(callback)});
  return id;
}

Loop::Id Loop::schedule_every(Clock::time_point first, Clock::duration period, Callback callback) {
  const Id id = next_id_++;
  timers_.push_back({id, first, std::max(period, Clock::duration(1)), std::move(callback)});
  return id;
}

bool Loop::cancel(Id id) {
  return std::erase_if(timers_, [id](const Timer& timer) { return timer.id == id; }) > 0;
}

void Loop::wake_at(Clock::time_point when) {
  wake_at_ = wake_at_ ? std::min(*wake_at_, when) : when;
}

bool Loop::is_stop_signal(int signal_number) const {
  return std::find(stop_signals_.begin(), stop_signals_.end(), signal_number) !=
         stop_signals_.end();
}

std::optional<Loop::Clock::time_point> Loop::next_wake() const {
  std::optional<Clock::time_point> wake = wake_at_;
  for (const Timer& timer : timers_) {
    if (!wake || timer.when < *wake) wake = timer.when;
  }
  return wake;
}

void Loop::handle_signals() {
  const std::vector<int> received = signals_.read_pending();
  if (received.empty()) return;
  if (on_signals_) {
    const SignalsCallback callback = on_signals_;
    callback(received);
  }
  bool reload = false;
  for (int signal_number : received) {
    if (is_stop_signal(signal_number)) {
      if (!stopping_ || stop_signal_ == 0) stop_signal_ = signal_number;
      stopping_ = true;
    } else if (signal_number == SIGHUP) {
      reload = true;
    }
  }
  if (stopping_ || !reload || !reload_) return;
  const Callback callback = reload_;
  callback();
}

void Loop::run_due_timers() {
  const Clock::time_point now = Clock::now();
  while (!stopping_) {
    auto due = timers_.end();
    for (auto timer = timers_.begin(); timer != timers_.end(); ++timer) {
      if (timer->when > now) continue;
      if (due == timers_.end() || timer->when < due->when ||
          (timer->when == due->when && timer->id < due->id)) {
        due = timer;
      }
    }
    if (due == timers_.end()) return;
    Callback callback;
    if (due->period > Clock::duration::zero()) {
      callback = due->callback;
      due->when += due->period;
      if (due->when <= now) due->when = now + due->period;
    } else {
      callback = std::move(due->callback);
      timers_.erase(due);
    }
    if (callback) callback();
  }
}

Result<void> Loop::run() {
  std::vector<pollfd> fds;
  std::vector<Id> ids;
  while (!stopping_) {
    if (before_poll_) {
      const Callback callback = before_poll_;
      callback();
      if (stopping_) break;
    }
    fds.assign(1, pollfd{signals_.fd(), POLLIN, 0});
    ids.clear();
    for (const Watch& watch : watches_) {
      fds.push_back({watch.fd, watch.events, 0});
      ids.push_back(watch.id);
    }
    int timeout_ms = -1;
    if (const auto wake = next_wake()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
    }
    wake_at_.reset();
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      return Error{std::string("poll: ") + std::strerror(error), error};
    }
    if (fds[0].revents != 0) handle_signals();
    for (std::size_t i = 0; i < ids.size() && !stopping_; ++i) {
      const short revents = fds[i + 1].revents;
      if (revents == 0) continue;
      // Looked up again: an earlier callback of this pass may have removed it.
      auto watch = std::find_if(watches_.begin(), watches_.end(),
                                [&](const Watch& w) { return w.id == ids[i]; });
      if (watch == watches_.end() || !watch->callback) continue;
      const FdCallback callback = watch->callback;
      callback(revents);
    }
    run_due_timers();
  }
  return {};
}

}  // namespace xenballoon::daemon
