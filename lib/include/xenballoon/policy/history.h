// Fixed-size per-second histories the policies look back through: cumulative counters (increase
// over a window) and a level (its rise over a window). No allocation; not thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "xenballoon/config/agent_config.h"

namespace xenballoon {

// The longest window any history looks back.
inline constexpr std::size_t kHistoryCapacity = kMaxBurstWindowSeconds + 4;

// Per-second samples of N cumulative counters, enough to look back kMaxBurstWindowSeconds.
template <std::size_t N>
class CounterHistory {
 public:
  using Values = std::array<std::uint64_t, N>;

  struct Increase {
    Values values{};
    std::int64_t seconds = 0;    // how far back the baseline sample lies
    bool covers_window = false;  // false: the history is younger than the window (a lower bound)
  };

  // Samples in the same second replace each other (the counters are cumulative). A counter or
  // the clock going backwards restarts the history.
  void record(std::chrono::milliseconds now, const Values& values) {
    const std::int64_t second = std::chrono::floor<std::chrono::seconds>(now).count();
    if (size_ > 0) {
      const Sample& newest = samples_[newest_];
      bool backwards = second < newest.second;
      for (std::size_t i = 0; i < N; ++i) backwards = backwards || values[i] < newest.values[i];
      if (backwards) {
        clear();
      } else if (second == newest.second && size_ > 1) {
        // Replacing keeps every increase measurable from an older sample; the oldest one stays,
        // or an increase within the first second would vanish with it.
        samples_[newest_] = Sample{second, values};
        return;
      }
    }
    newest_ = size_ == 0 ? 0 : (newest_ + 1) % kHistoryCapacity;
    samples_[newest_] = Sample{second, values};
    size_ = std::min(size_ + 1, kHistoryCapacity);
  }

  // Increase from the newest sample taken at least `window` before the newest one (whole
  // seconds, at most kMaxBurstWindowSeconds) to the newest; zero when empty.
  Increase increase_over(std::chrono::seconds window) const {
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
    for (std::size_t i = 0; i < N; ++i) increase.values[i] = newest.values[i] - baseline->values[i];
    increase.seconds = newest.second - baseline->second;
    return increase;
  }

  void clear() {
    newest_ = 0;
    size_ = 0;
  }
  std::size_t size() const { return size_; }

 private:
  struct Sample {
    std::int64_t second = 0;
    Values values{};
  };
  const Sample& sample_at_age(std::size_t age) const {
    return samples_[(newest_ + kHistoryCapacity - age) % kHistoryCapacity];
  }

  std::array<Sample, kHistoryCapacity> samples_{};
  std::size_t newest_ = 0;
  std::size_t size_ = 0;
};

// Per-second samples of a level that moves both ways (Committed_AS): how far it rose within a
// window faster than a given rate could follow.
class LevelHistory {
 public:
  // Samples in the same second replace each other; the clock going backwards restarts.
  void record(std::chrono::milliseconds now, std::uint64_t level);
  // The largest rise to the newest level from a sample within `window` seconds of it, less
  // what `rate_per_second` delivers over the part of that time beyond `grace_seconds` (the
  // reaction time): what arrived faster than the rate (0 when the level only fell, rose slower
  // than the rate, or the history is empty).
  std::uint64_t outrun(std::chrono::seconds window, std::uint64_t rate_per_second,
                       double grace_seconds) const;
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }

 private:
  struct Sample {
    std::int64_t second = 0;
    std::uint64_t level = 0;
  };
  std::array<Sample, kHistoryCapacity> samples_{};
  std::size_t newest_ = 0;
  std::size_t size_ = 0;
};

}  // namespace xenballoon
