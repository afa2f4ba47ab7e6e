#include "xenballoon/sim/trace.h"

#include <string>

#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim {
namespace {

constexpr std::uint64_t kNsPerUs = 1000;

// The columns in order, each with its field: the header and the rows come from this one list.
struct Column {
  std::string_view name;
  std::uint64_t TraceSample::*field;
};
constexpr Column kColumns[] = {
    {"mem_total_kib", &TraceSample::mem_total_kib},
    {"committed_as_kib", &TraceSample::committed_as_kib},
    {"active_file_kib", &TraceSample::active_file_kib},
    {"inactive_file_kib", &TraceSample::inactive_file_kib},
    {"workingset_refault_file", &TraceSample::workingset_refault_file},
    {"workingset_activate_file", &TraceSample::workingset_activate_file},
    {"psi_some_total_us", &TraceSample::psi_some_total_us},
    {"psi_full_total_us", &TraceSample::psi_full_total_us},
    {"swap_total_kib", &TraceSample::swap_total_kib},
    {"swap_free_kib", &TraceSample::swap_free_kib},
    {"pswpin", &TraceSample::pswpin},
    {"pswpout", &TraceSample::pswpout},
    {"target_kib", &TraceSample::target_kib},
    {"current_kib", &TraceSample::current_kib},
};

Result<std::uint64_t> number_in(std::string_view text, std::string_view file) {
  const auto value = parse_u64(trim(text));
  if (!value) return Error{std::string(file) + ": expected a number"};
  return *value;
}

}  // namespace

std::string trace_header(std::string_view prefix) {
  std::string out(prefix);
  out += "second";
  for (const Column& column : kColumns) {
    out += ',';
    out += column.name;
  }
  out += '\n';
  return out;
}

std::string trace_row(const TraceSample& sample, std::string_view prefix) {
  std::string out(prefix);
  out += std::to_string(sample.second);
  for (const Column& column : kColumns) {
    out += ',';
    out += std::to_string(sample.*column.field);
  }
  out += '\n';
  return out;
}

TraceSample trace_sample(const GuestSnapshot& s) {
  TraceSample t;
  t.second = s.uptime_seconds;
  t.mem_total_kib = s.mem_total_kib;
  t.committed_as_kib = s.committed_as_kib;
  t.active_file_kib = s.active_file_kib;
  t.inactive_file_kib = s.inactive_file_kib;
  t.workingset_refault_file = s.vmstat.workingset_refault_file;
  t.workingset_activate_file = s.vmstat.workingset_activate_file;
  // The file shows microseconds, truncated.
  t.psi_some_total_us = s.psi_some.total_ns / kNsPerUs;
  t.psi_full_total_us = s.psi_full.total_ns / kNsPerUs;
  t.swap_total_kib = s.swap_total_kib;
  t.swap_free_kib = s.swap_free_kib;
  t.pswpin = s.vmstat.pswpin;
  t.pswpout = s.vmstat.pswpout;
  t.target_kib = s.balloon_target_kib;
  t.current_kib = s.balloon_current_kib;
  return t;
}

Result<TraceSample> trace_sample_from_text(std::int64_t second, std::string_view meminfo_text,
                                           std::string_view vmstat_text,
                                           std::string_view pressure_text,
                                           std::string_view target_kb,
                                           std::string_view current_kb) {
  auto meminfo = parse_meminfo(meminfo_text, "/proc/meminfo");
  if (!meminfo) return meminfo.error();
  auto vmstat = parse_vmstat(vmstat_text, "/proc/vmstat");
  if (!vmstat) return vmstat.error();
  auto pressure = parse_pressure(pressure_text, "/proc/pressure/memory");
  if (!pressure) return pressure.error();
  auto target = number_in(target_kb, "target_kb");
  if (!target) return target.error();
  auto current = number_in(current_kb, "info/current_kb");
  if (!current) return current.error();

  TraceSample t;
  t.second = second;
  t.target_kib = *target;
  t.current_kib = *current;
  const std::pair<std::string_view, std::uint64_t TraceSample::*> kib_fields[] = {
      {"MemTotal", &TraceSample::mem_total_kib},
      {"Committed_AS", &TraceSample::committed_as_kib},
      {"Active(file)", &TraceSample::active_file_kib},
      {"Inactive(file)", &TraceSample::inactive_file_kib},
      {"SwapTotal", &TraceSample::swap_total_kib},
      {"SwapFree", &TraceSample::swap_free_kib}};
  for (const auto& [name, field] : kib_fields) {
    const auto bytes = meminfo->get(name);
    if (!bytes) return Error{"/proc/meminfo: no " + std::string(name) + " line"};
    t.*field = *bytes / 1024;
  }
  const std::pair<std::string_view, std::uint64_t TraceSample::*> counters[] = {
      {"workingset_refault_file", &TraceSample::workingset_refault_file},
      {"workingset_activate_file", &TraceSample::workingset_activate_file},
      {"pswpin", &TraceSample::pswpin},
      {"pswpout", &TraceSample::pswpout}};
  for (const auto& [name, field] : counters) {
    const auto value = vmstat->get(name);
    if (!value) return Error{"/proc/vmstat: no " + std::string(name) + " counter"};
    t.*field = *value;
  }
  t.psi_some_total_us = pressure->some.total_us;
  t.psi_full_total_us = pressure->full ? pressure->full->total_us : 0;
  return t;
}

}  // namespace xenballoon::sim
