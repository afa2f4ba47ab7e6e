// Fuzz target procfs: the guest agent's parsers of kernel text, each fed the same input: /proc/
// meminfo (and the plausibility check of what it gives), /proc/vmstat (all counters, and only the
// agent's), /proc/uptime, /proc/pressure/memory, the legacy /proc/xen/balloon, and a sysfs KiB
// attribute of the balloon driver (through BalloonDriver::read on files of a scratch tree).
// Not thread-safe: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/balloon/driver.h"
#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/util/file.h"

namespace {

namespace fs = std::filesystem;

// A sysfs tree whose target_kb the input replaces; removed at exit.
struct SysfsTree {
  fs::path root;
  fs::path target_kb;
  SysfsTree() {
    std::string dir = (fs::temp_directory_path() / "xenballoon-fuzz-procfs-XXXXXX").string();
    if (!::mkdtemp(dir.data())) std::abort();
    root = dir;
    const fs::path xen_memory0 = root / "devices/system/xen_memory/xen_memory0";
    fs::create_directories(xen_memory0 / "info");
    target_kb = xen_memory0 / "target_kb";
    for (const char* name : {"info/current_kb", "info/low_kb", "info/high_kb"}) {
      if (!xenballoon::write_file_atomic((xen_memory0 / name).string(), "262144\n")) std::abort();
    }
  }
  ~SysfsTree() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto meminfo = parse_meminfo(text, "meminfo")) {
    (void)check_plausible_for_ballooning(*meminfo, "meminfo");
  }
  (void)parse_vmstat(text, "vmstat");
  static const std::vector<std::string> keep{"pswpin", "pswpout", "pgmajfault", "pgpgin",
                                             "pgpgout"};
  (void)parse_vmstat(text, "vmstat", &keep);
  (void)parse_uptime(text, "uptime");
  (void)parse_pressure(text, "pressure/memory");
  (void)parse_legacy_balloon(text, "xen/balloon");

  // A KiB attribute is one short line; longer inputs would only slow the parsers above down.
  if (size <= 64) {
    static SysfsTree tree;
    static BalloonDriver driver(tree.root.string(), (tree.root / "no-proc").string());
    // Rewritten in place: the driver keeps the file open, as it does sysfs's.
    std::ofstream(tree.target_kb, std::ios::trunc | std::ios::binary) << text;
    (void)driver.read();
  }
  return 0;
}
