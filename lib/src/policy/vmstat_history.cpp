#include <algorithm>

#include "xenballoon/policy/policy.h"

namespace xenballoon {

void VmstatHistory::record(std::chrono::milliseconds now, std::uint64_t pswpin,
                           std::uint64_t pgmajfault) {
  const std::int64_t second = std::chrono::floor<std::chrono::seconds>(now).count();
  if (size_ > 0) {
    const Sample& newest = samples_[newest_];
    if (second < newest.second || pswpin < newest.pswpin || pgmajfault < newest.pgmajfault) {
      clear();
    } else if (second == newest.second && size_ > 1) {
      // Replacing keeps every increase measurable from an older sample; the oldest one stays,
      // or an increase within the first second would vanish with it.
      samples_[newest_] = Sample{second, pswpin, pgmajfault};
      return;
    }
  }
  newest_ = size_ == 0 ? 0 : (newest_ + 1) % kCapacity;
  samples_[newest_] = Sample{second, pswpin, pgmajfault};
  size_ = std::min(size_ + 1, kCapacity);
}

VmstatHistory::Increase VmstatHistory::increase_over(std::chrono::seconds window) const {
  Increase increase;
  if (size_ == 0) return increase;
  const std::int64_t window_seconds =
      std::clamp<std::int64_t>(window.count(), 0, kMaxBurstWindowSeconds);
  const Sample& newest = sample_at_age(0);
  const Sample* baseline = &sample_at_age(size_ - 1);
  for (std::size_t age = 1; age < size_; ++age) {
    const Sample& candidate = sample_at_age(age);
    if (candidate.second <= newest.second - window_seconds) {
      baseline = &candidate;
      increase.covers_window = true;
      break;
    }
  }
  increase.pswpin = newest.pswpin - baseline->pswpin;
  increase.pgmajfault = newest.pgmajfault - baseline->pgmajfault;
  return increase;
}

void VmstatHistory::clear() {
  newest_ = 0;
  size_ = 0;
}

const VmstatHistory::Sample& VmstatHistory::sample_at_age(std::size_t age) const {
  return samples_[(newest_ + kCapacity - age) % kCapacity];
}

}  // namespace xenballoon
