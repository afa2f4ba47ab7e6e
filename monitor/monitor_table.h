// xenballoon-monitor's table: one row per domain with memory, targets, paging rates, PSI and the
// age of the guest's statistics, plus a totals line; as plain text (no curses, fine in a pipe) or
// as JSON. Formatting only, no I/O. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/dom0/guest_record.h"
#include "xenballoon/dom0/host_memory.h"

namespace xenballoon::dom0 {

// Plain value; not synchronized.
struct MonitorRow {
  std::uint32_t domid = 0;
  std::string name, uuid;
  StatsSource source = StatsSource::kNone;
  // The balloon's current size when the agent reports it, else the guest's MemTotal.
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> target_bytes;  // dom0's memory/target
  std::optional<std::uint64_t> static_max_bytes;
  std::optional<std::uint64_t> committed_bytes;  // Committed_AS
  GuestRates rates;
  std::optional<double> psi_some_avg10;  // percent
  std::optional<double> age_seconds;     // since the agent's heartbeat
};

// Plain value; not synchronized.
struct MonitorSnapshot {
  double time = 0;  // Unix seconds
  std::vector<MonitorRow> rows;
  std::optional<HostMemory> host;
};

MonitorSnapshot make_snapshot(const std::vector<GuestView>& views, const RateTracker& rates,
                              std::optional<HostMemory> host, double now);

enum class Column {
  kId,
  kName,
  kSource,
  kMemory,
  kTarget,
  kStaticMax,
  kCommitted,
  kSwapIn,
  kSwapOut,
  kPageIn,
  kPageOut,
  kMajorFaults,
  kPsi,
  kAge
};

// Column names for -s, case-insensitive ("id", "name", "mem", "swin", ...).
std::optional<Column> parse_column(std::string_view name);
std::string column_names();

// Text and id ascending, numbers descending (the largest first, as top does); unknown values
// last either way; ties by domid. `reverse` flips the order of the known values.
void sort_rows(std::vector<MonitorRow>& rows, Column column, bool reverse);

std::string format_table(const MonitorSnapshot& snapshot);
std::string format_json(const MonitorSnapshot& snapshot);

}  // namespace xenballoon::dom0
