// The text of a simulated guest's /proc files and balloon sysfs files, in the kernel's formats
// (Linux 6.1, as captured in tests/fixtures/real-xen-4.17). Pure functions: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/sim/guest.h"

namespace xenballoon::sim {

// Paths inside a guest's tree, relative to its root.
inline constexpr std::string_view kMeminfoPath = "proc/meminfo";
inline constexpr std::string_view kVmstatPath = "proc/vmstat";
inline constexpr std::string_view kUptimePath = "proc/uptime";
inline constexpr std::string_view kPressureMemoryPath = "proc/pressure/memory";
inline constexpr std::string_view kBalloonSysfsDir = "sys/devices/system/xen_memory/xen_memory0";
inline constexpr std::string_view kTargetKbPath =
    "sys/devices/system/xen_memory/xen_memory0/target_kb";

// Every field of the captured meminfo, in its order and column layout.
std::string render_meminfo(const GuestSnapshot& snapshot);
// Every counter of the captured vmstat, in its order; the ones the model does not move keep the
// captured value.
std::string render_vmstat(const GuestSnapshot& snapshot);
// "<uptime> <idle>" in seconds with two decimals.
std::string render_uptime(const GuestSnapshot& snapshot);
// The "some" and "full" lines as psi_show() prints them.
std::string render_pressure_memory(const GuestSnapshot& snapshot);

// One file of a guest's tree. A plain value.
struct TreeFile {
  std::string path;  // relative to the guest's root, e.g. "proc/meminfo"
  std::string text;
};

// The whole tree: the four /proc files, then xen_memory0's files (target_kb, target in bytes,
// info/current_kb, info/low_kb, info/high_kb, the retry schedule, scrub_pages, uevent).
std::vector<TreeFile> render_guest_tree(const GuestSnapshot& snapshot);

}  // namespace xenballoon::sim
