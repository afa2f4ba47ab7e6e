#include "xenballoon/procfs/reader.h"

#include <utility>

namespace xenballoon {
namespace {

std::string path_of(const std::string& root, std::string_view relative) {
  if (!root.empty() && root.back() == '/') return root + std::string(relative);
  return root + "/" + std::string(relative);
}

template <typename T>
Result<T> read_and_parse(RereadableFile& file,
                         Result<T> (*parse)(std::string_view, std::string_view)) {
  Result<std::string_view> text = file.read();
  if (!text) return text.error();
  return parse(*text, file.path());
}

}  // namespace

ProcfsReader::ProcfsReader(std::string procfs_root)
    : root_(std::move(procfs_root)),
      meminfo_(path_of(root_, "meminfo"), ProcfsRecords::kOne),
      vmstat_(path_of(root_, "vmstat"), ProcfsRecords::kMany),
      uptime_(path_of(root_, "uptime"), ProcfsRecords::kOne),
      pressure_memory_(path_of(root_, "pressure/memory"), ProcfsRecords::kOne) {}

Result<Meminfo> ProcfsReader::meminfo() {
  return read_and_parse(meminfo_, &parse_meminfo);
}

Result<Vmstat> ProcfsReader::vmstat(const std::vector<std::string>* keep) {
  Result<std::string_view> text = vmstat_.read();
  if (!text) return text.error();
  return parse_vmstat(*text, vmstat_.path(), keep);
}

Result<Uptime> ProcfsReader::uptime() {
  return read_and_parse(uptime_, &parse_uptime);
}

Result<PressureStats> ProcfsReader::pressure_memory() {
  return read_and_parse(pressure_memory_, &parse_pressure);
}

}  // namespace xenballoon
