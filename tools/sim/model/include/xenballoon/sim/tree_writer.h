// Writes a simulated guest's /proc and balloon sysfs files into a directory tree, and reads
// back a balloon target someone else wrote there. The only file I/O of the simulation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/sim/procfs_text.h"

namespace xenballoon::sim {

// One guest's tree under `root`: <root>/proc/meminfo, ..., <root>/sys/devices/system/xen_memory/
// xen_memory0/target_kb. Every file is replaced atomically (temp file + rename), so a reader
// never sees half a file. Thread-safe: holds only an immutable path.
class GuestTreeWriter {
 public:
  explicit GuestTreeWriter(std::string root);

  const std::string& root() const { return root_; }
  std::string path_of(std::string_view relative) const;

  // Creates the directories and writes every file, target_kb included: at boot, or when dom0
  // set a new target.
  Result<void> write_all(const std::vector<TreeFile>& files) const;

  // Writes every file except target_kb: after boot that file belongs to whoever sets the
  // target (the agent), and rewriting it could undo a write made since read_target_kb().
  Result<void> write_state(const std::vector<TreeFile>& files) const;

  // target_kb as it is now: a decimal KiB count; surrounding blanks and newlines are accepted.
  Result<std::uint64_t> read_target_kb() const;

 private:
  Result<void> write(const std::vector<TreeFile>& files, bool include_target) const;

  std::string root_;
};

}  // namespace xenballoon::sim
