#include "xenballoon/xenstore/reconnect.h"

#include <algorithm>

namespace xenballoon::xenstore {

Reconnect::Reconnect(Options options) : options_(options), backoff_(options.initial) {}

bool Reconnect::failed(Clock::time_point now) {
  next_try_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max);
  const bool first = !failing_;
  failing_ = true;
  return first;
}

void Reconnect::lost(Clock::time_point now) {
  next_try_ = now + backoff_;
  failing_ = true;
}

bool Reconnect::succeeded() {
  const bool again = ever_connected_;
  ever_connected_ = true;
  failing_ = false;
  backoff_ = options_.initial;
  return again;
}

}  // namespace xenballoon::xenstore
