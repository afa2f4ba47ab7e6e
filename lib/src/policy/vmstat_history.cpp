#include <algorithm>

#include "xenballoon/policy/history.h"
#include "xenballoon/policy/policy.h"

namespace xenballoon {

void VmstatHistory::record(std::chrono::milliseconds now, std::uint64_t pswpin,
                           std::uint64_t pgmajfault) {
  counters_.record(now, {pswpin, pgmajfault});
}

VmstatHistory::Increase VmstatHistory::increase_over(std::chrono::seconds window) const {
  const auto increase = counters_.increase_over(window);
  return Increase{increase.values[0], increase.values[1], increase.covers_window};
}

void VmstatHistory::clear() {
  counters_.clear();
}

void LevelHistory::record(std::chrono::milliseconds now, std::uint64_t level) {
  const std::int64_t second = std::chrono::floor<std::chrono::seconds>(now).count();
  if (size_ > 0) {
    if (second < samples_[newest_].second) {
      clear();
    } else if (second == samples_[newest_].second) {
      samples_[newest_].level = level;
      return;
    }
  }
  newest_ = size_ == 0 ? 0 : (newest_ + 1) % kHistoryCapacity;
  samples_[newest_] = Sample{second, level};
  size_ = std::min(size_ + 1, kHistoryCapacity);
}

std::uint64_t LevelHistory::rise_over(std::chrono::seconds window) const {
  if (size_ == 0) return 0;
  const std::int64_t window_seconds =
      std::clamp<std::int64_t>(window.count(), 0, kMaxBurstWindowSeconds);
  const Sample& newest = samples_[newest_];
  std::uint64_t lowest = newest.level;
  for (std::size_t age = 1; age < size_; ++age) {
    const Sample& sample = samples_[(newest_ + kHistoryCapacity - age) % kHistoryCapacity];
    if (sample.second < newest.second - window_seconds) break;
    lowest = std::min(lowest, sample.level);
  }
  return newest.level - lowest;
}

}  // namespace xenballoon
