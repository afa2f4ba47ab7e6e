#include "xenballoon/sim/guest.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace xenballoon::sim {
namespace {

// Kernel memory of the captured idle guest (tests/fixtures/real-xen-4.17/proc/meminfo), in
// pages. The model holds it constant; only page tables grow with anonymous memory.
constexpr std::uint64_t kShmemPages = 1032;
constexpr std::uint64_t kBaseAnonPages = 45;  // the idle system's own processes
constexpr std::uint64_t kSlabReclaimablePages = 2190;
constexpr std::uint64_t kSlabUnreclaimablePages = 1362;
constexpr std::uint64_t kKernelStackPages = 196;
constexpr std::uint64_t kPercpuPages = 65;
constexpr std::uint64_t kVmallocUsedPages = 1843;
// Used memory meminfo does not itemise (vmalloc included): MemTotal - MemFree - Cached - AnonPages
// - Slab - KernelStack - PageTables - Percpu on the capture.
constexpr std::uint64_t kUnitemisedKernelPages = 2205;
constexpr std::uint64_t kBasePageTablePages = 20;
constexpr std::uint64_t kBaseMappedPages = 432;
constexpr std::uint64_t kBaseCommittedPages = 1284;  // Committed_AS of the idle guest
constexpr std::uint64_t kBaseInactiveAnonPages = 190;
constexpr std::uint64_t kFixedKernelPages = kShmemPages + kBaseAnonPages + kSlabReclaimablePages +
                                            kSlabUnreclaimablePages + kKernelStackPages +
                                            kPercpuPages + kUnitemisedKernelPages;

constexpr std::uint64_t kPtesPerPageTablePage = 512;
constexpr std::uint64_t kOvercommitRatioPercent = 50;  // vm.overcommit_ratio default
constexpr std::uint64_t kMaxPagesSlackPages = 256;     // xl: max_pages = target + 1 MiB
constexpr std::uint64_t kReclaimBatchPages = 32;       // SWAP_CLUSTER_MAX: one allocstall each

// Stall costs (docs/simulation.md, "PSI"). Tasks: the workload's runnable threads; "some" is
// the chance that at least one of them waits, "full" that all do.
constexpr std::uint64_t kDirectSwapoutNs = 50'000;
constexpr std::uint64_t kOomStallNs = kNsPerSecond;  // the thrashing before a kill
constexpr std::uint64_t kWorkloadTasks = 2;

// The VM counters of the captured guest at uptime 7.3 s.
constexpr VmstatCounters kBootCounters{
    .pgpgin = 0,
    .pgpgout = 0,
    .pswpin = 0,
    .pswpout = 0,
    .pgalloc = 31811,
    .pgfree = 75992,
    .pgfault = 8561,
    .pgmajfault = 0,
};

std::uint64_t integer_sqrt(std::uint64_t value) {
  std::uint64_t root = 0;
  std::uint64_t bit = std::uint64_t{1} << 62;
  while (bit > value) bit >>= 2;
  while (bit != 0) {
    if (value >= root + bit) {
      value -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return root;
}

std::uint64_t boot_allocation_mib(const GuestSpec& spec) {
  return spec.boot_mib != 0 ? std::min(spec.boot_mib, spec.memory_mib) : spec.memory_mib;
}

std::uint64_t page_tables_for(std::uint64_t anon_pages) {
  return kBasePageTablePages + (anon_pages + kPtesPerPageTablePage - 1) / kPtesPerPageTablePage;
}

std::uint64_t scaled(std::uint64_t pages, double percent) {
  return static_cast<std::uint64_t>(static_cast<double>(pages) * percent / 100.0);
}

// The share of reads that hit when the `cached` most popular of `working_set` pages are in the
// cache and popularity is Zipf with `exponent` (the continuous approximation of the harmonic
// sums; exponent 0: every page alike, the share is cached / working_set).
double zipf_hit_share(std::uint64_t cached, std::uint64_t working_set, double exponent) {
  if (working_set == 0) return 1;
  const auto c = static_cast<double>(cached);
  const auto w = static_cast<double>(working_set);
  if (exponent <= 0) return c / w;
  if (std::abs(exponent - 1) < 1e-9) return std::log1p(c) / std::log1p(w);
  return (std::pow(1 + c, 1 - exponent) - 1) / (std::pow(1 + w, 1 - exponent) - 1);
}

// mm/vmscan.c inactive_is_low(): the file LRU keeps active <= ratio * inactive, with ratio
// int_sqrt(10 * GiB) from 1 GiB of file pages up, else 1.
std::uint64_t active_file_limit(std::uint64_t file_pages) {
  const std::uint64_t gib = file_pages / (kPagesPerMib * 1024);
  const std::uint64_t ratio = gib == 0 ? 1 : std::max<std::uint64_t>(1, integer_sqrt(10 * gib));
  return file_pages - file_pages / (1 + ratio);
}

}  // namespace

GuestModel::GuestModel(const GuestSpec& spec, const BalloonDriverSettings& balloon)
    : spec_(spec),
      reserved_pages_(pages_from_kib(spec.kernel_reserved_kib)),
      static_max_pages_(pages_from_mib(spec.static_max_mib)),
      dom0_target_pages_(pages_from_mib(spec.memory_mib)),
      max_pages_(pages_from_mib(spec.memory_mib) + kMaxPagesSlackPages),
      swap_pages_(pages_from_mib(spec.swap_mib)),
      working_set_pages_(pages_from_mib(spec.working_set_mib)),
      balloon_(balloon, pages_from_mib(boot_allocation_mib(spec))),
      workload_(spec.workload, spec.seed),
      random_(spec.seed ^ 0x5eed0f6e57c0de5ULL),
      vmstat_(kBootCounters) {
  // init_per_zone_wmark_min() at boot; ballooning later does not recompute the watermarks.
  const std::uint64_t boot_mem_total_kib = kib_from_pages(mem_total_pages());
  const std::uint64_t min_free_kib =
      std::clamp<std::uint64_t>(integer_sqrt(boot_mem_total_kib * 16), 128, 262144);
  wmark_min_ = pages_from_kib(min_free_kib);
  const std::uint64_t step =
      std::max(wmark_min_ / 4, mem_total_pages() * 10 / 10000);  // watermark_scale_factor 10
  wmark_low_ = wmark_min_ + step;
  wmark_high_ = wmark_low_ + step;
}

Result<GuestModel> GuestModel::boot(const GuestSpec& spec, const BalloonDriverSettings& balloon,
                                    Host& host) {
  const std::string who = "guest \"" + spec.name + "\": ";
  if (spec.memory_mib == 0 || spec.memory_mib > spec.static_max_mib) {
    return Error{who + "memory " + std::to_string(spec.memory_mib) +
                 " MiB must be between 1 and static-max " + std::to_string(spec.static_max_mib) +
                 " MiB"};
  }
  if (pages_from_mib(spec.memory_mib) <= pages_from_kib(spec.kernel_reserved_kib)) {
    return Error{who + "memory " + std::to_string(spec.memory_mib) +
                 " MiB does not exceed the kernel reservation of " +
                 std::to_string(spec.kernel_reserved_kib) + " KiB"};
  }
  GuestModel guest(spec, balloon);
  const std::uint64_t boot_pages = guest.balloon_.current_pages();
  const std::uint64_t kernel_pages =
      guest.reserved_pages_ + kFixedKernelPages + page_tables_for(0) + guest.wmark_high_;
  if (boot_pages <= kernel_pages) {
    return Error{who + "memory " + std::to_string(spec.memory_mib) +
                 " MiB does not even hold the kernel (" +
                 std::to_string(kib_from_pages(kernel_pages) / kKibPerMib + 1) + " MiB)"};
  }
  if (host.free_pages() < boot_pages) {
    return Error{who + "the host has " + std::to_string(host.free_pages() / kPagesPerMib) +
                 " MiB free, the guest needs " + std::to_string(boot_allocation_mib(spec)) +
                 " MiB"};
  }
  host.allocate_up_to(boot_pages);
  return guest;
}

std::uint64_t GuestModel::mem_total_pages() const {
  return balloon_.current_pages() - reserved_pages_;
}

std::uint64_t GuestModel::used_pages() const {
  return kFixedKernelPages + page_tables_for(anon_resident_ + anon_swapped_) + anon_resident_ +
         cache_;
}

std::uint64_t GuestModel::free_pages() const {
  const std::uint64_t total = mem_total_pages();
  const std::uint64_t used = used_pages();
  return total > used ? total - used : 0;
}

// si_mem_available() of Linux 6.1; totalreserve_pages is taken as the high watermark.
std::uint64_t GuestModel::mem_available_pages() const {
  const std::int64_t low = static_cast<std::int64_t>(wmark_low_);
  std::int64_t available =
      static_cast<std::int64_t>(free_pages()) - static_cast<std::int64_t>(wmark_high_);
  const auto pagecache = static_cast<std::int64_t>(cache_);
  available += pagecache - std::min(pagecache / 2, low);
  const auto reclaimable = static_cast<std::int64_t>(kSlabReclaimablePages);
  available += reclaimable - std::min(reclaimable / 2, low);
  return available > 0 ? static_cast<std::uint64_t>(available) : 0;
}

std::uint64_t GuestModel::hot_pages() const {
  return scaled(anon_resident_ + anon_swapped_, spec_.workload.access.hot_percent);
}

void GuestModel::set_target_kib(std::uint64_t target_kib) {
  balloon_.set_target_pages(pages_from_kib(target_kib));
}

void GuestModel::set_dom0_target_kib(std::uint64_t target_kib) {
  dom0_target_pages_ = pages_from_kib(target_kib);
  max_pages_ = dom0_target_pages_ + kMaxPagesSlackPages;
  balloon_.set_target_pages(dom0_target_pages_);
}

std::uint64_t GuestModel::allocation_needed_kib(std::uint64_t anon_demand_kib) const {
  const std::uint64_t anon = pages_from_kib(anon_demand_kib);
  return kib_from_pages(reserved_pages_ + kFixedKernelPages + page_tables_for(anon) + anon +
                        working_set_pages_ + wmark_high_);
}

void GuestModel::set_workload(const WorkloadSpec& workload) {
  spec_.workload = workload;
  workload_.replace(workload);
}

void GuestModel::step(Host& host) {
  last_step_ = StepReport{};
  swap_written_ = 0;
  run_balloon(host);
  workload_.advance_to(now_seconds_);
  follow_load();
  place_anon();
  swap_in();
  read_files();
  run_kswapd();
  update_file_lru();
  account_stall();
  ++now_seconds_;
}

void GuestModel::run_balloon(Host& host) {
  const std::uint64_t current = balloon_.current_pages();
  const std::uint64_t ceiling = std::min(max_pages_, static_max_pages_);
  BalloonLimits limits;
  limits.grow_room_pages = std::min(host.free_pages(), ceiling > current ? ceiling - current : 0);
  limits.mem_available_pages = mem_available_pages();
  const std::uint64_t free = free_pages();
  limits.reclaimable_pages = (free > wmark_high_ ? free - wmark_high_ : 0) + cache_;
  limits.totalreserve_pages = wmark_high_;

  const std::int64_t moved = balloon_.step(now_seconds_, limits);
  last_step_.balloon_moved_pages = moved;
  if (moved > 0) {
    host.allocate_up_to(static_cast<std::uint64_t>(moved));
    return;
  }
  if (moved < 0) {
    // The balloon's allocations took free pages above the high watermark, then page cache.
    const auto given = static_cast<std::uint64_t>(-moved);
    const std::uint64_t free_before = free;
    const std::uint64_t from_free = free_before > wmark_high_ ? free_before - wmark_high_ : 0;
    if (given > from_free) {
      const std::uint64_t from_cache = std::min(given - from_free, cache_);
      drop_cache(from_cache, /*direct=*/true);
      last_step_.background_reclaim_file += from_cache;
    }
    host.release(given);
  }
}

void GuestModel::follow_load() {
  if (spec_.working_set_peak_mib == 0 || spec_.workload.kind != WorkloadKind::kDiurnal) return;
  const std::uint64_t low = pages_from_mib(spec_.working_set_mib);
  const std::uint64_t high = std::max(low, pages_from_mib(spec_.working_set_peak_mib));
  working_set_pages_ =
      low + static_cast<std::uint64_t>(static_cast<double>(high - low) * workload_.load_fraction());
  // Pages the shrunken working set no longer reads are cold cache now, like read-once data.
  const std::uint64_t cached = working_set_cached();
  if (cached > working_set_pages_) stream_cache_ += cached - working_set_pages_;
  cache_ever_ = std::min(cache_ever_, working_set_pages_);
}

std::uint64_t GuestModel::swap_write_room(std::uint64_t wanted) {
  if (spec_.swap_write_mib_per_s == 0) return wanted;
  const std::uint64_t limit = pages_from_mib(spec_.swap_write_mib_per_s);
  const std::uint64_t room = std::min(wanted, limit > swap_written_ ? limit - swap_written_ : 0);
  swap_written_ += room;
  if (room < wanted) swap_rate_limited_ = true;
  return room;
}

void GuestModel::drop_cache(std::uint64_t pages, bool direct) {
  pages = std::min(pages, cache_);
  // Read-once pages sit on the inactive list and never got a second access: they go first.
  stream_cache_ -= std::min(pages, stream_cache_);
  cache_ -= pages;
  vmstat_.pgfree += pages;
  vmstat_.pgscan_file += pages;
  vmstat_.pgsteal_file += pages;
  (direct ? vmstat_.pgscan_direct : vmstat_.pgscan_kswapd) += pages;
  (direct ? vmstat_.pgsteal_direct : vmstat_.pgsteal_kswapd) += pages;
}

void GuestModel::swap_out(std::uint64_t pages, bool direct) {
  anon_resident_ -= pages;
  anon_swapped_ += pages;
  vmstat_.pswpout += pages;
  vmstat_.pgpgout += kib_from_pages(pages);
  vmstat_.pgfree += pages;
  vmstat_.pgscan_anon += pages;
  vmstat_.pgsteal_anon += pages;
  (direct ? vmstat_.pgscan_direct : vmstat_.pgscan_kswapd) += pages;
  (direct ? vmstat_.pgsteal_direct : vmstat_.pgsteal_kswapd) += pages;
  last_step_.swapouts += pages;
}

std::uint64_t GuestModel::make_room(std::uint64_t needed, std::uint64_t fresh,
                                    std::uint64_t& fresh_swapped) {
  fresh_swapped = 0;
  swap_rate_limited_ = false;
  const std::uint64_t free = free_pages();
  const std::uint64_t usable = free > wmark_min_ ? free - wmark_min_ : 0;
  if (usable >= needed) return needed;
  std::uint64_t short_by = needed - usable;

  const std::uint64_t from_cache = std::min(short_by, cache_);
  drop_cache(from_cache, /*direct=*/true);
  short_by -= from_cache;
  const std::uint64_t from_anon =
      swap_write_room(std::min({short_by, swap_free_pages(), anon_resident_}));
  swap_out(from_anon, /*direct=*/true);
  short_by -= from_anon;
  // The pages being allocated are touched one after another: once memory is full, the first of
  // them are swapped out to make room for the rest.
  fresh_swapped = swap_write_room(std::min({short_by, swap_free_pages(), fresh}));
  anon_swapped_ += fresh_swapped;
  vmstat_.pswpout += fresh_swapped;
  vmstat_.pgpgout += kib_from_pages(fresh_swapped);
  vmstat_.pgscan_anon += fresh_swapped;
  vmstat_.pgsteal_anon += fresh_swapped;
  vmstat_.pgscan_direct += fresh_swapped;
  vmstat_.pgsteal_direct += fresh_swapped;
  last_step_.swapouts += fresh_swapped;
  short_by -= fresh_swapped;

  const std::uint64_t reclaimed = from_cache + from_anon + fresh_swapped;
  last_step_.direct_reclaim_file += from_cache;
  last_step_.direct_swapouts += from_anon + fresh_swapped;
  vmstat_.allocstall += (reclaimed + kReclaimBatchPages - 1) / kReclaimBatchPages;
  return needed - short_by;
}

void GuestModel::release_anon(std::uint64_t pages) {
  const std::uint64_t held = anon_resident_ + anon_swapped_;
  if (pages == 0 || held == 0) return;
  // A process frees its pages wherever they are: in swap in proportion.
  std::uint64_t from_swap = pages * anon_swapped_ / held;
  std::uint64_t from_resident = pages - from_swap;
  if (from_resident > anon_resident_) {
    from_swap += from_resident - anon_resident_;
    from_resident = anon_resident_;
  }
  anon_resident_ -= from_resident;
  anon_swapped_ -= from_swap;
  vmstat_.pgfree += from_resident;
}

void GuestModel::place_anon() {
  for (;;) {
    deferred_ = 0;
    const std::uint64_t demand = workload_.demand_pages();
    const std::uint64_t held = anon_resident_ + anon_swapped_;
    if (demand <= held) {
      release_anon(held - demand);
      return;
    }
    const std::uint64_t growth = demand - held;
    const std::uint64_t page_tables = page_tables_for(demand) - page_tables_for(held);
    const std::uint64_t needed = growth + page_tables;
    std::uint64_t fresh_swapped = 0;
    const std::uint64_t covered = make_room(needed, growth, fresh_swapped);
    if (covered == needed) {
      anon_resident_ += growth - fresh_swapped;
      vmstat_.pgfault += growth;
      vmstat_.pgalloc += growth;
      return;
    }
    if (swap_rate_limited_) {
      // Swap has room but the device cannot write it this fast: reclaim waits for the writes and
      // the rest of the growth is served in a later second. What was written stays in swap.
      const std::uint64_t room = covered - fresh_swapped;
      const std::uint64_t resident =
          room > page_tables ? std::min(growth - fresh_swapped, room - page_tables) : 0;
      anon_resident_ += resident;
      vmstat_.pgfault += resident + fresh_swapped;
      vmstat_.pgalloc += resident + fresh_swapped;
      deferred_ = growth - fresh_swapped - resident;
      last_step_.deferred_pages = deferred_;
      return;
    }
    // Neither free memory, page cache nor swap can hold the demand: out of memory. The pages
    // that went to swap on the way belong to the growth that failed: undo them.
    anon_swapped_ -= fresh_swapped;
    if (workload_.kill_largest(now_seconds_) == 0) return;
    ++vmstat_.oom_kill;
    ++last_step_.oom_kills;
  }
}

void GuestModel::swap_in() {
  if (anon_swapped_ == 0) return;
  // Reclaim swapped out the coldest pages first; once swap holds more than the cold part, hot
  // pages are in swap too and are touched far more often.
  const std::uint64_t held = anon_resident_ + anon_swapped_;
  const std::uint64_t cold = held - hot_pages();
  const std::uint64_t swapped_cold = std::min(anon_swapped_, cold);
  const std::uint64_t swapped_hot = anon_swapped_ - swapped_cold;
  const AccessPattern& access = spec_.workload.access;
  const double expected =
      progress_ * (static_cast<double>(swapped_cold) * access.cold_touch_percent_per_s / 100.0 +
                   static_cast<double>(swapped_hot) * access.hot_touch_percent_per_s / 100.0);
  const std::uint64_t touched = std::min(anon_swapped_, random_.round_stochastic(expected));
  if (touched == 0) return;

  anon_swapped_ -= touched;  // the swap slots are freed as the pages come in
  std::uint64_t none_fresh = 0;
  const std::uint64_t placed = make_room(touched, 0, none_fresh);
  anon_resident_ += placed;
  anon_swapped_ += touched - placed;

  vmstat_.pswpin += placed;
  vmstat_.pgmajfault += placed;
  vmstat_.pgfault += placed;
  vmstat_.pgpgin += kib_from_pages(placed);
  vmstat_.pgalloc += placed;
  vmstat_.workingset_refault_anon += placed;
  last_step_.swapins = placed;
}

void GuestModel::read_files() {
  const AccessPattern& access = spec_.workload.access;
  const std::uint64_t working_set = working_set_pages_;
  const std::uint64_t cached = working_set_cached();
  std::uint64_t misses = 0;
  std::uint64_t refaults = 0;
  if (working_set > cached && access.reads_working_set(now_seconds_)) {
    // The cache holds the most popular pages of the working set (LRU under a skewed access
    // pattern); a stalled workload reads less.
    const std::uint64_t uncached = working_set - cached;
    const double accesses =
        progress_ * static_cast<double>(working_set) * access.file_touch_percent_per_s / 100.0;
    const double miss_share = 1 - zipf_hit_share(cached, working_set, access.file_zipf_exponent);
    misses = std::min(uncached, random_.round_stochastic(accesses * std::max(0.0, miss_share)));
    // Pages of the working set that were cached before and got reclaimed come back as refaults
    // (a memory stall); pages never read before are plain cold misses.
    const std::uint64_t evicted = cache_ever_ - cached;
    refaults = misses * evicted / uncached;
    cache_ever_ = std::min(working_set, cache_ever_ + (misses - refaults));
    // mm/workingset.c: a refault whose distance fits in the file LRU and free memory is
    // activated at once; evicted pages beyond that are older than the cache can hold.
    const std::uint64_t reach = cache_ + free_pages();
    vmstat_.workingset_activate_file += evicted <= reach ? refaults : refaults * reach / evicted;
  }
  const std::uint64_t stream =
      access.streams(now_seconds_)
          ? random_.round_stochastic(progress_ * access.file_stream_mib_per_s *
                                     static_cast<double>(kPagesPerMib))
          : 0;
  if (misses == 0 && stream == 0) return;

  // The cache grows into free memory above the low watermark, working-set pages first. Beyond
  // that each new page replaces an older one (kswapd): a working-set page replaces read-once
  // pages first, a read-once page another read-once page (use-once: it never reaches the active
  // list), so the cache stays put.
  const std::uint64_t free = free_pages();
  std::uint64_t room = free > wmark_low_ ? free - wmark_low_ : 0;
  const std::uint64_t growth = std::min(misses, room);
  room -= growth;
  const std::uint64_t displaced_stream = std::min(misses - growth, stream_cache_);
  const std::uint64_t replaced_ws = std::min(misses - growth - displaced_stream, cached);
  const std::uint64_t stream_growth = std::min(stream, room);
  const std::uint64_t replaced_stream =
      std::min(stream - stream_growth, stream_cache_ - displaced_stream + stream_growth);
  cache_ += growth + stream_growth;
  stream_cache_ += stream_growth;
  stream_cache_ -= displaced_stream;
  const std::uint64_t replaced = displaced_stream + replaced_ws + replaced_stream;
  vmstat_.pgfree += replaced;
  vmstat_.pgscan_kswapd += replaced;
  vmstat_.pgsteal_kswapd += replaced;
  vmstat_.pgscan_file += replaced;
  vmstat_.pgsteal_file += replaced;
  last_step_.background_reclaim_file += replaced;

  // Only misses through a mapping fault; read() misses are I/O without a page fault.
  const std::uint64_t reads = misses + stream;
  const std::uint64_t mapped_misses = scaled(reads, access.file_mapped_percent);
  vmstat_.pgmajfault += mapped_misses;
  vmstat_.pgfault += mapped_misses;
  vmstat_.pgpgin += kib_from_pages(reads);
  vmstat_.pgalloc += reads;
  vmstat_.workingset_refault_file += refaults;
  last_step_.file_misses = misses;
  last_step_.file_refaults = refaults;
  last_step_.stream_reads = stream;
}

void GuestModel::run_kswapd() {
  const std::uint64_t free = free_pages();
  if (free >= wmark_low_) return;
  std::uint64_t deficit = wmark_high_ - free;
  const std::uint64_t from_cache = std::min(deficit, cache_);
  drop_cache(from_cache, /*direct=*/false);
  last_step_.background_reclaim_file += from_cache;
  deficit -= from_cache;
  swap_out(swap_write_room(std::min({deficit, swap_free_pages(), anon_resident_})),
           /*direct=*/false);
}

void GuestModel::update_file_lru() {
  const std::uint64_t ws_cached = working_set_cached();
  active_file_ = std::min(active_file_, ws_cached);
  // A cached page read a second time goes to the active list (mark_page_accessed()); a refault
  // recent enough is activated at once (counted in read_files()).
  const AccessPattern& access = spec_.workload.access;
  const double share = access.reads_working_set(now_seconds_)
                           ? std::min(1.0, progress_ * access.file_touch_percent_per_s / 100.0)
                           : 0.0;
  const std::uint64_t inactive_ws = ws_cached - active_file_;
  const auto touched =
      static_cast<std::uint64_t>(std::ceil(static_cast<double>(inactive_ws) * share));
  active_file_ += std::min(inactive_ws, std::max(touched, last_step_.file_refaults));
  // Nothing moves back to the inactive list but reclaim (shrink_active_list() when
  // inactive_is_low()): a working set read while memory is free is all active.
  if (last_step_.direct_reclaim_file + last_step_.background_reclaim_file > 0) {
    active_file_ = std::min(active_file_, active_file_limit(cache_));
  }
}

void GuestModel::account_stall() {
  const std::uint64_t io_ns = spec_.disk_latency_us * 1000;
  const std::uint64_t task_stall_ns = (last_step_.swapins + last_step_.file_refaults) * io_ns +
                                      last_step_.direct_reclaim_file * spec_.reclaim_ns_per_page +
                                      last_step_.direct_swapouts * kDirectSwapoutNs +
                                      last_step_.oom_kills * kOomStallNs +
                                      (deferred_ != 0 ? kNsPerSecond : 0);
  // Each task stalls a share p of the second; "some" is 1 - (1-p)^2, "full" p^2.
  const std::uint64_t per_task_ns = std::min(kNsPerSecond, task_stall_ns / kWorkloadTasks);
  // Closed loop: the workload did a (1 - p) share of its work this second.
  last_step_.lost_work_ns = per_task_ns;
  lost_work_ns_ += per_task_ns;
  progress_ = 1.0 - static_cast<double>(per_task_ns) / static_cast<double>(kNsPerSecond);
  const std::uint64_t both_ns = per_task_ns * per_task_ns / kNsPerSecond;
  // kswapd and the balloon's worker are tasks of their own: their reclaim is "some" stall
  // (kswapd runs in a memstall section), but neither "full" nor the workload's lost work.
  const std::uint64_t workload_some_ns = 2 * per_task_ns - both_ns;
  const std::uint64_t background_ns =
      std::min(kNsPerSecond, last_step_.background_reclaim_file * spec_.reclaim_ns_per_page);
  last_step_.stall_some_ns =
      workload_some_ns + background_ns * (kNsPerSecond - workload_some_ns) / kNsPerSecond;
  last_step_.stall_full_ns = both_ns;
  psi_some_.record(kNsPerSecond, last_step_.stall_some_ns);
  psi_full_.record(kNsPerSecond, last_step_.stall_full_ns);
}

GuestSnapshot GuestModel::snapshot() const {
  GuestSnapshot s;
  s.uptime_seconds = now_seconds_;
  const std::uint64_t total = mem_total_pages();
  s.mem_total_kib = kib_from_pages(total);
  s.mem_free_kib = kib_from_pages(free_pages());
  s.mem_available_kib = kib_from_pages(mem_available_pages());
  s.cached_kib = kib_from_pages(cache_ + kShmemPages);

  const std::uint64_t hot_resident = std::min(anon_resident_, hot_pages());
  const std::uint64_t base_lru_anon = kShmemPages + kBaseAnonPages;
  s.active_anon_kib = kib_from_pages(base_lru_anon - kBaseInactiveAnonPages + hot_resident);
  s.inactive_anon_kib = kib_from_pages(kBaseInactiveAnonPages + anon_resident_ - hot_resident);
  // Read-once pages stay inactive; the working set is active as update_file_lru() left it.
  s.active_file_kib = kib_from_pages(active_file_);
  s.inactive_file_kib = kib_from_pages(cache_ - active_file_);

  s.swap_total_kib = kib_from_pages(swap_pages_);
  s.swap_free_kib = kib_from_pages(swap_free_pages());
  s.anon_pages_kib = kib_from_pages(kBaseAnonPages + anon_resident_);
  s.mapped_kib =
      kib_from_pages(kBaseMappedPages + scaled(cache_, spec_.workload.access.file_mapped_percent));
  s.shmem_kib = kib_from_pages(kShmemPages);
  s.slab_reclaimable_kib = kib_from_pages(kSlabReclaimablePages);
  s.slab_unreclaimable_kib = kib_from_pages(kSlabUnreclaimablePages);
  s.kernel_stack_kib = kib_from_pages(kKernelStackPages);
  s.page_tables_kib = kib_from_pages(page_tables_for(anon_resident_ + anon_swapped_));
  s.percpu_kib = kib_from_pages(kPercpuPages);
  s.vmalloc_used_kib = kib_from_pages(kVmallocUsedPages);
  s.commit_limit_kib = kib_from_pages(total * kOvercommitRatioPercent / 100 + swap_pages_);
  s.committed_as_kib = kib_from_pages(kBaseCommittedPages + anon_resident_ + anon_swapped_);
  s.direct_map_4k_kib = kib_from_pages(static_max_pages_);

  s.vmstat = vmstat_;
  s.psi_some = psi_some_.line();
  s.psi_full = psi_full_.line();

  s.balloon_target_kib = kib_from_pages(balloon_.target_pages());
  s.balloon_current_kib = kib_from_pages(balloon_.current_pages());
  s.balloon_low_kib = kib_from_pages(static_max_pages_ - balloon_.current_pages());
  s.balloon_high_kib = 0;
  s.schedule_delay = balloon_.schedule_delay_seconds();
  s.max_schedule_delay = balloon_.settings().max_schedule_delay_seconds;
  s.retry_count = balloon_.retry_count();
  s.max_retry_count = balloon_.settings().max_retry_count;
  return s;
}

std::string GuestModel::check_invariants() const {
  const std::uint64_t total = mem_total_pages();
  if (balloon_.current_pages() < reserved_pages_) return "allocation below the kernel reservation";
  if (used_pages() > total) {
    return "used " + std::to_string(used_pages()) + " pages > MemTotal " + std::to_string(total);
  }
  if (balloon_.current_pages() > static_max_pages_) return "allocation above static-max";
  if (anon_swapped_ > swap_pages_) return "more pages swapped than swap holds";
  if (anon_resident_ + anon_swapped_ + deferred_ != workload_.demand_pages()) {
    return "anonymous pages " + std::to_string(anon_resident_ + anon_swapped_) + " + deferred " +
           std::to_string(deferred_) + " != demand " + std::to_string(workload_.demand_pages());
  }
  if (stream_cache_ > cache_) return "more read-once pages than page cache";
  if (active_file_ > working_set_cached()) return "more active file pages than cached working set";
  if (working_set_cached() > cache_ever_ || cache_ever_ > working_set_pages_) {
    return "page cache outside the part of the working set ever read";
  }
  return {};
}

}  // namespace xenballoon::sim
