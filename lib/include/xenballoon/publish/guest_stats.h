// One guest's memory statistics: the one value the agent builds from its readings, the layout's
// encoder writes to xenstore, dom0's decoder produces (from the agent's layout, the 2008 keys or
// XenServer's), and every metric writer, the exporter's cache and the monitor read.
// Plain value; not synchronized.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xenballoon::publish {

// The /proc/meminfo fields and /proc/vmstat counters the vocabulary knows (docs/metrics.md), in
// the kernel's order. Only these survive decoding, so a guest cannot create series.
inline constexpr std::array<std::string_view, 56> kMeminfoFields = {
    "MemTotal",        "MemFree",        "MemAvailable",   "Buffers",        "Cached",
    "SwapCached",      "Active",         "Inactive",       "Active(anon)",   "Inactive(anon)",
    "Active(file)",    "Inactive(file)", "Unevictable",    "Mlocked",        "SwapTotal",
    "SwapFree",        "Zswap",          "Zswapped",       "Dirty",          "Writeback",
    "AnonPages",       "Mapped",         "Shmem",          "KReclaimable",   "Slab",
    "SReclaimable",    "SUnreclaim",     "KernelStack",    "PageTables",     "SecPageTables",
    "NFS_Unstable",    "Bounce",         "WritebackTmp",   "CommitLimit",    "Committed_AS",
    "VmallocTotal",    "VmallocUsed",    "VmallocChunk",   "Percpu",         "HardwareCorrupted",
    "AnonHugePages",   "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",  "FilePmdMapped",
    "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
    "Hugetlb",         "DirectMap4k",    "DirectMap2M",    "DirectMap1G",    "CmaTotal",
    "CmaFree"};
inline constexpr std::array<std::string_view, 18> kVmstatCounters = {"pswpin",
                                                                     "pswpout",
                                                                     "pgpgin",
                                                                     "pgpgout",
                                                                     "pgfault",
                                                                     "pgmajfault",
                                                                     "oom_kill",
                                                                     "pgscan_kswapd",
                                                                     "pgscan_direct",
                                                                     "pgsteal_kswapd",
                                                                     "pgsteal_direct",
                                                                     "allocstall_normal",
                                                                     "allocstall_movable",
                                                                     "workingset_refault_anon",
                                                                     "workingset_refault_file",
                                                                     "compact_stall",
                                                                     "balloon_inflate",
                                                                     "balloon_deflate"};

// Index in kMeminfoFields / kVmstatCounters, or nullopt for a name the vocabulary lacks.
std::optional<std::size_t> meminfo_index(std::string_view field);
std::optional<std::size_t> vmstat_index(std::string_view counter);
// True for the unitless /proc/meminfo fields (HugePages_*), whose values are counts, not kB.
bool is_unitless_meminfo_field(std::string_view field);

// Values of one /proc list: the names the vocabulary knows at their index, others (a newer
// kernel's, a configured vmstat counter the vocabulary lacks) in the order read. The agent
// publishes and serves both; the decoder keeps only `known`. Plain value.
template <std::size_t N>
struct ProcValues {
  std::array<std::optional<std::uint64_t>, N> known{};
  std::vector<std::pair<std::string, std::uint64_t>> other;

  bool empty() const {
    for (const auto& v : known) {
      if (v) return false;
    }
    return other.empty();
  }
  void clear() {
    known.fill(std::nullopt);
    other.clear();
  }
  bool operator==(const ProcValues&) const = default;
};
using MeminfoValues = ProcValues<kMeminfoFields.size()>;  // KiB (counts for HugePages_*)
using VmstatValues = ProcValues<kVmstatCounters.size()>;

// One line of /proc/pressure/memory. Plain value.
struct Psi {
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent
  std::uint64_t total_us = 0;
  bool operator==(const Psi&) const = default;
};

// The agent's version, policy and mode, as xenballoon_agent_info's labels. Plain value.
struct AgentInfo {
  std::string version, policy, mode;
  bool operator==(const AgentInfo&) const = default;
};

// Plain value; not synchronized.
struct GuestStats {
  // The agent's own keys (data/xenballoon/).
  std::optional<int> layout;
  std::optional<std::string> agent;  // "xenballoond 0.1.0"
  std::optional<std::int64_t> heartbeat_unix_seconds;
  std::optional<std::string> mode;    // selfballoon | directed | dry-run
  std::optional<std::string> policy;  // pressure | classic
  std::optional<std::uint64_t> target_kib, floor_kib, current_kib;  // the balloon
  // /proc/meminfo, /proc/vmstat, /proc/uptime, /proc/pressure/memory.
  MeminfoValues meminfo_kib;
  VmstatValues vmstat;
  std::optional<double> uptime_seconds, idle_seconds;
  std::optional<Psi> psi_some, psi_full;
  // Written by dom0 (memory/target, memory/static-max), never published by the agent.
  std::optional<std::uint64_t> dom0_target_kib, static_max_kib;
  // 1 when the guest balloons itself: the agent says so from its decision, dom0 reads it from
  // the mode (selfballoon or directed; dry-run says neither).
  std::optional<bool> selfballoon;

  bool operator==(const GuestStats&) const = default;

  std::optional<std::uint64_t> meminfo(std::string_view field) const;        // KiB or count
  std::optional<std::uint64_t> meminfo_bytes(std::string_view field) const;  // bytes or count
  std::optional<std::uint64_t> vmstat_value(std::string_view counter) const;
  // Version (the agent string without "xenballoond "), policy and mode, when the guest runs an
  // agent of this layout.
  std::optional<AgentInfo> agent_info() const;
  // True when anything the guest publishes is set (dom0's figures aside).
  bool has_published_values() const;
  // True when a /proc statistic, the uptime, PSI or a balloon figure is set.
  bool has_statistics() const;
};

// The version string the agent publishes in `agent`.
inline constexpr std::string_view kAgentName = "xenballoond ";

}  // namespace xenballoon::publish
