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

std::uint64_t LevelHistory::outrun(std::chrono::seconds window, std::uint64_t rate_per_second,
                                   double grace_seconds) const {
  if (size_ == 0) return 0;
  const std::int64_t window_seconds =
      std::clamp<std::int64_t>(window.count(), 0, kMaxBurstWindowSeconds);
  const Sample& newest = samples_[newest_];
  std::uint64_t most = 0;
  for (std::size_t age = 1; age < size_; ++age) {
    const Sample& sample = samples_[(newest_ + kHistoryCapacity - age) % kHistoryCapacity];
    if (sample.second < newest.second - window_seconds) break;
    if (sample.level >= newest.level) continue;
    const double late = std::max(
        0.0, static_cast<double>(newest.second - sample.second) - std::max(0.0, grace_seconds));
    const double delivered = late * static_cast<double>(rate_per_second);
    const std::uint64_t rise = newest.level - sample.level;
    if (static_cast<double>(rise) > delivered) {
      most = std::max(most, rise - static_cast<std::uint64_t>(delivered));
    }
  }
  return most;
}

}  // namespace xenballoon
