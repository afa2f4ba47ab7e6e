// The guest kernel's Xen balloon driver (drivers/xen/balloon.c, Linux 6.1) as a state machine
// in whole seconds.
#pragma once

#include <cstdint>

#include "xenballoon/sim/units.h"

namespace xenballoon::sim {

struct BalloonDriverSettings {
  // Pages moved per second at most, either way. The real driver works in chunks of 512 pages
  // and loops without delay while it succeeds; this bounds that loop (docs/simulation.md).
  std::uint64_t rate_pages_per_second = pages_from_mib(256);
  // sysfs max_schedule_delay and max_retry_count as on the captured Xen 4.17 guest.
  std::uint64_t max_schedule_delay_seconds = 20;
  std::uint64_t max_retry_count = 4;

  bool operator==(const BalloonDriverSettings&) const = default;
};

// balloon_state: done (idle or progressing), waiting schedule_delay after a failure
// (BP_EAGAIN), or given up until the target changes or an hour passes (BP_ECANCELED).
enum class BalloonDriverState { kDone, kRetrying, kCanceled };

// What the rest of the guest allows this second.
struct BalloonLimits {
  std::uint64_t grow_room_pages = 0;  // min(host free, max_pages - current, static-max - current)
  std::uint64_t mem_available_pages = 0;  // si_mem_available(): the most one pass may take
  std::uint64_t reclaimable_pages = 0;    // what GFP_BALLOON allocations can really get
  std::uint64_t totalreserve_pages = 0;
};

// target/current bookkeeping and the retry schedule. Moving the pages (host, guest memory) is
// the caller's job. A plain value; not thread-safe.
class BalloonDriverModel {
 public:
  BalloonDriverModel(BalloonDriverSettings settings, std::uint64_t current_pages);

  // What a write to target_kb does (balloon_set_new_target): wakes the driver if the credit
  // changed.
  void set_target_pages(std::uint64_t target_pages) { target_pages_ = target_pages; }

  // One second at `now_seconds`. Returns the pages to add (> 0) or give back (< 0); current
  // already includes the change.
  std::int64_t step(std::int64_t now_seconds, const BalloonLimits& limits);

  std::uint64_t target_pages() const { return target_pages_; }
  std::uint64_t current_pages() const { return current_pages_; }
  BalloonDriverState state() const { return state_; }
  std::uint64_t schedule_delay_seconds() const { return schedule_delay_; }
  std::uint64_t retry_count() const { return retry_count_; }
  const BalloonDriverSettings& settings() const { return settings_; }

  bool operator==(const BalloonDriverModel&) const = default;

 private:
  std::int64_t credit() const;
  void succeeded();
  void failed(std::int64_t now_seconds);

  BalloonDriverSettings settings_;
  std::uint64_t target_pages_ = 0;
  std::uint64_t current_pages_ = 0;
  BalloonDriverState state_ = BalloonDriverState::kDone;
  std::uint64_t schedule_delay_ = 1;
  std::uint64_t retry_count_ = 1;
  std::int64_t next_attempt_seconds_ = 0;
  std::int64_t waiting_credit_ = 0;  // the credit when the driver went to sleep
};

}  // namespace xenballoon::sim
