#include "xenballoon/sim/balloon.h"

#include <algorithm>

namespace xenballoon::sim {
namespace {

// balloon_thread() sleeps at most an hour in BP_DONE and BP_ECANCELED, then looks again.
constexpr std::int64_t kCanceledTimeoutSeconds = 3600;

}  // namespace

BalloonDriverModel::BalloonDriverModel(BalloonDriverSettings settings, std::uint64_t current_pages)
    : settings_(settings), target_pages_(current_pages), current_pages_(current_pages) {}

std::int64_t BalloonDriverModel::credit() const {
  return static_cast<std::int64_t>(target_pages_) - static_cast<std::int64_t>(current_pages_);
}

void BalloonDriverModel::succeeded() {
  state_ = BalloonDriverState::kDone;
  schedule_delay_ = 1;
  retry_count_ = 1;
}

// update_schedule(): the delay doubles up to max_schedule_delay; after max_retry_count failures
// the driver gives up until the target changes.
void BalloonDriverModel::failed(std::int64_t now_seconds) {
  waiting_credit_ = credit();
  ++retry_count_;
  if (retry_count_ > settings_.max_retry_count) {
    schedule_delay_ = 1;
    retry_count_ = 1;
    state_ = BalloonDriverState::kCanceled;
    next_attempt_seconds_ = now_seconds + kCanceledTimeoutSeconds;
    return;
  }
  schedule_delay_ = std::min(schedule_delay_ * 2, settings_.max_schedule_delay_seconds);
  state_ = BalloonDriverState::kRetrying;
  next_attempt_seconds_ = now_seconds + static_cast<std::int64_t>(schedule_delay_);
}

std::int64_t BalloonDriverModel::step(std::int64_t now_seconds, const BalloonLimits& limits) {
  const std::int64_t wanted = credit();
  if (wanted == 0) {
    if (state_ == BalloonDriverState::kRetrying) succeeded();
    return 0;
  }
  // balloon_thread_cond(): a sleeping driver wakes when the credit changes or its timeout
  // (schedule_delay, or an hour after giving up) is over.
  const bool credit_changed = wanted != waiting_credit_;
  if (state_ != BalloonDriverState::kDone && !credit_changed &&
      now_seconds < next_attempt_seconds_) {
    return 0;
  }

  if (wanted > 0) {
    const std::uint64_t asked =
        std::min(static_cast<std::uint64_t>(wanted), settings_.rate_pages_per_second);
    const std::uint64_t got = std::min(asked, limits.grow_room_pages);
    if (got == 0) {
      failed(now_seconds);  // increase_reservation(): populate_physmap returned nothing
      return 0;
    }
    current_pages_ += got;
    succeeded();
    return static_cast<std::int64_t>(got);
  }

  const auto asked_total = static_cast<std::uint64_t>(-wanted);
  const std::uint64_t allowed = std::min(asked_total, limits.mem_available_pages);
  const std::uint64_t asked = std::min(allowed, settings_.rate_pages_per_second);
  const std::uint64_t got = std::min(asked, limits.reclaimable_pages);
  current_pages_ -= got;
  if (got < asked || (allowed != asked_total && allowed < limits.totalreserve_pages)) {
    failed(now_seconds);  // an allocation failed, or too little memory was available
  } else {
    succeeded();
  }
  return -static_cast<std::int64_t>(got);
}

}  // namespace xenballoon::sim
