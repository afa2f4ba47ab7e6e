// One simulated Xen guest: its kernel's memory management (page cache, swap, reclaim, the OOM
// killer, PSI), its balloon driver and the workload inside, stepped in whole virtual seconds.
// The arithmetic and every constant: docs/simulation.md.
#pragma once

#include <cstdint>
#include <string>

#include "xenballoon/result.h"
#include "xenballoon/sim/balloon.h"
#include "xenballoon/sim/host.h"
#include "xenballoon/sim/psi.h"
#include "xenballoon/sim/random.h"
#include "xenballoon/sim/workload.h"

namespace xenballoon::sim {

// Allocation that MemTotal never shows (kernel image, memmap, reserved ranges): on the captured
// guest 262144 kB allocated give MemTotal 204924 kB.
inline constexpr std::uint64_t kDefaultKernelReservedKib = 262144 - 204924;

// A guest as a scenario describes it. Sizes in MiB unless named otherwise.
struct GuestSpec {
  std::string name;
  std::uint64_t static_max_mib = 0;  // xenstore memory/static-max (maxmem)
  std::uint64_t memory_mib = 0;      // xenstore memory/target at boot
  // The allocation at boot when below memory_mib (0: memory_mib): the guest was created while the
  // host was short and its balloon grows toward memory/target as the host frees memory.
  std::uint64_t boot_mib = 0;
  std::uint64_t swap_mib = 0;
  std::uint64_t working_set_mib = 0;  // page-cache working set of the workload's files
  // Diurnal only: the file working set follows the daily load from working_set_mib at the trough
  // to this at the peak (0: constant).
  std::uint64_t working_set_peak_mib = 0;
  // Swap-outs the swap device can write per second (0: unlimited). Reclaim that needs more waits:
  // the allocation is served in a later second and the task stalls meanwhile.
  std::uint64_t swap_write_mib_per_s = 0;
  std::uint64_t seed = 0;
  std::uint64_t disk_latency_us = 500;  // one 4 KiB read from swap or a file
  // Reclaiming one page-cache page, whoever reclaims it (an allocating task, kswapd, the balloon).
  std::uint64_t reclaim_ns_per_page = 2000;
  std::uint64_t kernel_reserved_kib = kDefaultKernelReservedKib;
  WorkloadSpec workload;

  bool operator==(const GuestSpec&) const = default;
};

// Cumulative /proc/vmstat counters the model moves; they start at the captured guest's values.
struct VmstatCounters {
  std::uint64_t pgpgin = 0;   // KiB read (file misses and swap-ins)
  std::uint64_t pgpgout = 0;  // KiB written (swap-outs)
  std::uint64_t pswpin = 0;
  std::uint64_t pswpout = 0;
  std::uint64_t pgalloc = 0;  // pgalloc_dma32 (numa_hit and numa_local move with it)
  std::uint64_t pgfree = 0;
  std::uint64_t pgfault = 0;
  std::uint64_t pgmajfault = 0;
  std::uint64_t pgscan_kswapd = 0;
  std::uint64_t pgscan_direct = 0;
  std::uint64_t pgsteal_kswapd = 0;
  std::uint64_t pgsteal_direct = 0;
  std::uint64_t pgscan_anon = 0;
  std::uint64_t pgscan_file = 0;
  std::uint64_t pgsteal_anon = 0;
  std::uint64_t pgsteal_file = 0;
  std::uint64_t allocstall = 0;  // allocstall_dma32
  std::uint64_t workingset_refault_anon = 0;
  std::uint64_t workingset_refault_file = 0;
  std::uint64_t workingset_activate_file = 0;  // refaults recent enough to go straight to active
  std::uint64_t oom_kill = 0;

  bool operator==(const VmstatCounters&) const = default;
};

// Everything the guest's procfs and balloon sysfs files show at one instant; sizes in KiB.
// A plain value.
struct GuestSnapshot {
  std::int64_t uptime_seconds = 0;
  std::uint64_t mem_total_kib = 0;
  std::uint64_t mem_free_kib = 0;
  std::uint64_t mem_available_kib = 0;
  std::uint64_t cached_kib = 0;  // page cache plus shmem, as the kernel counts it
  std::uint64_t active_anon_kib = 0;
  std::uint64_t inactive_anon_kib = 0;
  std::uint64_t active_file_kib = 0;
  std::uint64_t inactive_file_kib = 0;
  std::uint64_t swap_total_kib = 0;
  std::uint64_t swap_free_kib = 0;
  std::uint64_t anon_pages_kib = 0;
  std::uint64_t mapped_kib = 0;
  std::uint64_t shmem_kib = 0;
  std::uint64_t slab_reclaimable_kib = 0;
  std::uint64_t slab_unreclaimable_kib = 0;
  std::uint64_t kernel_stack_kib = 0;
  std::uint64_t page_tables_kib = 0;
  std::uint64_t percpu_kib = 0;
  std::uint64_t vmalloc_used_kib = 0;
  std::uint64_t commit_limit_kib = 0;
  std::uint64_t committed_as_kib = 0;
  std::uint64_t direct_map_4k_kib = 0;
  VmstatCounters vmstat;
  PsiLine psi_some;
  PsiLine psi_full;
  // Balloon driver sysfs
  std::uint64_t balloon_target_kib = 0;
  std::uint64_t balloon_current_kib = 0;
  std::uint64_t balloon_low_kib = 0;  // pages inside the balloon: static-max - current
  std::uint64_t balloon_high_kib = 0;
  std::uint64_t schedule_delay = 1;
  std::uint64_t max_schedule_delay = 20;
  std::uint64_t retry_count = 1;
  std::uint64_t max_retry_count = 4;

  bool operator==(const GuestSnapshot&) const = default;
};

// What happened during the last step, for tests and the benchmark. Pages and nanoseconds.
struct StepReport {
  std::int64_t balloon_moved_pages = 0;  // > 0 grew, < 0 shrank
  std::uint64_t swapins = 0;
  std::uint64_t swapouts = 0;
  std::uint64_t file_misses = 0;
  std::uint64_t file_refaults = 0;
  std::uint64_t direct_reclaim_file = 0;
  std::uint64_t background_reclaim_file = 0;  // page cache reclaimed by kswapd or the balloon
  std::uint64_t direct_swapouts = 0;
  std::uint64_t oom_kills = 0;
  std::uint64_t stream_reads = 0;    // read-once pages read (cold misses, never refaults)
  std::uint64_t deferred_pages = 0;  // anonymous demand the swap write rate left unserved
  std::uint64_t stall_some_ns = 0;
  std::uint64_t stall_full_ns = 0;
  std::uint64_t lost_work_ns = 0;  // of the second, the share the workload did not progress
};

// One guest. Host memory is passed in to every call that moves it: the caller owns the Host
// and must use the same one throughout. A plain value; not thread-safe.
class GuestModel {
 public:
  // Boots the guest with memory_mib taken from `host`; fails (and takes nothing) when the spec is
  // inconsistent or the host has too little free memory.
  static Result<GuestModel> boot(const GuestSpec& spec, const BalloonDriverSettings& balloon,
                                 Host& host);

  // Writing xen_memory0/target_kb: the driver heads there, within Xen's limits.
  void set_target_kib(std::uint64_t target_kib);
  // `xl mem-set`: memory/target and max_pages (target + 1 MiB) change, and the driver's
  // xenstore watch sets its target to the new value.
  void set_dom0_target_kib(std::uint64_t target_kib);

  // The workload inside changes from the next step on (Workload::replace); spec().workload shows
  // the new one. The memory it held is released or swapped like any change of demand.
  void set_workload(const WorkloadSpec& workload);

  // One virtual second: balloon driver, workload demand (with reclaim, swap and the OOM killer),
  // swap-ins, file reads, kswapd, PSI.
  void step(Host& host);

  GuestSnapshot snapshot() const;
  const StepReport& last_step() const { return last_step_; }

  const GuestSpec& spec() const { return spec_; }
  const Workload& workload() const { return workload_; }
  std::int64_t now_seconds() const { return now_seconds_; }

  std::uint64_t static_max_kib() const { return kib_from_pages(static_max_pages_); }
  std::uint64_t dom0_target_kib() const { return kib_from_pages(dom0_target_pages_); }
  // Xen's max_pages for the domain: memory/target + 1 MiB, as xl sets it.
  std::uint64_t max_pages_kib() const { return kib_from_pages(max_pages_); }
  std::uint64_t current_kib() const { return kib_from_pages(balloon_.current_pages()); }
  std::uint64_t target_kib() const { return kib_from_pages(balloon_.target_pages()); }
  std::uint64_t mem_total_kib() const { return kib_from_pages(mem_total_pages()); }
  std::uint64_t free_kib() const { return kib_from_pages(free_pages()); }
  std::uint64_t anon_resident_kib() const { return kib_from_pages(anon_resident_); }
  std::uint64_t anon_swapped_kib() const { return kib_from_pages(anon_swapped_); }
  std::uint64_t page_cache_kib() const { return kib_from_pages(cache_); }
  // The part of the page cache that holds read-once data.
  std::uint64_t stream_cache_kib() const { return kib_from_pages(stream_cache_); }
  std::uint64_t working_set_kib() const { return kib_from_pages(working_set_pages_); }
  // Anonymous demand not yet served because the swap device could not write fast enough.
  std::uint64_t deferred_kib() const { return kib_from_pages(deferred_); }
  // Closed loop: the share of the last second the workload progressed (1: no stall). File reads
  // and touches of swapped pages scale with it; what it lost adds up in lost_work_ns().
  double progress() const { return progress_; }
  std::uint64_t lost_work_ns() const { return lost_work_ns_; }
  std::uint64_t swap_total_kib() const { return kib_from_pages(swap_pages_); }
  std::uint64_t oom_kills() const { return workload_.kills(); }
  const BalloonDriverModel& balloon() const { return balloon_; }

  // The allocation at which `anon_demand_kib` of anonymous memory, the file working set and the
  // kernel all fit without reclaim: what an all-knowing policy would give the guest.
  std::uint64_t allocation_needed_kib(std::uint64_t anon_demand_kib) const;

  // The model's own consistency: used memory within MemTotal, anonymous pages (resident, swapped
  // and deferred) equal to the demand, swap within its size, the working-set part of the cache
  // within the part of the working set ever read. Empty when fine, else what is wrong.
  std::string check_invariants() const;

 private:
  GuestModel(const GuestSpec& spec, const BalloonDriverSettings& balloon);

  std::uint64_t mem_total_pages() const;
  std::uint64_t used_pages() const;
  std::uint64_t free_pages() const;
  std::uint64_t swap_free_pages() const { return swap_pages_ - anon_swapped_; }
  std::uint64_t mem_available_pages() const;
  std::uint64_t hot_pages() const;
  std::uint64_t working_set_cached() const { return cache_ - stream_cache_; }
  // What this second's swap writes may still add (the device's rate), and takes them.
  std::uint64_t swap_write_room(std::uint64_t wanted);
  void follow_load();

  void run_balloon(Host& host);
  void place_anon();
  void release_anon(std::uint64_t pages);
  void swap_in();
  void read_files();
  void run_kswapd();
  // The file LRU after this second's reads and reclaim: cached working-set pages read again
  // become active; reclaim deactivates down to the kernel's active:inactive ratio.
  void update_file_lru();
  void account_stall();
  // Direct reclaim for an allocation of `needed` pages: free memory above the min watermark,
  // then page cache (read-once pages first), then resident anonymous pages to swap, then
  // (`fresh_swapped` of them) the `fresh` pages being allocated. Returns how much of `needed` it
  // could cover; swap_rate_limited_ tells whether the swap write rate stopped it.
  std::uint64_t make_room(std::uint64_t needed, std::uint64_t fresh, std::uint64_t& fresh_swapped);
  void swap_out(std::uint64_t pages, bool direct);
  void drop_cache(std::uint64_t pages, bool direct);

  GuestSpec spec_;
  std::uint64_t reserved_pages_ = 0;
  std::uint64_t static_max_pages_ = 0;
  std::uint64_t dom0_target_pages_ = 0;
  std::uint64_t max_pages_ = 0;
  std::uint64_t swap_pages_ = 0;
  std::uint64_t working_set_pages_ = 0;
  std::uint64_t wmark_min_ = 0;
  std::uint64_t wmark_low_ = 0;
  std::uint64_t wmark_high_ = 0;

  BalloonDriverModel balloon_;
  Workload workload_;
  Random random_;
  std::int64_t now_seconds_ = 0;

  std::uint64_t anon_resident_ = 0;
  std::uint64_t anon_swapped_ = 0;
  std::uint64_t cache_ = 0;         // page cache: working-set pages plus read-once pages
  std::uint64_t stream_cache_ = 0;  // of cache_, read-once pages
  // Working-set pages read at least once: a miss on one of them is a refault.
  std::uint64_t cache_ever_ = 0;
  std::uint64_t active_file_ =
      0;  // of the working-set pages in the cache, those on the active list
  std::uint64_t deferred_ = 0;
  std::uint64_t swap_written_ = 0;  // this second
  bool swap_rate_limited_ = false;
  double progress_ = 1;
  std::uint64_t lost_work_ns_ = 0;

  VmstatCounters vmstat_;
  PsiAverager psi_some_;
  PsiAverager psi_full_;
  StepReport last_step_;
};

}  // namespace xenballoon::sim
