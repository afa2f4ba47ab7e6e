// Pressure stall information as the kernel computes it (kernel/sched/psi.c, Linux 6.1).
#pragma once

#include <cstdint>
#include <string>

namespace xenballoon::sim {

// One PSI line in the kernel's own fixed point: averages are percent * 2048 (FIXED_1).
struct PsiLine {
  std::uint64_t avg10 = 0;
  std::uint64_t avg60 = 0;
  std::uint64_t avg300 = 0;
  std::uint64_t total_ns = 0;  // cumulative stall time; the file shows it in microseconds

  bool operator==(const PsiLine&) const = default;
};

// "18.11": LOAD_INT and LOAD_FRAC of a fixed-point average, as psi_show() prints it.
std::string format_psi_average(std::uint64_t fixed_point_percent);
// The same number as a double (what a parser of the printed text gets).
double psi_average_percent(std::uint64_t fixed_point_percent);

// Folds stall time into avg10/avg60/avg300 the kernel's way: every 2 s period the stalled share
// of the period becomes a whole percentage (integer division, so less than 1 % of a period adds
// nothing to the averages, only to the total) and each average moves by calc_load() with
// EXP_10s = 1677, EXP_60s = 1981, EXP_300s = 2034. A plain value; not thread-safe.
class PsiAverager {
 public:
  static constexpr std::uint64_t kPeriodNs = 2'000'000'000;

  // `elapsed_ns` of wall time passed, `stalled_ns` of them stalled (capped at elapsed_ns).
  void record(std::uint64_t elapsed_ns, std::uint64_t stalled_ns);

  const PsiLine& line() const { return line_; }

  bool operator==(const PsiAverager&) const = default;

 private:
  PsiLine line_;
  std::uint64_t period_elapsed_ns_ = 0;
  std::uint64_t period_stalled_ns_ = 0;
};

}  // namespace xenballoon::sim
