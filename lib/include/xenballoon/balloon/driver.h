// Access to the guest's Xen balloon driver: the sysfs files of current kernels, or the
// /proc/xen/balloon file of old XenLinux kernels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xenballoon/result.h"
#include "xenballoon/util/file.h"

namespace xenballoon {

enum class BalloonInterface {
  kSysfs,       // <sysfs>/devices/system/xen_memory/xen_memory0/target_kb and info/*_kb
  kLegacyProc,  // <procfs>/xen/balloon
};

// "sysfs" or "legacy-proc", for logs and metric labels.
std::string_view balloon_interface_name(BalloonInterface interface);

// One reading of the balloon driver, all in KiB. Plain value type; not synchronized.
struct BalloonState {
  std::uint64_t target_kib = 0;   // what the driver was asked to reach
  std::uint64_t current_kib = 0;  // what the guest holds now
  std::uint64_t low_kib = 0;      // memory inside the balloon, low-memory part
  std::uint64_t high_kib = 0;     // memory inside the balloon, high-memory part
  BalloonInterface interface = BalloonInterface::kSysfs;
};

// Parses /proc/xen/balloon ("Current allocation:   262144 kB", "Requested target: ...",
// "Low-mem balloon: ...", "High-mem balloon: ..."). Other labelled lines ("Driver pages",
// "Xen hard limit:     ??? kB") are ignored. A missing, repeated or malformed required line, an
// unlabelled line, an empty text and a last line without a newline are errors.
Result<BalloonState> parse_legacy_balloon(std::string_view text, std::string_view source);

// Which sysfs files read() looks at. The legacy file always gives all four values.
enum class BalloonFields {
  kAll,
  kTargetAndCurrent,  // low_kib and high_kib stay 0: two files instead of four on every tick
};

// Reads and sets the balloon target under configurable roots. The interface found is remembered
// and its files stay open (see RereadableFile) until a read fails; while no driver is found every
// call looks again, so a driver module loaded later is found. Not thread-safe: one per thread.
class BalloonDriver {
 public:
  explicit BalloonDriver(std::string sysfs_root = "/sys", std::string procfs_root = "/proc");

  // sysfs when <sysfs_dir>/target_kb exists, else legacy when <procfs>/xen/balloon exists, else
  // an error (errnum ENOENT) "no Xen balloon driver: neither <path> nor <path> exists".
  Result<BalloonInterface> detect() const;

  Result<BalloonState> read(BalloonFields fields = BalloonFields::kAll);

  // Asks the driver for a new target. Refuses 0 and values whose bytes overflow 64 bits (errnum
  // EINVAL); write errors carry the errno and the path.
  Result<void> set_target_kib(std::uint64_t target_kib) const;

  // <sysfs>/devices/system/xen_memory/xen_memory0
  const std::string& sysfs_dir() const { return sysfs_dir_; }
  // <procfs>/xen/balloon
  const std::string& legacy_path() const { return legacy_path_; }

 private:
  Result<BalloonState> read_sysfs(BalloonFields fields);

  std::string sysfs_dir_;
  std::string legacy_path_;
  std::optional<BalloonInterface> found_;
  RereadableFile target_kb_;
  RereadableFile current_kb_;
  RereadableFile low_kb_;
  RereadableFile high_kb_;
  RereadableFile legacy_;
};

}  // namespace xenballoon
