// The policy tick's own work, in-process: read and parse /proc/meminfo, vmstat (the agent's
// selection), uptime and pressure/memory, read the balloon driver's target and current allocation,
// and decide. Each part is timed per tick (medians), next to the way the agent read its files
// before (open, read, close and parse every file on every tick), in the same run.
// Run back to back ("hot") this is the code's own cost. The daemon ticks once a second, and after
// that much idle time caches and TLBs are cold and, in a VM, the vCPU has been descheduled: the
// "after idle" rows space ticks 100 ms apart, next to the cost of two bare syscalls after the same
// idle time (the machine's floor for any work done on a timer).
// usage: tick_bench [ticks=20000] [procfs=/proc] [idle_ticks=50]
// The balloon files are a copy of the real-Xen sysfs fixture: regular files, so every read also
// stats the path to notice a replaced file, which a real sysfs attribute does not need.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "xenballoon/balloon/driver.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/procfs/reader.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;
namespace fs = std::filesystem;

namespace {

double now_us() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

double cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + t.tv_usec; };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tick_bench: %s failed\n", what);
    std::exit(1);
  }
}

// One way of doing the tick's reads; each part returns whether it succeeded.
struct Parts {
  std::vector<const char*> names;
  std::vector<std::function<bool()>> run;
};

struct Timing {
  std::vector<std::vector<double>> part_us;
  std::vector<double> tick_us;
  double cpu_per_tick_us = 0;
};

Timing measure(const Parts& parts, int ticks, int idle_us = 0) {
  Timing timing;
  timing.part_us.resize(parts.run.size());
  double cpu_start = cpu_us();
  for (int i = 0; i < ticks; ++i) {
    if (idle_us > 0) usleep(idle_us);
    double tick_start = now_us();
    for (std::size_t p = 0; p < parts.run.size(); ++p) {
      double start = now_us();
      require(parts.run[p](), parts.names[p]);
      timing.part_us[p].push_back(now_us() - start);
    }
    timing.tick_us.push_back(now_us() - tick_start);
  }
  timing.cpu_per_tick_us = (cpu_us() - cpu_start) / ticks;
  return timing;
}

}  // namespace

int main(int argc, char** argv) {
  int ticks = argc > 1 ? std::atoi(argv[1]) : 20000;
  std::string procfs = argc > 2 ? argv[2] : "/proc";
  int idle_ticks = argc > 3 ? std::atoi(argv[3]) : 50;
  constexpr int kIdleUs = 100000;
  bool psi = fs::exists(procfs + "/pressure/memory");

  fs::path sysfs =
      fs::temp_directory_path() / ("xenballoon-tick-bench-" + std::to_string(getpid()));
  fs::copy(XENBALLOON_FIXTURES "/real-xen-4.17/sys", sysfs, fs::copy_options::recursive);

  AgentConfig config;
  std::vector<std::string> keep = config.vmstat_fields;
  for (const char* name : {"pswpin", "pgmajfault"}) {
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) keep.emplace_back(name);
  }
  PolicySettings settings = policy_settings(config);
  PolicyState state;

  // Now: files kept open, two balloon files, the vmstat selection.
  ProcfsReader reader(procfs);
  BalloonDriver driver(sysfs.string(), procfs);
  PolicyInputs inputs;
  Parts now{{"meminfo", "vmstat", "uptime", "pressure", "balloon", "decide"},
            {[&] {
               auto m = reader.meminfo();
               if (!m) return false;
               inputs.committed_as_kib = m->get("Committed_AS").value_or(0) / 1024;
               inputs.memtotal_kib = m->get("MemTotal").value_or(0) / 1024;
               return true;
             },
             [&] {
               auto v = reader.vmstat(&keep);
               if (!v) return false;
               inputs.pswpin = v->get("pswpin");
               inputs.pgmajfault = v->get("pgmajfault");
               return true;
             },
             [&] { return reader.uptime().ok(); },
             [&] {
               auto p = reader.pressure_memory();
               if (p) inputs.psi_some_avg10 = p->some.avg10;
               return p.ok() || !psi;
             },
             [&] {
               auto b = driver.read(BalloonFields::kTargetAndCurrent);
               if (!b) return false;
               inputs.balloon_target_kib = b->target_kib;
               inputs.balloon_current_kib = b->current_kib;
               return true;
             },
             [&] {
               // This machine's memory stands in for the guest's static-max and dom0's target.
               std::uint64_t size = std::max<std::uint64_t>(
                   {*inputs.memtotal_kib, *inputs.committed_as_kib, 1048576});
               inputs.static_max_kib = inputs.dom0_target_kib = size;
               inputs.now += std::chrono::seconds(1);
               return !decide(inputs, state, settings).skipped();
             }}};

  // Before: every file opened, read whole, closed and parsed in full on every tick.
  std::string dir = sysfs.string() + "/devices/system/xen_memory/xen_memory0/";
  Parts before{
      {"meminfo", "vmstat", "uptime", "pressure", "balloon"},
      {[&] {
         auto t = read_file(procfs + "/meminfo");
         return t && parse_meminfo(*t, "meminfo").ok();
       },
       [&] {
         auto t = read_file(procfs + "/vmstat");
         return t && parse_vmstat(*t, "vmstat", &keep).ok();
       },
       [&] {
         auto t = read_file(procfs + "/uptime");
         return t && parse_uptime(*t, "uptime").ok();
       },
       [&] {
         auto t = read_file(procfs + "/pressure/memory");
         return !psi || (t && parse_pressure(*t, "pressure").ok());
       },
       [&] {
         for (const char* f : {"target_kb", "info/current_kb", "info/low_kb", "info/high_kb"}) {
           if (!read_file(dir + f)) return false;
         }
         return true;
       }}};

  measure(now, ticks / 10);  // warm up
  Timing after = measure(now, ticks);
  Timing old = measure(before, ticks);
  Timing after_idle = measure(now, idle_ticks, kIdleUs);
  Timing old_idle = measure(before, idle_ticks, kIdleUs);
  RereadableFile uptime(procfs + "/uptime", ProcfsRecords::kOne);
  Parts bare{{"getppid", "pread"},
             {[] { return getppid() > 0; }, [&] { return uptime.read().ok(); }}};
  Timing hot_floor = measure(bare, ticks);
  Timing idle_floor = measure(bare, idle_ticks, kIdleUs);
  fs::remove_all(sysfs);

  std::printf("policy tick, %d ticks back to back and %d after idle, procfs %s%s (medians, us)\n",
              ticks, idle_ticks, procfs.c_str(), psi ? "" : " (no PSI)");
  std::printf("%-10s %12s %12s %8s\n", "part", "kept open", "reopened", "ratio");
  for (std::size_t p = 0; p < now.names.size(); ++p) {
    double a = median(after.part_us[p]);
    if (p < before.names.size()) {
      double b = median(old.part_us[p]);
      std::printf("%-10s %12.2f %12.2f %8.2f\n", now.names[p], a, b, b / a);
    } else {
      std::printf("%-10s %12.2f %12s\n", now.names[p], a, "");
    }
  }
  auto row = [](const char* name, double a, double b, const char* note) {
    std::printf("%-22s %12.2f %12.2f %8.2f   %s\n", name, a, b, b / a, note);
  };
  std::printf("\n%-22s %12s %12s %8s\n", "whole tick", "kept open", "reopened", "ratio");
  row("hot: wall", median(after.tick_us), median(old.tick_us), "goal <= 50 us");
  row("hot: CPU", after.cpu_per_tick_us, old.cpu_per_tick_us, "user + system, mean");
  row("after 100 ms idle: wall", median(after_idle.tick_us), median(old_idle.tick_us), "");
  row("after 100 ms idle: CPU", after_idle.cpu_per_tick_us, old_idle.cpu_per_tick_us, "");
  std::printf("\n%-22s %12s %12s %8s\n", "machine floor", "hot", "after idle", "ratio");
  for (std::size_t p = 0; p < bare.names.size(); ++p) {
    std::printf("%-22s %12.2f %12.2f %8.2f\n", bare.names[p], median(hot_floor.part_us[p]),
                median(idle_floor.part_us[p]),
                median(idle_floor.part_us[p]) / median(hot_floor.part_us[p]));
  }
  return 0;
}
