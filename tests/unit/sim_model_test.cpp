#include <stdlib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "xenballoon/balloon/driver.h"
#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/reader.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/sim/procfs_text.h"
#include "xenballoon/sim/scenario.h"
#include "xenballoon/sim/simulation.h"
#include "xenballoon/sim/trace.h"
#include "xenballoon/sim/tree_writer.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;
using namespace xenballoon::sim;
using Catch::Matchers::Contains;
using xenballoon::testing::TempDir;

namespace {

const std::string kRealXen = XENBALLOON_REAL_XEN_FIXTURES;
const std::string kScenarioDir = std::string(XENBALLOON_FIXTURES) + "/../../tools/sim/scenarios";
constexpr std::uint64_t kMib = 1024;  // KiB per MiB
constexpr std::uint64_t kRatePagesPerSecond = pages_from_mib(256);

WorkloadSpec steady(std::uint64_t base_mib, std::uint64_t noise_mib = 0) {
  WorkloadSpec workload;
  workload.kind = WorkloadKind::kSteady;
  workload.base_mib = base_mib;
  workload.noise_mib = noise_mib;
  return workload;
}

WorkloadSpec spike(std::uint64_t base_mib, std::uint64_t spike_mib, std::uint64_t at_second,
                   std::uint64_t ramp_seconds = 1) {
  WorkloadSpec workload;
  workload.kind = WorkloadKind::kSpike;
  workload.base_mib = base_mib;
  workload.spike_mib = spike_mib;
  workload.spike_at_seconds = {at_second};
  workload.ramp_seconds = ramp_seconds;
  workload.hold_seconds = 600;
  return workload;
}

GuestSpec guest_spec(std::uint64_t static_max_mib, std::uint64_t memory_mib, std::uint64_t swap_mib,
                     std::uint64_t working_set_mib, WorkloadSpec workload,
                     std::string name = "guest") {
  GuestSpec spec;
  spec.name = std::move(name);
  spec.static_max_mib = static_max_mib;
  spec.memory_mib = memory_mib;
  spec.swap_mib = swap_mib;
  spec.working_set_mib = working_set_mib;
  spec.seed = 42;
  spec.workload = std::move(workload);
  return spec;
}

// The captured guest: memory=256, maxmem=512, no swap, nothing running.
GuestSpec captured_guest() {
  return guest_spec(512, 256, 0, 0, steady(0));
}

GuestModel boot(const GuestSpec& spec, Host& host) {
  auto guest = GuestModel::boot(spec, BalloonDriverSettings{}, host);
  REQUIRE(guest.ok());
  return std::move(*guest);
}

void run(GuestModel& guest, Host& host, int seconds) {
  for (int i = 0; i < seconds; ++i) {
    guest.step(host);
    REQUIRE(guest.check_invariants().empty());
  }
}

std::vector<std::string> meminfo_names(const Meminfo& meminfo) {
  std::vector<std::string> names;
  for (const MeminfoField& field : meminfo.fields) names.push_back(field.name);
  return names;
}

std::vector<std::string> vmstat_names(const Vmstat& vmstat) {
  std::vector<std::string> names;
  for (const VmstatCounter& counter : vmstat.counters) names.push_back(counter.name);
  return names;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string capture(const std::string& name) {
  auto text = read_file(kRealXen + "/" + name);
  REQUIRE(text.ok());
  return *text;
}

// A busy guest: swapping, page cache partly evicted, PSI moving.
GuestModel busy_guest(Host& host) {
  GuestModel guest = boot(guest_spec(2048, 1024, 512, 256, steady(1000, 32)), host);
  run(guest, host, 400);
  return guest;
}

std::uint64_t meminfo_kib(const Meminfo& meminfo, std::string_view name) {
  const auto bytes = meminfo.get(name);
  REQUIRE(bytes.has_value());
  return *bytes / 1024;
}

const std::string kMinimalScenario = R"(name: tiny
duration_hours: 1
host:
  memory_mib: 4096
guests:
  - name: a
    static_max_mib: 2048
    memory_mib: 2048
    swap_mib: 512
    working_set_mib: 256
    seed: 1
    workload:
      type: steady
      base_mib: 700
      noise_mib: 64
  - name: b
    static_max_mib: 1024
    memory_mib: 1024
    swap_mib: 256
    working_set_mib: 64
    seed: 2
    workload:
      type: batch
      base_mib: 128
      batch_mib: 512
      period_minutes: 10
      run_minutes: 3
)";

}  // namespace

// ---------------------------------------------------------------------------------------------
// The real guest

TEST_CASE("sim: a fresh guest shows the captured guest's meminfo numbers") {
  Host host(pages_from_mib(1024));
  GuestModel guest = boot(captured_guest(), host);
  const GuestSnapshot s = guest.snapshot();
  CHECK(s.mem_total_kib == 204924);
  CHECK(s.mem_free_kib == 176464);
  CHECK(s.cached_kib == 4128);
  CHECK(s.anon_pages_kib == 180);
  CHECK(s.shmem_kib == 4128);
  CHECK(s.slab_reclaimable_kib + s.slab_unreclaimable_kib == 14208);
  CHECK(s.page_tables_kib == 80);
  CHECK(s.commit_limit_kib == 102460);
  CHECK(s.committed_as_kib == 5136);
  CHECK(s.direct_map_4k_kib == 524288);
  CHECK(s.mem_available_kib == Approx(179724).epsilon(0.01));
  CHECK(s.balloon_target_kib == 262144);
  CHECK(s.balloon_current_kib == 262144);
  CHECK(s.balloon_low_kib == 262144);
  CHECK(s.balloon_high_kib == 0);

  // An idle second changes none of it.
  run(guest, host, 1);
  CHECK(guest.snapshot().mem_free_kib == 176464);
}

TEST_CASE("sim: meminfo lines are laid out exactly as the kernel's") {
  Host host(pages_from_mib(1024));
  const GuestModel guest = boot(captured_guest(), host);
  const std::vector<std::string> rendered = lines_of(render_meminfo(guest.snapshot()));
  const std::vector<std::string> captured = lines_of(capture("proc/meminfo"));
  REQUIRE(rendered.size() == captured.size());
  int identical = 0;
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    // Same name, same column where the number ends whenever the numbers have as many digits.
    const auto rendered_value_end = rendered[i].rfind(" kB");
    const auto captured_value_end = captured[i].rfind(" kB");
    CHECK(rendered[i].substr(0, rendered[i].find(':')) ==
          captured[i].substr(0, captured[i].find(':')));
    CHECK(rendered_value_end == captured_value_end);
    if (rendered[i] == captured[i]) ++identical;
  }
  // MemTotal, MemFree, Cached, Shmem, Slab, CommitLimit, Committed_AS, the zeros, ...
  CHECK(identical >= 35);
}

TEST_CASE("sim: every produced file parses with the project's parsers") {
  Host host(pages_from_mib(4096));
  const GuestModel guest = busy_guest(host);
  const GuestSnapshot s = guest.snapshot();
  REQUIRE(s.vmstat.pswpout > 0);

  auto meminfo = parse_meminfo(render_meminfo(s), "meminfo");
  REQUIRE(meminfo.ok());
  auto vmstat = parse_vmstat(render_vmstat(s), "vmstat");
  REQUIRE(vmstat.ok());
  auto uptime = parse_uptime(render_uptime(s), "uptime");
  REQUIRE(uptime.ok());
  auto pressure = parse_pressure(render_pressure_memory(s), "pressure");
  REQUIRE(pressure.ok());

  SECTION("the same names as the real capture, in the same order") {
    auto real_meminfo = parse_meminfo(capture("proc/meminfo"), "real");
    auto real_vmstat = parse_vmstat(capture("proc/vmstat"), "real");
    REQUIRE(real_meminfo.ok());
    REQUIRE(real_vmstat.ok());
    CHECK(meminfo_names(*meminfo) == meminfo_names(*real_meminfo));
    CHECK(vmstat_names(*vmstat) == vmstat_names(*real_vmstat));
  }

  SECTION("the values are the model's") {
    CHECK(meminfo_kib(*meminfo, "MemTotal") == s.mem_total_kib);
    CHECK(meminfo_kib(*meminfo, "SwapFree") == s.swap_free_kib);
    CHECK(meminfo_kib(*meminfo, "Committed_AS") == s.committed_as_kib);
    CHECK(vmstat->get("pswpin") == s.vmstat.pswpin);
    CHECK(vmstat->get("pswpout") == s.vmstat.pswpout);
    CHECK(vmstat->get("pgmajfault") == s.vmstat.pgmajfault);
    CHECK(vmstat->get("oom_kill") == s.vmstat.oom_kill);
    CHECK(vmstat->get("nr_free_pages") == s.mem_free_kib / 4);
    CHECK(uptime->uptime_seconds == Approx(400));
    CHECK(pressure->some.total_us == s.psi_some.total_ns / 1000);
    REQUIRE(pressure->full.has_value());
    CHECK(pressure->some.avg10 == Approx(psi_average_percent(s.psi_some.avg10)));
    CHECK(pressure->some.avg10 > 0);
    CHECK(pressure->some.avg10 >= pressure->full->avg10);
  }

  SECTION("meminfo adds up: the itemised parts stay within MemTotal") {
    const std::uint64_t itemised =
        meminfo_kib(*meminfo, "MemFree") + meminfo_kib(*meminfo, "Buffers") +
        meminfo_kib(*meminfo, "Cached") + meminfo_kib(*meminfo, "SwapCached") +
        meminfo_kib(*meminfo, "AnonPages") + meminfo_kib(*meminfo, "Slab") +
        meminfo_kib(*meminfo, "KernelStack") + meminfo_kib(*meminfo, "PageTables") +
        meminfo_kib(*meminfo, "Percpu") + meminfo_kib(*meminfo, "VmallocUsed");
    const std::uint64_t total = meminfo_kib(*meminfo, "MemTotal");
    REQUIRE(itemised <= total);
    CHECK(total - itemised == 1448);  // not itemised on the real guest either
    CHECK(meminfo_kib(*meminfo, "Active") + meminfo_kib(*meminfo, "Inactive") ==
          meminfo_kib(*meminfo, "AnonPages") + meminfo_kib(*meminfo, "Shmem") +
              meminfo_kib(*meminfo, "Cached") - meminfo_kib(*meminfo, "Shmem"));
    CHECK(meminfo_kib(*meminfo, "SwapFree") < meminfo_kib(*meminfo, "SwapTotal"));
    CHECK(meminfo_kib(*meminfo, "CommitLimit") ==
          (total / 4) * 50 / 100 * 4 + meminfo_kib(*meminfo, "SwapTotal"));
  }
}

TEST_CASE("sim: the tree on disk reads back through ProcfsReader and BalloonDriver") {
  TempDir dir;
  Host host(pages_from_mib(4096));
  GuestModel guest = busy_guest(host);
  const GuestTreeWriter writer(dir.path());
  REQUIRE(writer.write_all(render_guest_tree(guest.snapshot())).ok());

  ProcfsReader procfs(dir.path() + "/proc");
  auto meminfo = procfs.meminfo();
  REQUIRE(meminfo.ok());
  CHECK(meminfo->get("MemTotal") == guest.mem_total_kib() * 1024);
  CHECK(procfs.vmstat().ok());
  CHECK(procfs.uptime().ok());
  CHECK(procfs.pressure_memory().ok());

  BalloonDriver driver(dir.path() + "/sys", dir.path() + "/proc");
  auto state = driver.read();
  REQUIRE(state.ok());
  CHECK(state->interface == BalloonInterface::kSysfs);
  CHECK(state->target_kib == guest.target_kib());
  CHECK(state->current_kib == guest.current_kib());
  CHECK(state->low_kib == guest.static_max_kib() - guest.current_kib());
  CHECK(state->high_kib == 0);
  auto target_bytes = read_file(writer.path_of(std::string(kBalloonSysfsDir) + "/target"));
  REQUIRE(target_bytes.ok());
  CHECK(*target_bytes == std::to_string(guest.target_kib() * 1024) + "\n");

  SECTION("a target written by someone else is read back and survives the next update") {
    REQUIRE(driver.set_target_kib(900 * kMib).ok());
    auto written = writer.read_target_kb();
    REQUIRE(written.ok());
    CHECK(*written == 900 * kMib);

    guest.set_target_kib(*written);
    guest.step(host);
    REQUIRE(writer.write_state(render_guest_tree(guest.snapshot())).ok());
    CHECK(writer.read_target_kb().ok());
    CHECK(*writer.read_target_kb() == 900 * kMib);
    auto target = read_file(writer.path_of(std::string(kBalloonSysfsDir) + "/target"));
    REQUIRE(target.ok());
    CHECK(*target == std::to_string(900 * kMib * 1024) + "\n");
  }

  SECTION("a target that is not a number is an error naming the file") {
    REQUIRE(write_file(writer.path_of(kTargetKbPath), "lots\n").ok());
    auto written = writer.read_target_kb();
    REQUIRE_FALSE(written.ok());
    CHECK_THAT(written.error().message, Contains("target_kb"));
  }
}

// ---------------------------------------------------------------------------------------------
// Host and balloon

TEST_CASE("sim: memory is conserved at every step") {
  Scenario scenario;
  scenario.name = "conservation";
  scenario.host.memory_mib = 4096 + 1024 + 768 + 64;
  scenario.guests = {guest_spec(4096, 4096, 512, 256, steady(1500, 128), "a"),
                     guest_spec(2048, 1024, 256, 128, spike(300, 900, 200, 5), "b"),
                     guest_spec(1024, 768, 256, 64, steady(200, 32), "c")};
  auto created = Simulation::create(scenario);
  REQUIRE(created.ok());
  Simulation& simulation = *created;
  REQUIRE(simulation.memory_conserved());

  Random random(7);
  for (int second = 0; second < 3000; ++second) {
    if (second % 20 == 0) {
      for (GuestModel& guest : simulation.guests()) {
        const std::uint64_t range = guest.static_max_kib() + 512 * kMib;
        guest.set_target_kib(random.next_u64() % range + 1);
        if (second % 500 == 0) {
          guest.set_dom0_target_kib(random.next_u64() % guest.static_max_kib() + 1);
        }
      }
    }
    simulation.step();
    REQUIRE(simulation.memory_conserved());
    std::uint64_t allocated_kib = 0;
    for (const GuestModel& guest : simulation.guests()) {
      INFO(guest.spec().name << " at second " << second);
      REQUIRE(guest.check_invariants().empty());
      REQUIRE(guest.current_kib() <= guest.static_max_kib());
      allocated_kib += guest.current_kib();
    }
    REQUIRE(kib_from_pages(simulation.host().free_pages()) + allocated_kib ==
            scenario.host.memory_mib * kMib);
  }
}

TEST_CASE("sim: a guest cannot grow past the host's free memory") {
  Host host(pages_from_mib(2048));
  GuestModel donor = boot(guest_spec(1024, 1024, 0, 0, steady(100), "donor"), host);
  GuestModel grower = boot(guest_spec(2048, 1024, 0, 0, steady(100), "grower"), host);
  REQUIRE(host.free_pages() == 0);

  grower.set_dom0_target_kib(2048 * kMib);
  run(grower, host, 30);
  CHECK(grower.current_kib() == 1024 * kMib);
  CHECK(grower.balloon().state() == BalloonDriverState::kCanceled);

  donor.set_target_kib(512 * kMib);
  run(donor, host, 10);
  REQUIRE(donor.current_kib() == 512 * kMib);
  REQUIRE(host.free_pages() == pages_from_mib(512));

  grower.set_target_kib(2048 * kMib - 4);  // a new target wakes the driver that gave up
  run(grower, host, 30);
  CHECK(grower.current_kib() == 1536 * kMib);
  CHECK(host.free_pages() == 0);
}

TEST_CASE("sim: the balloon moves at most its rate per second, both ways") {
  Host host(pages_from_mib(8192));
  GuestModel guest = boot(guest_spec(4096, 4096, 0, 0, steady(200)), host);
  guest.set_target_kib(1024 * kMib);
  std::uint64_t previous = guest.current_kib();
  int seconds = 0;
  while (guest.current_kib() != 1024 * kMib) {
    REQUIRE(seconds++ < 20);
    run(guest, host, 1);
    CHECK(previous - guest.current_kib() <= kib_from_pages(kRatePagesPerSecond));
    CHECK(guest.current_kib() < previous);
    previous = guest.current_kib();
  }
  CHECK(seconds == 12);  // 3 GiB at 256 MiB/s

  guest.set_target_kib(4096 * kMib);
  seconds = 0;
  while (guest.current_kib() != 4096 * kMib) {
    REQUIRE(seconds++ < 20);
    run(guest, host, 1);
    CHECK(guest.current_kib() - previous <= kib_from_pages(kRatePagesPerSecond));
    previous = guest.current_kib();
  }
  CHECK(seconds == 12);
}

TEST_CASE("sim: Xen's max_pages caps growth at memory/target + 1 MiB, as on the real host") {
  Host host(pages_from_mib(2048));
  GuestModel guest = boot(captured_guest(), host);
  guest.set_target_kib(384 * kMib);  // the capture asked for 384 MiB and got 263168 kB

  std::vector<std::uint64_t> delays;
  std::vector<std::uint64_t> retries;
  for (int second = 0; second < 20; ++second) {
    run(guest, host, 1);
    delays.push_back(guest.snapshot().schedule_delay);
    retries.push_back(guest.snapshot().retry_count);
    CHECK(guest.current_kib() == 263168);
  }
  CHECK(guest.max_pages_kib() == 263168);
  // update_schedule(): 2, 4, 8 seconds between attempts, then giving up after max_retry_count.
  CHECK(delays ==
        std::vector<std::uint64_t>{1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 1, 1, 1, 1, 1});
  CHECK(retries ==
        std::vector<std::uint64_t>{1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1, 1, 1});
  CHECK(guest.balloon().state() == BalloonDriverState::kCanceled);
  CHECK(guest.snapshot().balloon_low_kib == 524288 - 263168);

  SECTION("dom0 raising memory/target to the same target: the driver retries within the hour") {
    guest.set_dom0_target_kib(384 * kMib);
    run(guest, host, 3000);
    CHECK(guest.current_kib() == 263168);  // the credit did not change: nothing woke it
    run(guest, host, 600);
    CHECK(guest.current_kib() == 384 * kMib);
    CHECK(guest.target_kib() == 384 * kMib);
  }
  SECTION("dom0 raising memory/target to a new target lets it grow, and no further") {
    guest.set_dom0_target_kib(448 * kMib);
    run(guest, host, 5);
    CHECK(guest.current_kib() == 448 * kMib);
    CHECK(guest.max_pages_kib() == 448 * kMib + 1024);
  }
  SECTION("whatever target_kb asks, the guest never passes static-max") {
    guest.set_dom0_target_kib(512 * kMib);
    guest.set_target_kib(4096 * kMib);
    run(guest, host, 30);
    CHECK(guest.current_kib() == 512 * kMib);
    CHECK(guest.snapshot().balloon_low_kib == 0);
  }
}

TEST_CASE("sim: inflating the balloon takes free memory and page cache, never the workload's") {
  Host host(pages_from_mib(4096));
  GuestModel guest = boot(guest_spec(2048, 2048, 512, 256, steady(600)), host);
  run(guest, host, 600);
  REQUIRE(guest.page_cache_kib() > 200 * kMib);
  guest.set_target_kib(256 * kMib);
  run(guest, host, 60);
  CHECK(guest.page_cache_kib() < 10 * kMib);
  CHECK(guest.anon_swapped_kib() == 0);
  CHECK(guest.current_kib() > 600 * kMib);
  CHECK(guest.oom_kills() == 0);
}

// ---------------------------------------------------------------------------------------------
// Reclaim, swap and OOM

TEST_CASE("sim: page cache fills toward the working set and is reclaimed before anything swaps") {
  Host host(pages_from_mib(2048));
  GuestModel guest = boot(guest_spec(1024, 1024, 512, 256, spike(300, 450, 1500)), host);
  run(guest, host, 1400);
  const std::uint64_t cache_before = guest.page_cache_kib();
  CHECK(cache_before > 250 * kMib);
  CHECK(cache_before <= 256 * kMib);
  // Every cold read came from disk; the quarter of them read through mappings faulted.
  const VmstatCounters& vm = guest.snapshot().vmstat;
  CHECK(vm.pgpgin >= 250 * kMib);
  CHECK(vm.pgmajfault == Approx(pages_from_kib(vm.pgpgin) / 4).epsilon(0.05));

  run(guest, host, 110);  // the spike arrives
  CHECK(guest.page_cache_kib() < cache_before);
  CHECK(guest.anon_swapped_kib() == 0);
  CHECK(guest.snapshot().vmstat.pswpout == 0);
  CHECK(guest.last_step().file_refaults > 0);  // the evicted part of the working set comes back
}

TEST_CASE("sim: anonymous memory beyond the allocation goes to swap and comes back when touched") {
  Host host(pages_from_mib(4096));
  GuestModel guest = boot(guest_spec(1024, 512, 512, 0, steady(600)), host);
  run(guest, host, 1);
  const GuestSnapshot first = guest.snapshot();
  CHECK(guest.anon_swapped_kib() > 100 * kMib);
  CHECK(first.swap_free_kib == first.swap_total_kib - guest.anon_swapped_kib());
  CHECK(first.vmstat.pswpout - first.vmstat.pswpin == pages_from_kib(guest.anon_swapped_kib()));
  CHECK(first.committed_as_kib == 5136 + 600 * kMib);
  CHECK(guest.oom_kills() == 0);

  run(guest, host, 300);
  const GuestSnapshot thrashing = guest.snapshot();
  CHECK(thrashing.vmstat.pswpin > 0);
  CHECK(thrashing.vmstat.pswpout > first.vmstat.pswpout);  // each page in pushes one out
  CHECK(thrashing.vmstat.pgmajfault >= thrashing.vmstat.pswpin);
  CHECK(thrashing.psi_some.total_ns > 0);

  guest.set_dom0_target_kib(1024 * kMib);
  const std::uint64_t swapped = guest.anon_swapped_kib();
  run(guest, host, 1200);
  CHECK(guest.anon_swapped_kib() < swapped / 2);
  CHECK(guest.anon_swapped_kib() > 0);  // only touched pages come back
  CHECK(guest.snapshot().vmstat.pswpout < thrashing.vmstat.pswpout + 64);
}

TEST_CASE("sim: demand beyond allocation plus swap wakes the OOM killer") {
  Host host(pages_from_mib(4096));
  SECTION("the spike is the largest process: it dies and stays dead for its run") {
    GuestModel guest = boot(guest_spec(1024, 512, 128, 0, spike(300, 800, 10)), host);
    run(guest, host, 10);
    CHECK(guest.oom_kills() == 0);
    run(guest, host, 1);
    CHECK(guest.oom_kills() == 1);
    CHECK(guest.snapshot().vmstat.oom_kill == 1);
    CHECK(guest.workload().job_pages() == 0);
    CHECK(guest.snapshot().committed_as_kib == 5136 + 300 * kMib);
    run(guest, host, 300);
    CHECK(guest.oom_kills() == 1);
  }
  SECTION("a service that never fits is killed and restarted over and over") {
    GuestModel guest = boot(guest_spec(1024, 512, 128, 0, steady(1200)), host);
    run(guest, host, 1);
    CHECK(guest.oom_kills() == 1);
    CHECK(guest.workload().demand_pages() == 0);
    run(guest, host, 40);
    CHECK(guest.oom_kills() >= 3);
  }
  SECTION("demand that fits in allocation plus swap is not killed") {
    GuestModel guest = boot(guest_spec(1024, 512, 256, 0, steady(600)), host);
    run(guest, host, 300);
    CHECK(guest.oom_kills() == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Page cache: hot and cold pages, refaults, the file LRU

TEST_CASE("sim: a skewed file working set is served mostly by a small cache") {
  Host host(pages_from_mib(8192));
  auto misses_with = [&](double exponent) {
    GuestSpec spec = guest_spec(2048, 2048, 0, 1024, steady(200));
    spec.workload.access.file_zipf_exponent = exponent;
    GuestModel guest = boot(spec, host);
    run(guest, host, 600);             // the cache fills
    guest.set_target_kib(560 * kMib);  // about a quarter of the working set stays cached
    run(guest, host, 30);
    std::uint64_t misses = 0;
    for (int i = 0; i < 60; ++i) {
      run(guest, host, 1);
      misses += guest.last_step().file_misses;
    }
    return misses;
  };
  const std::uint64_t uniform = misses_with(0);
  const std::uint64_t skewed = misses_with(1);
  // 1 % of 1 GiB read per second: uniform access misses about three quarters of it, at the pace
  // of a workload that stalls on every refault.
  CHECK(uniform > 60 * pages_from_mib(1024) / 100 / 4);
  CHECK(skewed * 3 < uniform);
  CHECK(skewed > 0);
}

TEST_CASE("sim: read-once data fills free memory as cache and is reclaimed first") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(2048, 2048, 512, 256, steady(300));
  spec.workload.access.file_stream_mib_per_s = 8;
  spec.workload.access.file_touch_percent_per_s = 5;
  GuestModel guest = boot(spec, host);
  run(guest, host, 600);
  // The working set is cached and the stream has filled the rest of memory.
  CHECK(guest.page_cache_kib() - guest.stream_cache_kib() == 256 * kMib);
  CHECK(guest.stream_cache_kib() > 1200 * kMib);
  CHECK(guest.free_kib() < 64 * kMib);
  const GuestSnapshot full = guest.snapshot();
  // Read-once pages stay on the inactive list; the working set is active.
  CHECK(full.active_file_kib == 256 * kMib);
  CHECK(full.inactive_file_kib == guest.stream_cache_kib());
  CHECK(full.mem_available_kib > 1200 * kMib);

  // Shrinking by most of the stream costs the working set nothing.
  guest.set_target_kib(guest.current_kib() - 1024 * kMib);
  run(guest, host, 60);
  CHECK(guest.page_cache_kib() - guest.stream_cache_kib() == 256 * kMib);
  CHECK(guest.snapshot().vmstat.workingset_refault_file == full.vmstat.workingset_refault_file);
  CHECK(guest.anon_swapped_kib() == 0);
}

TEST_CASE("sim: a working set read with memory free is all active until reclaim deactivates it") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(2048, 2048, 512, 256, steady(300));
  spec.workload.access.file_touch_percent_per_s = 5;
  GuestModel guest = boot(spec, host);
  run(guest, host, 600);
  REQUIRE(guest.page_cache_kib() == 256 * kMib);
  CHECK(guest.snapshot().active_file_kib == 256 * kMib);
  CHECK(guest.snapshot().inactive_file_kib == 0);
  // The balloon takes all free memory and 64 MiB of the cache: reclaim balances the lists
  // (active <= inactive below 1 GiB of file pages).
  guest.set_target_kib(guest.current_kib() - guest.free_kib() - 64 * kMib);
  run(guest, host, 10);  // 256 MiB/s
  const GuestSnapshot reclaimed = guest.snapshot();
  REQUIRE(guest.current_kib() == guest.target_kib());
  CHECK(reclaimed.active_file_kib <= reclaimed.inactive_file_kib + 4);
  CHECK(reclaimed.active_file_kib > 0);
  // Memory back: the pages read again go back to the active list.
  guest.set_target_kib(guest.static_max_kib());
  run(guest, host, 300);
  const GuestSnapshot after = guest.snapshot();
  CHECK(after.active_file_kib == guest.page_cache_kib() - guest.stream_cache_kib());
  CHECK(after.active_file_kib > reclaimed.active_file_kib);
}

TEST_CASE("sim: page cache reclaimed by kswapd or the balloon is some stall but no lost work") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(1024, 1024, 0, 0, steady(200));
  spec.workload.access.file_stream_mib_per_s = 16;
  spec.reclaim_ns_per_page = 8000;
  GuestModel guest = boot(spec, host);
  run(guest, host, 120);  // the stream has filled memory: every new page replaces one
  REQUIRE(guest.free_kib() < 64 * kMib);
  guest.step(host);
  const StepReport& step = guest.last_step();
  CHECK(step.background_reclaim_file > 0);
  CHECK(step.direct_reclaim_file == 0);
  CHECK(step.stall_some_ns == step.background_reclaim_file * 8000);
  CHECK(step.stall_full_ns == 0);
  CHECK(step.lost_work_ns == 0);
  // The balloon's reclaim counts the same way.
  guest.set_target_kib(guest.current_kib() - 128 * kMib);
  guest.step(host);
  CHECK(guest.last_step().background_reclaim_file > 16 * kMib / 4);
  CHECK(guest.last_step().stall_some_ns == guest.last_step().background_reclaim_file * 8000);
  // Free reclaim costs nothing.
  spec.reclaim_ns_per_page = 0;
  Host other(pages_from_mib(4096));
  GuestModel free_reclaim = boot(spec, other);
  run(free_reclaim, other, 121);
  CHECK(free_reclaim.last_step().background_reclaim_file > 0);
  CHECK(free_reclaim.last_step().stall_some_ns == 0);
}

TEST_CASE("sim: file reads begin and a stream ends at the configured seconds") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(2048, 2048, 0, 64, steady(100));
  spec.workload.access.file_touch_percent_per_s = 50;
  spec.workload.access.file_from_seconds = 100;
  spec.workload.access.file_stream_mib_per_s = 4;
  spec.workload.access.file_stream_from_seconds = 200;
  spec.workload.access.file_stream_seconds = 50;
  GuestModel guest = boot(spec, host);
  run(guest, host, 100);
  CHECK(guest.page_cache_kib() == 0);
  run(guest, host, 20);
  CHECK(guest.page_cache_kib() == 64 * kMib);
  run(guest, host, 80);
  CHECK(guest.stream_cache_kib() == 0);
  run(guest, host, 100);
  CHECK(guest.stream_cache_kib() == 200 * kMib);
}

TEST_CASE("sim: refaults of an evicted working set are counted and activated as the kernel does") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(2048, 2048, 512, 512, steady(300));
  spec.workload.access.file_touch_percent_per_s = 5;
  GuestModel guest = boot(spec, host);
  run(guest, host, 900);
  REQUIRE(guest.page_cache_kib() == 512 * kMib);
  const VmstatCounters before = guest.snapshot().vmstat;
  CHECK(before.workingset_refault_file == 0);
  guest.set_target_kib(guest.current_kib() - 1280 * kMib);  // into the working set
  run(guest, host, 120);
  const GuestSnapshot after = guest.snapshot();
  CHECK(guest.page_cache_kib() < 400 * kMib);
  CHECK(after.vmstat.workingset_refault_file > before.workingset_refault_file);
  // The evicted pages fit in the file LRU and free memory: every refault is activated.
  CHECK(after.vmstat.workingset_activate_file == after.vmstat.workingset_refault_file);
  CHECK(after.psi_some.total_ns > 0);
  // What the files show: the same counters in /proc/vmstat.
  auto vmstat = parse_vmstat(render_vmstat(after), "vmstat");
  REQUIRE(vmstat.ok());
  CHECK(vmstat->get("workingset_activate_file") == after.vmstat.workingset_activate_file);
  CHECK(vmstat->get("workingset_refault_file") == after.vmstat.workingset_refault_file);
}

TEST_CASE("sim: a file working set that follows the daily load grows and shrinks with it") {
  Host host(pages_from_mib(8192));
  GuestSpec spec = guest_spec(4096, 4096, 0, 256, WorkloadSpec{});
  spec.workload.kind = WorkloadKind::kDiurnal;
  spec.workload.low_mib = 256;
  spec.workload.high_mib = 512;
  spec.workload.peak_second = 600;
  spec.working_set_peak_mib = 1280;
  GuestModel guest = boot(spec, host);
  run(guest, host, 601);
  CHECK(guest.working_set_kib() == 1280 * kMib);
  run(guest, host, 12 * 3600);
  CHECK(guest.working_set_kib() < 260 * kMib);
  // What the working set no longer reads is cold cache now.
  CHECK(guest.page_cache_kib() - guest.stream_cache_kib() <= guest.working_set_kib());
  CHECK(guest.stream_cache_kib() > 512 * kMib);
}

// ---------------------------------------------------------------------------------------------
// Closed loop, swap speed, allocation churn, booting short

TEST_CASE("sim: a stalled workload makes less progress and the lost work adds up") {
  Host host(pages_from_mib(4096));
  GuestModel idle = boot(guest_spec(1024, 1024, 256, 64, steady(200)), host);
  run(idle, host, 300);
  CHECK(idle.lost_work_ns() == 0);
  CHECK(idle.progress() == 1.0);

  GuestModel squeezed = boot(guest_spec(1024, 512, 512, 0, steady(700)), host);
  std::uint64_t lost = 0;
  for (int i = 0; i < 120; ++i) {
    run(squeezed, host, 1);
    lost += squeezed.last_step().lost_work_ns;
  }
  CHECK(squeezed.lost_work_ns() == lost);
  CHECK(lost > kNsPerSecond);
  CHECK(squeezed.progress() < 1.0);
  CHECK(squeezed.progress() ==
        Approx(1.0 - static_cast<double>(squeezed.last_step().lost_work_ns) / 1e9));
}

TEST_CASE("sim: swap writes at most its rate, and growth beyond it waits instead of dying") {
  Host host(pages_from_mib(4096));
  GuestSpec spec = guest_spec(1024, 512, 1024, 0, spike(200, 500, 5, 1));
  SECTION("unlimited: the spike is swapped out in the second it arrives") {
    GuestModel guest = boot(spec, host);
    run(guest, host, 6);
    CHECK(guest.anon_swapped_kib() > 200 * kMib);
    CHECK(guest.deferred_kib() == 0);
  }
  SECTION("16 MiB/s: each second swaps out 16 MiB, the rest of the growth is deferred") {
    spec.swap_write_mib_per_s = 16;
    GuestModel guest = boot(spec, host);
    run(guest, host, 6);
    CHECK(guest.snapshot().vmstat.pswpout <= pages_from_mib(16));
    CHECK(guest.deferred_kib() > 150 * kMib);
    CHECK(guest.last_step().stall_some_ns > kNsPerSecond / 2);
    CHECK(guest.oom_kills() == 0);
    run(guest, host, 30);
    CHECK(guest.snapshot().vmstat.pswpout <= pages_from_mib(16) * 31);
    CHECK(guest.deferred_kib() == 0);  // served at last
    CHECK(guest.oom_kills() == 0);
  }
  SECTION("a rate limit does not turn a full swap into a wait: that is still out of memory") {
    spec.swap_mib = 64;
    spec.swap_write_mib_per_s = 256;
    GuestModel guest = boot(spec, host);
    run(guest, host, 6);
    CHECK(guest.oom_kills() == 1);
  }
}

TEST_CASE("sim: jitter moves the demand every second within its range") {
  Workload workload(steady(512), 5);
  WorkloadSpec spec = steady(512);
  spec.jitter_mib = 64;
  Workload jittery(spec, 5);
  std::set<std::uint64_t> sizes;
  for (int second = 0; second < 200; ++second) {
    workload.advance_to(second);
    jittery.advance_to(second);
    CHECK(workload.demand_pages() == pages_from_mib(512));
    CHECK(jittery.demand_pages() >= pages_from_mib(512));
    CHECK(jittery.demand_pages() <= pages_from_mib(576));
    sizes.insert(jittery.demand_pages());
  }
  CHECK(sizes.size() > 150);
}

TEST_CASE("sim: a guest booted below its target grows as the host has memory") {
  Host host(pages_from_mib(3072));
  GuestSpec spec = guest_spec(2048, 2048, 0, 0, steady(100));
  spec.boot_mib = 1024;
  GuestModel guest = boot(spec, host);
  CHECK(guest.current_kib() == 1024 * kMib);
  CHECK(guest.dom0_target_kib() == 2048 * kMib);
  CHECK(host.free_pages() == pages_from_mib(2048));
  host.allocate_up_to(pages_from_mib(1536));  // another domain takes most of the rest
  guest.set_target_kib(2048 * kMib);
  run(guest, host, 10);
  CHECK(guest.current_kib() == 1536 * kMib);
}

// ---------------------------------------------------------------------------------------------
// The trace

TEST_CASE("sim: the trace reads the same from the model and from the files a real guest has") {
  Host host(pages_from_mib(4096));
  GuestModel guest = busy_guest(host);
  const GuestSnapshot s = guest.snapshot();
  const TraceSample from_model = trace_sample(s);
  CHECK(from_model.second == 400);
  CHECK(from_model.mem_total_kib == s.mem_total_kib);
  CHECK(from_model.pswpout > 0);
  CHECK(from_model.psi_some_total_us == s.psi_some.total_ns / 1000);

  std::string meminfo, vmstat, pressure, target, current;
  for (const TreeFile& file : render_guest_tree(s)) {
    if (file.path == kMeminfoPath) meminfo = file.text;
    if (file.path == kVmstatPath) vmstat = file.text;
    if (file.path == kPressureMemoryPath) pressure = file.text;
    if (file.path == kTargetKbPath) target = file.text;
    if (file.path.ends_with("info/current_kb")) current = file.text;
  }
  auto from_files = trace_sample_from_text(400, meminfo, vmstat, pressure, target, current);
  REQUIRE(from_files.ok());
  CHECK(*from_files == from_model);

  const std::string header = trace_header("scenario,");
  CHECK(header.starts_with("scenario,second,mem_total_kib,committed_as_kib,active_file_kib,"));
  CHECK(header.ends_with(",target_kib,current_kib\n"));
  const std::string row = trace_row(from_model, "x,");
  CHECK(std::count(row.begin(), row.end(), ',') == std::count(header.begin(), header.end(), ','));
  CHECK(row.starts_with("x,400," + std::to_string(s.mem_total_kib) + ","));

  auto missing = trace_sample_from_text(1, "MemTotal: 1 kB\n", vmstat, pressure, target, current);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Contains("/proc/meminfo: no Committed_AS line"));
  auto bad_target = trace_sample_from_text(1, meminfo, vmstat, pressure, "lots\n", current);
  REQUIRE_FALSE(bad_target.ok());
  CHECK_THAT(bad_target.error().message, Contains("target_kb: expected a number"));
}

TEST_CASE("sim: the captured real guest's files give a trace row the booted model matches") {
  const std::string dir = "sys/devices/system/xen_memory/xen_memory0/";
  auto real = trace_sample_from_text(7, capture("proc/meminfo"), capture("proc/vmstat"),
                                     capture("proc/pressure/memory"), capture(dir + "target_kb"),
                                     capture(dir + "info/current_kb"));
  REQUIRE(real.ok());
  CHECK(real->mem_total_kib == 204924);
  CHECK(real->current_kib == 262144);
  CHECK(real->target_kib == 262144);
  // A freshly booted model of the same guest shows the same sizes and counters.
  Host host(pages_from_mib(1024));
  GuestModel guest = boot(captured_guest(), host);
  TraceSample model = trace_sample(guest.snapshot());
  model.second = 7;
  CHECK(model.mem_total_kib == real->mem_total_kib);
  CHECK(model.committed_as_kib == real->committed_as_kib);
  CHECK(model.swap_total_kib == real->swap_total_kib);
  CHECK(model.workingset_refault_file == real->workingset_refault_file);
  CHECK(model.psi_some_total_us == real->psi_some_total_us);
  CHECK(model.target_kib == real->target_kib);
  CHECK(model.current_kib == real->current_kib);
}

// ---------------------------------------------------------------------------------------------
// PSI

TEST_CASE("sim: PSI averages follow the kernel's fixed-point arithmetic") {
  SECTION("one fully stalled period") {
    PsiAverager psi;
    psi.record(kNsPerSecond, kNsPerSecond);
    CHECK(psi.line().avg10 == 0);  // averages move only at the end of a 2 s period
    psi.record(kNsPerSecond, kNsPerSecond);
    CHECK(format_psi_average(psi.line().avg10) == "18.11");
    CHECK(format_psi_average(psi.line().avg60) == "3.27");
    CHECK(format_psi_average(psi.line().avg300) == "0.68");
    CHECK(psi.line().total_ns == 2 * kNsPerSecond);
  }
  SECTION("a constant stall: avg10 rises like 1 - exp(-t/10) and settles on it exactly") {
    PsiAverager psi;
    for (int second = 1; second <= 600; ++second) {
      psi.record(kNsPerSecond, kNsPerSecond / 2);
      if (second == 10) {
        CHECK(psi_average_percent(psi.line().avg10) ==
              Approx(50 * (1 - std::exp(-1.0))).margin(0.2));
        CHECK(psi.line().avg60 < psi.line().avg10);
        CHECK(psi.line().avg300 < psi.line().avg60);
      }
      if (second == 60) {
        CHECK(psi_average_percent(psi.line().avg60) ==
              Approx(50 * (1 - std::exp(-1.0))).margin(0.2));
      }
    }
    CHECK(format_psi_average(psi.line().avg10) == "50.00");
    CHECK(format_psi_average(psi.line().avg60) == "50.00");
    // 600 s are 300 periods; EXP_300s = 2034/2048 is a little below exp(-2/300).
    CHECK(psi_average_percent(psi.line().avg300) ==
          Approx(50 * (1 - std::pow(2034.0 / 2048.0, 300))).margin(0.1));
    CHECK(psi.line().total_ns == 300 * kNsPerSecond);

    SECTION("and decays by exp(-t/10) once the stall ends") {
      for (int second = 0; second < 10; ++second) psi.record(kNsPerSecond, 0);
      CHECK(psi_average_percent(psi.line().avg10) == Approx(50 * std::exp(-1.0)).margin(0.2));
      CHECK(psi.line().total_ns == 300 * kNsPerSecond);
    }
  }
  SECTION("stalls under 1 % of a period reach the total but not the averages") {
    PsiAverager psi;
    for (int second = 0; second < 100; ++second) psi.record(kNsPerSecond, kNsPerSecond / 200);
    CHECK(psi.line().avg10 == 0);
    CHECK(psi.line().total_ns == kNsPerSecond / 2);
  }
}

TEST_CASE("sim: a thrashing guest shows memory pressure, an idle one none") {
  Host host(pages_from_mib(4096));
  GuestModel idle = boot(guest_spec(1024, 1024, 256, 64, steady(200)), host);
  run(idle, host, 900);
  CHECK(idle.snapshot().psi_some.total_ns == 0);
  CHECK(idle.snapshot().psi_some.avg10 == 0);

  GuestModel squeezed = boot(guest_spec(1024, 512, 512, 0, steady(700)), host);
  run(squeezed, host, 120);
  const GuestSnapshot s = squeezed.snapshot();
  CHECK(psi_average_percent(s.psi_some.avg10) > 1.0);
  CHECK(s.psi_some.avg10 >= s.psi_full.avg10);
  CHECK(s.psi_some.total_ns >= s.psi_full.total_ns);
}

// ---------------------------------------------------------------------------------------------
// Workloads and scenarios

TEST_CASE("sim: workloads have the shapes their names promise") {
  SECTION("diurnal peaks at peak_hour and bottoms out 12 h later") {
    WorkloadSpec spec;
    spec.kind = WorkloadKind::kDiurnal;
    spec.low_mib = 1000;
    spec.high_mib = 3000;
    spec.peak_second = 14 * 3600;
    Workload workload(spec, 1);
    std::uint64_t at_peak = 0;
    std::uint64_t at_trough = 0;
    for (std::int64_t t = 0; t < 86400; ++t) {
      workload.advance_to(t);
      if (t == 14 * 3600) at_peak = workload.demand_pages();
      if (t == 2 * 3600) at_trough = workload.demand_pages();
    }
    CHECK(at_peak == pages_from_mib(3000));
    CHECK(at_trough == pages_from_mib(1000));
  }
  SECTION("batch runs run_seconds every period_seconds") {
    WorkloadSpec spec;
    spec.kind = WorkloadKind::kBatch;
    spec.base_mib = 100;
    spec.batch_mib = 500;
    spec.period_seconds = 600;
    spec.run_seconds = 120;
    spec.first_at_seconds = 60;
    spec.ramp_seconds = 10;
    Workload workload(spec, 1);
    std::vector<std::uint64_t> demand(2000);
    for (std::int64_t t = 0; t < 2000; ++t) {
      workload.advance_to(t);
      demand[t] = workload.demand_pages();
    }
    CHECK(demand[59] == pages_from_mib(100));
    CHECK(demand[60] == pages_from_mib(150));  // 1/10 of the way after the first second
    CHECK(demand[100] == pages_from_mib(600));
    CHECK(demand[180] == pages_from_mib(100));
    CHECK(demand[700] == pages_from_mib(600));
    CHECK(demand[1300] == pages_from_mib(600));
    CHECK(demand[1400] == pages_from_mib(100));
  }
  SECTION("leak grows linearly and a planned restart returns the memory") {
    WorkloadSpec spec;
    spec.kind = WorkloadKind::kLeak;
    spec.base_mib = 100;
    spec.leak_mib_per_hour = 36;
    spec.restart_every_seconds = 7200;
    Workload workload(spec, 1);
    std::vector<std::uint64_t> demand(8000);
    for (std::int64_t t = 0; t < 8000; ++t) {
      workload.advance_to(t);
      demand[t] = workload.demand_pages();
    }
    CHECK(demand[3600] == pages_from_mib(136));
    CHECK(demand[7199] == pages_from_mib(172) - 3);  // 36 MiB/h: 2.56 pages per 1 s
    CHECK(demand[7200] == pages_from_mib(100));
  }
  SECTION("the OOM killer takes the larger process; the service comes back after its delay") {
    WorkloadSpec spec = spike(400, 800, 5, 1);
    spec.restart_delay_seconds = 10;
    Workload workload(spec, 1);
    workload.advance_to(5);
    REQUIRE(workload.job_pages() == pages_from_mib(800));
    CHECK(workload.kill_largest(5) == pages_from_mib(800));
    CHECK(workload.kill_largest(5) == pages_from_mib(400));
    CHECK(workload.demand_pages() == 0);
    workload.advance_to(14);
    CHECK(workload.service_pages() == 0);
    workload.advance_to(15);
    CHECK(workload.service_pages() == pages_from_mib(400));
    CHECK(workload.job_pages() == 0);  // the killed spike stays dead
    CHECK(workload.kills() == 2);
  }
}

TEST_CASE(
    "sim: a workload replaced live takes effect at the next step, the guest's counters go on") {
  SECTION("a steady guest made to thrash swaps in, and stops when its demand drops again") {
    Host host(pages_from_mib(4096));
    GuestModel guest = boot(guest_spec(1024, 384, 512, 16, steady(64)), host);
    run(guest, host, 30);
    const GuestSnapshot calm = guest.snapshot();
    CHECK(calm.vmstat.pswpout == 0);

    WorkloadSpec heavy = steady(600);
    heavy.access.hot_percent = 80;
    guest.set_workload(heavy);
    CHECK(guest.spec().workload == heavy);
    CHECK(guest.workload().demand_pages() == pages_from_mib(64));  // nothing moves before a step
    run(guest, host, 1);
    CHECK(guest.workload().demand_pages() == pages_from_mib(600));
    CHECK(guest.anon_swapped_kib() > 200 * kMib);
    run(guest, host, 29);
    const GuestSnapshot thrashing = guest.snapshot();
    // 80 % of 600 MiB is hot: most swapped pages are hot ones, touched at 5 % a second.
    CHECK(thrashing.vmstat.pswpin - calm.vmstat.pswpin > 29 * 1000);
    CHECK(thrashing.psi_some.total_ns > calm.psi_some.total_ns);
    CHECK(thrashing.uptime_seconds == calm.uptime_seconds + 30);

    guest.set_workload(steady(64));
    run(guest, host, 30);
    const GuestSnapshot after = guest.snapshot();
    run(guest, host, 10);
    CHECK(guest.workload().demand_pages() == pages_from_mib(64));
    // Only cold pages are left in swap, touched at 0.1 % a second: under 0.1 MiB/s of swap-in.
    CHECK(guest.snapshot().vmstat.pswpin - after.vmstat.pswpin < 10 * 25);
    CHECK(guest.snapshot().vmstat.pswpin >= thrashing.vmstat.pswpin);  // counters never go back
    CHECK(guest.oom_kills() == 0);
  }
  SECTION("a leak put in later leaks from its base size from then on") {
    Host host(pages_from_mib(4096));
    GuestModel guest = boot(guest_spec(1024, 1024, 0, 0, steady(64)), host);
    run(guest, host, 100);
    WorkloadSpec leak;
    leak.kind = WorkloadKind::kLeak;
    leak.base_mib = 100;
    leak.leak_mib_per_hour = 3600;  // 1 MiB a second
    guest.set_workload(leak);
    run(guest, host, 1);
    CHECK(guest.workload().service_pages() == pages_from_mib(100));
    run(guest, host, 10);
    CHECK(guest.workload().service_pages() == pages_from_mib(110));
  }
  SECTION("the kill count carries over a replacement") {
    Host host(pages_from_mib(4096));
    GuestModel guest = boot(guest_spec(1024, 512, 128, 0, steady(1200)), host);
    run(guest, host, 1);
    REQUIRE(guest.oom_kills() == 1);
    guest.set_workload(steady(64));
    run(guest, host, 5);
    CHECK(guest.oom_kills() == 1);
    CHECK(guest.snapshot().vmstat.oom_kill == 1);
    CHECK(guest.workload().service_pages() == pages_from_mib(64));  // alive again at once
  }
}

TEST_CASE("sim: the shipped scenarios parse and boot") {
  std::set<WorkloadKind> kinds;
  for (const char* name : {"default", "steady", "diurnal", "spike", "leak", "batch", "fileserver",
                           "zipf", "forkburst", "growing", "contention"}) {
    INFO(name);
    auto scenario = load_scenario(kScenarioDir + "/" + name + ".yaml");
    REQUIRE(scenario.ok());
    CHECK(scenario->name == name);
    CHECK(scenario->duration_seconds == 24 * 3600);
    CHECK(scenario->guests.size() >= 3);
    for (const GuestSpec& guest : scenario->guests) kinds.insert(guest.workload.kind);
    CHECK(Simulation::create(*scenario).ok());
  }
  CHECK(kinds.size() == 5);
}

TEST_CASE("sim: scenario errors name the file, the line and the key") {
  auto expect_error = [](const std::string& yaml, const std::string& message) {
    auto parsed = parse_scenario(yaml, "s.yaml");
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Contains(message));
  };
  auto with_line = [](int line, const std::string& replacement) {
    std::vector<std::string> lines = lines_of(kMinimalScenario);
    lines.at(line - 1) = replacement;
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
  };
  REQUIRE(parse_scenario(kMinimalScenario, "s.yaml").ok());

  expect_error(with_line(7, "    static_max_mib: lots"),
               "s.yaml:7: guests[0].static_max_mib: expected an integer");
  expect_error(with_line(8, "    memory_mib: 4096"),
               "s.yaml:8: guests[0].memory_mib: must not be above static_max_mib (2048)");
  expect_error(with_line(15, "      spike_mib: 64"),
               "s.yaml:15: guests[0].workload.spike_mib: unknown key");
  expect_error(
      with_line(13, "      type: sawtooth"),
      "s.yaml:13: guests[0].workload.type: expected steady, diurnal, spike, leak or batch");
  expect_error(with_line(16, "  - name: a"), "s.yaml:16: guests[1].name: another guest is already");
  expect_error(with_line(4, "  memory_mib: 2048"),
               "s.yaml:4: host.memory_mib: the guests boot with 3072 MiB together");
  expect_error(with_line(27, "      run_minutes: 30"),
               "s.yaml:27: guests[1].workload.run_minutes: must not be longer than period_minutes");
  expect_error(with_line(15, "      colour: blue"),
               "s.yaml:15: guests[0].workload.colour: unknown key");
  expect_error(with_line(11, "    seed: [1"), "s.yaml:12: YAML syntax error");
  expect_error(with_line(2, "duration_hours: -1"), "s.yaml:2: duration_hours: expected a number");
  // A missing required key is reported at the mapping that lacks it.
  expect_error(with_line(10, "    working_set_mib_typo: 3"),
               "s.yaml:6: guests[0].working_set_mib: missing key");
  expect_error("name: x\nhost:\n  memory_mib: 1\n", "s.yaml:1: guests: missing key");
  expect_error(with_line(10, "    working_set_mib: 256\n    working_set_peak_mib: 512"),
               "s.yaml:11: guests[0].working_set_peak_mib: only a diurnal workload");
  expect_error(with_line(8, "    memory_mib: 1024\n    boot_mib: 1536"),
               "s.yaml:9: guests[0].boot_mib: must not be above memory_mib (1024)");
  expect_error(with_line(15, "      noise_mib: 64\n      access:\n        file_zipf_exponent: 9"),
               "s.yaml:17: guests[0].workload.access.file_zipf_exponent: expected a number");
}

TEST_CASE("sim: a scenario runs without swap and at another balloon speed") {
  auto scenario = parse_scenario(kMinimalScenario, "s.yaml");
  REQUIRE(scenario.ok());
  const Scenario bare = without_swap(*scenario);
  CHECK(bare.name == "tiny-noswap");
  for (const GuestSpec& guest : bare.guests) CHECK(guest.swap_mib == 0);
  const Scenario slow = with_balloon_rate(*scenario, 64);
  auto created = Simulation::create(slow);
  REQUIRE(created.ok());
  GuestModel& guest = created->guests().front();
  guest.set_target_kib(1024 * kMib);
  created->step();
  CHECK(guest.current_kib() == 2048 * kMib - 64 * kMib);
}

TEST_CASE("sim: the same seed replays byte for byte, another seed does not") {
  auto scenario = parse_scenario(kMinimalScenario, "s.yaml");
  REQUIRE(scenario.ok());
  auto run_scenario = [](const Scenario& s) {
    auto created = Simulation::create(s);
    REQUIRE(created.ok());
    Simulation& simulation = *created;
    Random targets(99);
    std::vector<std::string> trees;
    for (int second = 0; second < 2400; ++second) {
      if (second % 30 == 0) {
        for (GuestModel& guest : simulation.guests()) {
          guest.set_target_kib(guest.static_max_kib() / 4 +
                               targets.next_u64() % (guest.static_max_kib() / 2));
        }
      }
      simulation.step();
      if (second % 400 == 0) {
        for (const GuestModel& guest : simulation.guests()) {
          for (const TreeFile& file : render_guest_tree(guest.snapshot())) {
            trees.push_back(file.path + "\n" + file.text);
          }
        }
      }
    }
    return trees;
  };
  const auto first = run_scenario(*scenario);
  const auto second = run_scenario(*scenario);
  CHECK(first == second);
  const auto reseeded = run_scenario(with_seed(*scenario, 7));
  CHECK(first != reseeded);
  CHECK(with_seed(*scenario, 0) == *scenario);
}
