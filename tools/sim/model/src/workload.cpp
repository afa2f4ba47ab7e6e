#include "xenballoon/sim/workload.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "xenballoon/sim/units.h"

namespace xenballoon::sim {
namespace {

constexpr double kSecondsPerDay = 86400;
constexpr double kSecondsPerHour = 3600;
// The noise is an AR(1) process with a correlation time of about 100 s: memory use wanders
// instead of jumping every second.
constexpr double kNoiseCorrelation = 0.99;

std::uint64_t pages_from_mib_rounded(double mib) {
  if (!(mib > 0)) return 0;
  return static_cast<std::uint64_t>(std::llround(mib * static_cast<double>(kPagesPerMib)));
}

// Linear growth to `size` over `ramp` seconds from the window start, then flat.
double ramped(double size, std::uint64_t seconds_into_window, std::uint64_t ramp) {
  if (ramp == 0 || seconds_into_window + 1 >= ramp) return size;
  return size * static_cast<double>(seconds_into_window + 1) / static_cast<double>(ramp);
}

}  // namespace

std::string_view to_string(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kSteady:
      return "steady";
    case WorkloadKind::kDiurnal:
      return "diurnal";
    case WorkloadKind::kSpike:
      return "spike";
    case WorkloadKind::kLeak:
      return "leak";
    case WorkloadKind::kBatch:
      return "batch";
  }
  return "unknown";
}

Workload::Workload(WorkloadSpec spec, std::uint64_t seed) : spec_(std::move(spec)), random_(seed) {
  std::sort(spec_.spike_at_seconds.begin(), spec_.spike_at_seconds.end());
}

void Workload::replace(WorkloadSpec spec) {
  spec_ = std::move(spec);
  std::sort(spec_.spike_at_seconds.begin(), spec_.spike_at_seconds.end());
  service_alive_ = true;
  service_started_ = now_seconds_ + 1;  // the next advance_to is the new service's first second
  service_restart_at_ = 0;
  job_killed_window_ = -1;
}

double Workload::diurnal_load(std::int64_t now_seconds) const {
  const double phase = 2 * std::numbers::pi *
                       (static_cast<double>(now_seconds) - static_cast<double>(spec_.peak_second)) /
                       kSecondsPerDay;
  return (1 + std::cos(phase)) / 2;
}

double Workload::service_shape_mib(std::int64_t now_seconds) const {
  switch (spec_.kind) {
    case WorkloadKind::kDiurnal: {
      const double low = static_cast<double>(spec_.low_mib);
      const double high = static_cast<double>(spec_.high_mib);
      return low + (high - low) * diurnal_load(now_seconds);
    }
    case WorkloadKind::kLeak:
      return static_cast<double>(spec_.base_mib) +
             spec_.leak_mib_per_hour * static_cast<double>(now_seconds - service_started_) /
                 kSecondsPerHour;
    case WorkloadKind::kSteady:
    case WorkloadKind::kSpike:
    case WorkloadKind::kBatch:
      return static_cast<double>(spec_.base_mib);
  }
  return 0;
}

std::pair<std::int64_t, double> Workload::job_window(std::int64_t now_seconds) const {
  const auto now = static_cast<std::uint64_t>(now_seconds);
  if (spec_.kind == WorkloadKind::kSpike) {
    const std::uint64_t length = spec_.ramp_seconds + spec_.hold_seconds;
    for (std::size_t i = 0; i < spec_.spike_at_seconds.size(); ++i) {
      const std::uint64_t start = spec_.spike_at_seconds[i];
      if (now >= start && now < start + length) {
        return {static_cast<std::int64_t>(i),
                ramped(static_cast<double>(spec_.spike_mib), now - start, spec_.ramp_seconds)};
      }
    }
  } else if (spec_.kind == WorkloadKind::kBatch && spec_.period_seconds > 0 &&
             now >= spec_.first_at_seconds) {
    const std::uint64_t since_first = now - spec_.first_at_seconds;
    const std::uint64_t into_period = since_first % spec_.period_seconds;
    if (into_period < spec_.run_seconds) {
      return {static_cast<std::int64_t>(since_first / spec_.period_seconds),
              ramped(static_cast<double>(spec_.batch_mib), into_period, spec_.ramp_seconds)};
    }
  }
  return {-1, 0.0};
}

void Workload::advance_to(std::int64_t now_seconds) {
  now_seconds_ = now_seconds;
  noise_mib_ = kNoiseCorrelation * noise_mib_ +
               std::sqrt(1 - kNoiseCorrelation * kNoiseCorrelation) *
                   static_cast<double>(spec_.noise_mib) * random_.standard_normal();

  if (!service_alive_ && now_seconds >= service_restart_at_) {
    service_alive_ = true;
    service_started_ = now_seconds;
  }
  if (service_alive_ && spec_.kind == WorkloadKind::kLeak && spec_.restart_every_seconds > 0 &&
      now_seconds - service_started_ >= static_cast<std::int64_t>(spec_.restart_every_seconds)) {
    service_started_ = now_seconds;  // a planned restart returns the leaked memory
  }
  // Drawn only when asked for, so that a scenario without jitter replays as it always did.
  const double jitter_mib =
      spec_.jitter_mib == 0 ? 0 : static_cast<double>(spec_.jitter_mib) * random_.uniform();
  load_fraction_ = spec_.kind == WorkloadKind::kDiurnal ? diurnal_load(now_seconds) : 0;
  service_pages_ =
      service_alive_
          ? pages_from_mib_rounded(service_shape_mib(now_seconds) + noise_mib_ + jitter_mib)
          : 0;

  const auto [window, size_mib] = job_window(now_seconds);
  job_pages_ = (window < 0 || window == job_killed_window_) ? 0 : pages_from_mib_rounded(size_mib);
}

std::uint64_t Workload::kill_largest(std::int64_t now_seconds) {
  if (service_pages_ == 0 && job_pages_ == 0) return 0;
  ++kills_;
  if (job_pages_ > service_pages_) {
    const std::uint64_t freed = job_pages_;
    job_killed_window_ = job_window(now_seconds).first;  // the job stays dead for this run
    job_pages_ = 0;
    return freed;
  }
  const std::uint64_t freed = service_pages_;
  service_alive_ = false;
  service_restart_at_ = now_seconds + static_cast<std::int64_t>(spec_.restart_delay_seconds);
  service_pages_ = 0;
  return freed;
}

}  // namespace xenballoon::sim
