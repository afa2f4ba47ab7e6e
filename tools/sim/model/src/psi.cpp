#include "xenballoon/sim/psi.h"

#include <algorithm>
#include <cstdio>

namespace xenballoon::sim {
namespace {

constexpr std::uint64_t kFixedShift = 11;  // FSHIFT
constexpr std::uint64_t kFixed1 = std::uint64_t{1} << kFixedShift;
constexpr std::uint64_t kExp10s = 1677;
constexpr std::uint64_t kExp60s = 1981;
constexpr std::uint64_t kExp300s = 2034;

// include/linux/sched/loadavg.h calc_load(): rounds up while rising so a constant input is reached.
std::uint64_t calc_load(std::uint64_t load, std::uint64_t exp, std::uint64_t active) {
  std::uint64_t next = load * exp + active * (kFixed1 - exp);
  if (active >= load) next += kFixed1 - 1;
  return next / kFixed1;
}

std::uint64_t load_int(std::uint64_t x) {
  return x >> kFixedShift;
}
std::uint64_t load_frac(std::uint64_t x) {
  return load_int((x & (kFixed1 - 1)) * 100);
}

}  // namespace

std::string format_psi_average(std::uint64_t fixed_point_percent) {
  char text[48];
  std::snprintf(text, sizeof text, "%llu.%02llu",
                static_cast<unsigned long long>(load_int(fixed_point_percent)),
                static_cast<unsigned long long>(load_frac(fixed_point_percent)));
  return text;
}

double psi_average_percent(std::uint64_t fixed_point_percent) {
  return static_cast<double>(load_int(fixed_point_percent)) +
         static_cast<double>(load_frac(fixed_point_percent)) / 100.0;
}

void PsiAverager::record(std::uint64_t elapsed_ns, std::uint64_t stalled_ns) {
  stalled_ns = std::min(stalled_ns, elapsed_ns);
  line_.total_ns += stalled_ns;
  period_elapsed_ns_ += elapsed_ns;
  period_stalled_ns_ += stalled_ns;
  if (period_elapsed_ns_ < kPeriodNs) return;

  const std::uint64_t sample = std::min(period_stalled_ns_, period_elapsed_ns_);
  const std::uint64_t percent = sample * 100 / period_elapsed_ns_;
  const std::uint64_t active = percent * kFixed1;
  line_.avg10 = calc_load(line_.avg10, kExp10s, active);
  line_.avg60 = calc_load(line_.avg60, kExp60s, active);
  line_.avg300 = calc_load(line_.avg300, kExp300s, active);
  period_elapsed_ns_ = 0;
  period_stalled_ns_ = 0;
}

}  // namespace xenballoon::sim
