// The soak's measurements: each watched process's RSS, peak RSS, open descriptors and CPU time
// sampled over the run, the counts a run keeps (scrapes, failures, errors), the start and end
// figures with their growth, the verdict, the table and the CSV of the samples. Not thread-safe:
// one thread samples and reports (counts kept by other threads are passed in as values).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "process_stats.h"

namespace xenballoon::bench {

// When a run measures. Start figures come from the window after the warm-up, end figures from
// the last window of the run. A plain value.
struct SoakTiming {
  std::chrono::seconds duration{600};
  std::chrono::seconds warmup{60};
  std::chrono::seconds window{60};
  std::chrono::seconds period{5};  // between two samples
};

// Warm-up and windows for a run of `minutes`: one minute each from 5 minutes on, shorter below.
SoakTiming soak_timing(double minutes);

// The thresholds of "flat". A plain value.
struct FlatLimits {
  double rss_growth = 0.05;      // median RSS of the end window over that of the start window
  double cpu_growth = 0.5;       // CPU share of the end window over that of the start window ...
  double cpu_slack_percent = 1;  // ... plus this many percentage points (a light process)
};

// One watched process, summarised. A plain value.
struct ProcessSummary {
  std::string name;
  bool judged = true;
  std::size_t samples = 0;
  double rss_start_kib = 0, rss_end_kib = 0;  // window medians
  std::uint64_t hwm_start_kib = 0, hwm_end_kib = 0;
  std::uint64_t fds_start = 0, fds_end = 0;           // window minimums (connections come and go)
  double cpu_start_percent = 0, cpu_end_percent = 0;  // of one core, over each window
  double cpu_seconds = 0;                             // over the whole run
  bool exited = false;                                // gone before the end
  std::string problem;                                // why it is not flat; "" when it is
};

class Soak {
 public:
  Soak(std::string run, SoakTiming timing, FlatLimits limits = {});

  // Samples `pid` as `name`; a process not judged is shown but cannot fail the run.
  void watch(const std::string& name, pid_t pid, bool judged = true);

  // Samples every period until the duration is over, calling `each_sample(elapsed_seconds)`
  // after each round (for the run's own checks: scrapes, workload changes).
  void run(const std::function<void(double)>& each_sample);

  // A count the run kept; `must_be_zero` makes any non-zero value fail the run.
  void count(const std::string& what, std::uint64_t value, bool must_be_zero);
  // A line of context printed under the table.
  void note(const std::string& line) { notes_.push_back(line); }

  std::vector<ProcessSummary> summaries() const;
  // Prints the table, the counts and the verdict; true when the run passed.
  bool report(std::FILE* out) const;
  // Appends the samples as CSV rows (run,process,elapsed_s,rss_kib,hwm_kib,fds,cpu_s), with the
  // header when the file is new or empty.
  void append_csv(const std::string& path) const;

 private:
  struct Sample {
    double elapsed = 0;
    ProcessStats stats;
  };
  struct Watched {
    std::string name;
    pid_t pid = -1;
    bool judged = true;
    bool exited = false;
    std::vector<Sample> samples;
  };
  struct Count {
    std::string what;
    std::uint64_t value = 0;
    bool must_be_zero = false;
  };
  ProcessSummary summarise(const Watched& watched) const;

  std::string run_;
  SoakTiming timing_;
  FlatLimits limits_;
  std::vector<Watched> watched_;
  std::vector<Count> counts_;
  std::vector<std::string> notes_;
  double elapsed_ = 0;
};

// "1.93 2.10 2.05" from /proc/loadavg (the machine's 1, 5 and 15 minute load).
std::string load_average();

}  // namespace xenballoon::bench
