#include "xenballoon/sim/procfs_text.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace xenballoon::sim {
namespace {

// tests/fixtures/real-xen-4.17/proc/vmstat, name and value, in the kernel's order.
constexpr std::pair<std::string_view, std::uint64_t> kCapturedVmstat[] = {
    {"nr_free_pages", 44110},
    {"nr_zone_inactive_anon", 190},
    {"nr_zone_active_anon", 876},
    {"nr_zone_inactive_file", 0},
    {"nr_zone_active_file", 0},
    {"nr_zone_unevictable", 0},
    {"nr_zone_write_pending", 0},
    {"nr_mlock", 0},
    {"nr_bounce", 0},
    {"nr_zspages", 0},
    {"nr_free_cma", 0},
    {"numa_hit", 28087},
    {"numa_miss", 0},
    {"numa_foreign", 0},
    {"numa_interleave", 500},
    {"numa_local", 28087},
    {"numa_other", 0},
    {"nr_inactive_anon", 190},
    {"nr_active_anon", 876},
    {"nr_inactive_file", 0},
    {"nr_active_file", 0},
    {"nr_unevictable", 0},
    {"nr_slab_reclaimable", 2190},
    {"nr_slab_unreclaimable", 1362},
    {"nr_isolated_anon", 0},
    {"nr_isolated_file", 0},
    {"workingset_nodes", 0},
    {"workingset_refault_anon", 0},
    {"workingset_refault_file", 0},
    {"workingset_activate_anon", 0},
    {"workingset_activate_file", 0},
    {"workingset_restore_anon", 0},
    {"workingset_restore_file", 0},
    {"workingset_nodereclaim", 0},
    {"nr_anon_pages", 45},
    {"nr_mapped", 432},
    {"nr_file_pages", 1032},
    {"nr_dirty", 0},
    {"nr_writeback", 0},
    {"nr_writeback_temp", 0},
    {"nr_shmem", 1032},
    {"nr_shmem_hugepages", 0},
    {"nr_shmem_pmdmapped", 0},
    {"nr_file_hugepages", 0},
    {"nr_file_pmdmapped", 0},
    {"nr_anon_transparent_hugepages", 0},
    {"nr_vmscan_write", 0},
    {"nr_vmscan_immediate_reclaim", 0},
    {"nr_dirtied", 0},
    {"nr_written", 0},
    {"nr_throttled_written", 0},
    {"nr_kernel_misc_reclaimable", 0},
    {"nr_foll_pin_acquired", 0},
    {"nr_foll_pin_released", 0},
    {"nr_kernel_stack", 784},
    {"nr_page_table_pages", 20},
    {"nr_sec_page_table_pages", 0},
    {"nr_swapcached", 0},
    {"pgpromote_success", 0},
    {"pgpromote_candidate", 0},
    {"nr_dirty_threshold", 8654},
    {"nr_dirty_background_threshold", 4321},
    {"pgpgin", 0},
    {"pgpgout", 0},
    {"pswpin", 0},
    {"pswpout", 0},
    {"pgalloc_dma", 32},
    {"pgalloc_dma32", 31811},
    {"pgalloc_normal", 0},
    {"pgalloc_movable", 0},
    {"pgalloc_device", 0},
    {"allocstall_dma", 0},
    {"allocstall_dma32", 0},
    {"allocstall_normal", 0},
    {"allocstall_movable", 0},
    {"allocstall_device", 0},
    {"pgskip_dma", 0},
    {"pgskip_dma32", 0},
    {"pgskip_normal", 0},
    {"pgskip_movable", 0},
    {"pgskip_device", 0},
    {"pgfree", 75992},
    {"pgactivate", 875},
    {"pgdeactivate", 0},
    {"pglazyfree", 0},
    {"pgfault", 8561},
    {"pgmajfault", 0},
    {"pglazyfreed", 0},
    {"pgrefill", 0},
    {"pgreuse", 1190},
    {"pgsteal_kswapd", 0},
    {"pgsteal_direct", 0},
    {"pgdemote_kswapd", 0},
    {"pgdemote_direct", 0},
    {"pgscan_kswapd", 0},
    {"pgscan_direct", 0},
    {"pgscan_direct_throttle", 0},
    {"pgscan_anon", 0},
    {"pgscan_file", 0},
    {"pgsteal_anon", 0},
    {"pgsteal_file", 0},
    {"zone_reclaim_failed", 0},
    {"pginodesteal", 0},
    {"slabs_scanned", 0},
    {"kswapd_inodesteal", 0},
    {"kswapd_low_wmark_hit_quickly", 0},
    {"kswapd_high_wmark_hit_quickly", 0},
    {"pageoutrun", 0},
    {"pgrotated", 0},
    {"drop_pagecache", 0},
    {"drop_slab", 0},
    {"oom_kill", 0},
    {"numa_pte_updates", 0},
    {"numa_huge_pte_updates", 0},
    {"numa_hint_faults", 0},
    {"numa_hint_faults_local", 0},
    {"numa_pages_migrated", 0},
    {"pgmigrate_success", 0},
    {"pgmigrate_fail", 0},
    {"thp_migration_success", 0},
    {"thp_migration_fail", 0},
    {"thp_migration_split", 0},
    {"compact_migrate_scanned", 0},
    {"compact_free_scanned", 0},
    {"compact_isolated", 0},
    {"compact_stall", 0},
    {"compact_fail", 0},
    {"compact_success", 0},
    {"compact_daemon_wake", 0},
    {"compact_daemon_migrate_scanned", 0},
    {"compact_daemon_free_scanned", 0},
    {"htlb_buddy_alloc_success", 0},
    {"htlb_buddy_alloc_fail", 0},
    {"unevictable_pgs_culled", 0},
    {"unevictable_pgs_scanned", 0},
    {"unevictable_pgs_rescued", 0},
    {"unevictable_pgs_mlocked", 0},
    {"unevictable_pgs_munlocked", 0},
    {"unevictable_pgs_cleared", 0},
    {"unevictable_pgs_stranded", 0},
    {"thp_fault_alloc", 0},
    {"thp_fault_fallback", 0},
    {"thp_fault_fallback_charge", 0},
    {"thp_collapse_alloc", 0},
    {"thp_collapse_alloc_failed", 0},
    {"thp_file_alloc", 0},
    {"thp_file_fallback", 0},
    {"thp_file_fallback_charge", 0},
    {"thp_file_mapped", 0},
    {"thp_split_page", 0},
    {"thp_split_page_failed", 0},
    {"thp_deferred_split_page", 0},
    {"thp_split_pmd", 0},
    {"thp_scan_exceed_none_pte", 0},
    {"thp_scan_exceed_swap_pte", 0},
    {"thp_scan_exceed_share_pte", 0},
    {"thp_split_pud", 0},
    {"thp_zero_page_alloc", 0},
    {"thp_zero_page_alloc_failed", 0},
    {"thp_swpout", 0},
    {"thp_swpout_fallback", 0},
    {"balloon_inflate", 0},
    {"balloon_deflate", 0},
    {"balloon_migrate", 0},
    {"swap_ra", 0},
    {"swap_ra_hit", 0},
    {"ksm_swpin_copy", 0},
    {"cow_ksm", 0},
    {"zswpin", 0},
    {"zswpout", 0},
    {"direct_map_level2_splits", 0},
    {"direct_map_level3_splits", 0},
    {"nr_unstable", 0},
};

// numa_hit at boot trails pgalloc_dma32 on the capture; both move together afterwards.
constexpr std::uint64_t kBootNumaHit = 28087;
constexpr std::uint64_t kBootPgalloc = 31811;
constexpr std::uint64_t kVmallocTotalKib = 34359738367;
// The guest's one vCPU is idle most of the time; /proc/uptime's second number only has to move.
constexpr double kIdleShareOfUptime = 0.9;

// The kernel pads "Name:" to 16 columns and the value to 8 (show_val_kb()); longer names keep one
// blank, and the value column still ends at column 24 when it can ("HardwareCorrupted:     0").
void append_meminfo_line(std::string& out, std::string_view name, std::uint64_t kib) {
  std::string label = std::string(name) + ":";
  const std::size_t label_width = std::max<std::size_t>(16, label.size() + 1);
  label.resize(label_width, ' ');
  const std::string value = std::to_string(kib);
  const std::size_t value_width = label_width < 24 ? 24 - label_width : 1;
  out += label;
  if (value.size() < value_width) out.append(value_width - value.size(), ' ');
  out += value;
  out += " kB\n";
}

std::string fixed2(double value) {
  char text[48];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

void append_psi_line(std::string& out, std::string_view kind, const PsiLine& line) {
  out += kind;
  out += " avg10=" + format_psi_average(line.avg10);
  out += " avg60=" + format_psi_average(line.avg60);
  out += " avg300=" + format_psi_average(line.avg300);
  out += " total=" + std::to_string(line.total_ns / 1000) + "\n";
}

std::string number_line(std::uint64_t value) {
  return std::to_string(value) + "\n";
}

}  // namespace

std::string render_meminfo(const GuestSnapshot& s) {
  const std::pair<std::string_view, std::uint64_t> fields[] = {
      {"MemTotal", s.mem_total_kib},
      {"MemFree", s.mem_free_kib},
      {"MemAvailable", s.mem_available_kib},
      {"Buffers", 0},
      {"Cached", s.cached_kib},
      {"SwapCached", 0},
      {"Active", s.active_anon_kib + s.active_file_kib},
      {"Inactive", s.inactive_anon_kib + s.inactive_file_kib},
      {"Active(anon)", s.active_anon_kib},
      {"Inactive(anon)", s.inactive_anon_kib},
      {"Active(file)", s.active_file_kib},
      {"Inactive(file)", s.inactive_file_kib},
      {"Unevictable", 0},
      {"Mlocked", 0},
      {"SwapTotal", s.swap_total_kib},
      {"SwapFree", s.swap_free_kib},
      {"Zswap", 0},
      {"Zswapped", 0},
      {"Dirty", 0},
      {"Writeback", 0},
      {"AnonPages", s.anon_pages_kib},
      {"Mapped", s.mapped_kib},
      {"Shmem", s.shmem_kib},
      {"KReclaimable", s.slab_reclaimable_kib},
      {"Slab", s.slab_reclaimable_kib + s.slab_unreclaimable_kib},
      {"SReclaimable", s.slab_reclaimable_kib},
      {"SUnreclaim", s.slab_unreclaimable_kib},
      {"KernelStack", s.kernel_stack_kib},
      {"PageTables", s.page_tables_kib},
      {"SecPageTables", 0},
      {"NFS_Unstable", 0},
      {"Bounce", 0},
      {"WritebackTmp", 0},
      {"CommitLimit", s.commit_limit_kib},
      {"Committed_AS", s.committed_as_kib},
      {"VmallocTotal", kVmallocTotalKib},
      {"VmallocUsed", s.vmalloc_used_kib},
      {"VmallocChunk", 0},
      {"Percpu", s.percpu_kib},
      {"HardwareCorrupted", 0},
      {"AnonHugePages", 0},
      {"ShmemHugePages", 0},
      {"ShmemPmdMapped", 0},
      {"FileHugePages", 0},
      {"FilePmdMapped", 0},
      {"DirectMap4k", s.direct_map_4k_kib},
      {"DirectMap2M", 0},
  };
  std::string out;
  out.reserve(1500);
  for (const auto& [name, kib] : fields) append_meminfo_line(out, name, kib);
  return out;
}

std::string render_vmstat(const GuestSnapshot& s) {
  const VmstatCounters& vm = s.vmstat;
  const std::uint64_t inactive_anon = pages_from_kib(s.inactive_anon_kib);
  const std::uint64_t active_anon = pages_from_kib(s.active_anon_kib);
  const std::uint64_t inactive_file = pages_from_kib(s.inactive_file_kib);
  const std::uint64_t active_file = pages_from_kib(s.active_file_kib);
  const std::uint64_t numa_hit = kBootNumaHit + (vm.pgalloc - kBootPgalloc);
  const std::pair<std::string_view, std::uint64_t> modelled[] = {
      {"nr_free_pages", pages_from_kib(s.mem_free_kib)},
      {"nr_zone_inactive_anon", inactive_anon},
      {"nr_zone_active_anon", active_anon},
      {"nr_zone_inactive_file", inactive_file},
      {"nr_zone_active_file", active_file},
      {"numa_hit", numa_hit},
      {"numa_local", numa_hit},
      {"nr_inactive_anon", inactive_anon},
      {"nr_active_anon", active_anon},
      {"nr_inactive_file", inactive_file},
      {"nr_active_file", active_file},
      {"nr_slab_reclaimable", pages_from_kib(s.slab_reclaimable_kib)},
      {"nr_slab_unreclaimable", pages_from_kib(s.slab_unreclaimable_kib)},
      {"workingset_refault_anon", vm.workingset_refault_anon},
      {"workingset_refault_file", vm.workingset_refault_file},
      {"workingset_activate_file", vm.workingset_activate_file},
      {"nr_anon_pages", pages_from_kib(s.anon_pages_kib)},
      {"nr_mapped", pages_from_kib(s.mapped_kib)},
      {"nr_file_pages", pages_from_kib(s.cached_kib)},
      {"nr_shmem", pages_from_kib(s.shmem_kib)},
      {"nr_kernel_stack", s.kernel_stack_kib},  // the kernel counts this one in KiB
      {"nr_page_table_pages", pages_from_kib(s.page_tables_kib)},
      {"pgpgin", vm.pgpgin},
      {"pgpgout", vm.pgpgout},
      {"pswpin", vm.pswpin},
      {"pswpout", vm.pswpout},
      {"pgalloc_dma32", vm.pgalloc},
      {"allocstall_dma32", vm.allocstall},
      {"pgfree", vm.pgfree},
      {"pgfault", vm.pgfault},
      {"pgmajfault", vm.pgmajfault},
      {"pgsteal_kswapd", vm.pgsteal_kswapd},
      {"pgsteal_direct", vm.pgsteal_direct},
      {"pgscan_kswapd", vm.pgscan_kswapd},
      {"pgscan_direct", vm.pgscan_direct},
      {"pgscan_anon", vm.pgscan_anon},
      {"pgscan_file", vm.pgscan_file},
      {"pgsteal_anon", vm.pgsteal_anon},
      {"pgsteal_file", vm.pgsteal_file},
      {"oom_kill", vm.oom_kill},
  };
  std::string out;
  out.reserve(4096);
  for (const auto& [name, captured] : kCapturedVmstat) {
    std::uint64_t value = captured;
    for (const auto& [modelled_name, modelled_value] : modelled) {
      if (modelled_name == name) {
        value = modelled_value;
        break;
      }
    }
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  }
  return out;
}

std::string render_uptime(const GuestSnapshot& s) {
  const auto uptime = static_cast<double>(s.uptime_seconds);
  return fixed2(uptime) + " " + fixed2(uptime * kIdleShareOfUptime) + "\n";
}

std::string render_pressure_memory(const GuestSnapshot& s) {
  std::string out;
  append_psi_line(out, "some", s.psi_some);
  append_psi_line(out, "full", s.psi_full);
  return out;
}

std::vector<TreeFile> render_guest_tree(const GuestSnapshot& s) {
  const std::string dir = std::string(kBalloonSysfsDir) + "/";
  return {
      {std::string(kMeminfoPath), render_meminfo(s)},
      {std::string(kVmstatPath), render_vmstat(s)},
      {std::string(kUptimePath), render_uptime(s)},
      {std::string(kPressureMemoryPath), render_pressure_memory(s)},
      {std::string(kTargetKbPath), number_line(s.balloon_target_kib)},
      {dir + "target", number_line(s.balloon_target_kib * 1024)},
      {dir + "info/current_kb", number_line(s.balloon_current_kib)},
      {dir + "info/low_kb", number_line(s.balloon_low_kib)},
      {dir + "info/high_kb", number_line(s.balloon_high_kib)},
      {dir + "schedule_delay", number_line(s.schedule_delay)},
      {dir + "max_schedule_delay", number_line(s.max_schedule_delay)},
      {dir + "retry_count", number_line(s.retry_count)},
      {dir + "max_retry_count", number_line(s.max_retry_count)},
      {dir + "scrub_pages", number_line(1)},
      {dir + "uevent", ""},
  };
}

}  // namespace xenballoon::sim
