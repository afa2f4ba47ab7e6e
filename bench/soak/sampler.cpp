#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

namespace xenballoon::bench {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string mib(double kib) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", kib / 1024);
  return text;
}

std::string percent(double value, bool sign = false) {
  char text[32];
  std::snprintf(text, sizeof text, sign ? "%+.1f %%" : "%.1f %%", value);
  return text;
}

}  // namespace

SoakTiming soak_timing(double minutes) {
  SoakTiming t;
  t.duration = std::chrono::seconds(static_cast<long>(std::lround(minutes * 60)));
  if (minutes >= 5) return t;
  // Short runs (trying the soak out): a tenth of the run to warm up, windows of a fifth.
  t.warmup = std::max(std::chrono::seconds(5), t.duration / 10);
  t.window = std::max(std::chrono::seconds(5), t.duration / 5);
  t.period = std::chrono::seconds(t.duration.count() < 60 ? 1 : 2);
  return t;
}

Soak::Soak(std::string run, SoakTiming timing, FlatLimits limits)
    : run_(std::move(run)), timing_(timing), limits_(limits) {}

void Soak::watch(const std::string& name, pid_t pid, bool judged) {
  watched_.push_back(Watched{name, pid, judged, false, {}});
}

void Soak::run(const std::function<void(double)>& each_sample) {
  const auto start = Clock::now();
  const auto end = start + timing_.duration;
  for (auto next = start;; next += timing_.period) {
    std::this_thread::sleep_until(next);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& w : watched_) {
      if (w.exited) continue;
      auto stats = process_stats(w.pid);
      if (!stats) {
        w.exited = true;
        continue;
      }
      w.samples.push_back(Sample{elapsed, *stats});
    }
    elapsed_ = elapsed;
    if (each_sample) each_sample(elapsed);
    if (next + timing_.period > end) break;
  }
}

void Soak::count(const std::string& what, std::uint64_t value, bool must_be_zero) {
  counts_.push_back(Count{what, value, must_be_zero});
}

ProcessSummary Soak::summarise(const Watched& w) const {
  ProcessSummary s;
  s.name = w.name;
  s.judged = w.judged;
  s.samples = w.samples.size();
  s.exited = w.exited;
  const double warm = static_cast<double>(timing_.warmup.count());
  const double window = static_cast<double>(timing_.window.count());
  auto in = [&](double from, double to) {
    std::vector<const Sample*> out;
    for (const auto& sample : w.samples) {
      if (sample.elapsed >= from && sample.elapsed <= to) out.push_back(&sample);
    }
    return out;
  };
  auto first = in(warm, warm + window);
  auto last = in(elapsed_ - window, elapsed_);
  if (s.exited) {
    s.problem = "exited during the run";
    return s;
  }
  if (first.size() < 2 || last.size() < 2) {
    s.problem = "too few samples";
    return s;
  }
  auto figures = [&](const std::vector<const Sample*>& samples, double* rss, std::uint64_t* hwm,
                     std::uint64_t* fds, double* cpu) {
    std::vector<double> rss_values;
    *fds = std::numeric_limits<std::uint64_t>::max();
    for (const auto* sample : samples) {
      rss_values.push_back(static_cast<double>(sample->stats.rss_kib));
      *fds = std::min(*fds, sample->stats.fds);
    }
    *rss = median(rss_values);
    *hwm = samples.back()->stats.hwm_kib;
    const double wall = samples.back()->elapsed - samples.front()->elapsed;
    *cpu =
        wall > 0
            ? 100 * (samples.back()->stats.cpu_seconds - samples.front()->stats.cpu_seconds) / wall
            : 0;
  };
  figures(first, &s.rss_start_kib, &s.hwm_start_kib, &s.fds_start, &s.cpu_start_percent);
  figures(last, &s.rss_end_kib, &s.hwm_end_kib, &s.fds_end, &s.cpu_end_percent);
  s.cpu_seconds = w.samples.back().stats.cpu_seconds - w.samples.front().stats.cpu_seconds;
  std::vector<std::string> problems;
  if (s.rss_end_kib > s.rss_start_kib * (1 + limits_.rss_growth)) problems.push_back("RSS grew");
  if (s.fds_end > s.fds_start) problems.push_back("descriptors grew");
  if (s.cpu_end_percent >
      s.cpu_start_percent * (1 + limits_.cpu_growth) + limits_.cpu_slack_percent) {
    problems.push_back("CPU grew");
  }
  for (const auto& p : problems) s.problem += (s.problem.empty() ? "" : ", ") + p;
  return s;
}

std::vector<ProcessSummary> Soak::summaries() const {
  std::vector<ProcessSummary> out;
  for (const auto& w : watched_) out.push_back(summarise(w));
  return out;
}

bool Soak::report(std::FILE* out) const {
  bool pass = true;
  std::fprintf(out, "%-22s %10s %10s %8s %10s %10s %9s %13s %s\n", "process", "RSS start",
               "RSS end", "growth", "peak start", "peak end", "fds", "CPU", "verdict");
  for (const auto& s : summaries()) {
    const double growth = s.rss_start_kib > 0 ? 100 * (s.rss_end_kib / s.rss_start_kib - 1) : 0;
    std::string verdict = s.problem.empty() ? "flat" : s.problem;
    if (!s.judged) verdict += " (not judged)";
    if (s.judged && !s.problem.empty()) pass = false;
    const std::string fds = std::to_string(s.fds_start) + " -> " + std::to_string(s.fds_end);
    const std::string cpu =
        percent(s.cpu_start_percent) + " -> " + percent(s.cpu_end_percent).substr(0);
    std::fprintf(out, "%-22s %10s %10s %8s %10s %10s %9s %13s %s\n", s.name.c_str(),
                 mib(s.rss_start_kib).c_str(), mib(s.rss_end_kib).c_str(),
                 percent(growth, true).c_str(), mib(static_cast<double>(s.hwm_start_kib)).c_str(),
                 mib(static_cast<double>(s.hwm_end_kib)).c_str(), fds.c_str(), cpu.c_str(),
                 verdict.c_str());
  }
  for (const auto& c : counts_) {
    const bool failed = c.must_be_zero && c.value != 0;
    if (failed) pass = false;
    std::fprintf(out, "  %-52s %10llu%s\n", c.what.c_str(),
                 static_cast<unsigned long long>(c.value),
                 failed ? "  FAILED (must be 0)" : (c.must_be_zero ? "  (must be 0)" : ""));
  }
  for (const auto& n : notes_) std::fprintf(out, "  %s\n", n.c_str());
  std::fprintf(out,
               "  (start: the %llds after a %llds warm-up, end: the last %llds; RSS: median, fds: "
               "minimum, CPU: share of one core in the window;\n   flat: RSS growth under "
               "%.0f %%, fds not above the start, CPU at most %.0f %% above the start + %.0f "
               "point)\n",
               static_cast<long long>(timing_.window.count()),
               static_cast<long long>(timing_.warmup.count()),
               static_cast<long long>(timing_.window.count()), limits_.rss_growth * 100,
               limits_.cpu_growth * 100, limits_.cpu_slack_percent);
  std::fprintf(out, "%s soak: %s\n", run_.c_str(), pass ? "PASS" : "FAIL");
  return pass;
}

void Soak::append_csv(const std::string& path) const {
  bool fresh;
  {
    std::ifstream existing(path);
    fresh = !existing || existing.peek() == std::ifstream::traits_type::eof();
  }
  std::ofstream csv(path, std::ios::app);
  if (fresh) csv << "run,process,elapsed_s,rss_kib,hwm_kib,fds,cpu_s\n";
  for (const auto& w : watched_) {
    for (const auto& s : w.samples) {
      char cpu[32], elapsed[32];
      std::snprintf(elapsed, sizeof elapsed, "%.1f", s.elapsed);
      std::snprintf(cpu, sizeof cpu, "%.2f", s.stats.cpu_seconds);
      csv << run_ << ',' << w.name << ',' << elapsed << ',' << s.stats.rss_kib << ','
          << s.stats.hwm_kib << ',' << s.stats.fds << ',' << cpu << '\n';
    }
  }
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace xenballoon::bench
