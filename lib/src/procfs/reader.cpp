#include "xenballoon/procfs/reader.h"

#include <utility>

#include "xenballoon/util/file.h"

namespace xenballoon {
namespace {

template <typename T>
Result<T> read_and_parse(const std::string& path,
                         Result<T> (*parse)(std::string_view, std::string_view)) {
  Result<std::string> text = read_file(path);
  if (!text) return text.error();
  return parse(*text, path);
}

}  // namespace

ProcfsReader::ProcfsReader(std::string procfs_root) : root_(std::move(procfs_root)) {}

std::string ProcfsReader::path_of(std::string_view relative) const {
  if (!root_.empty() && root_.back() == '/') return root_ + std::string(relative);
  return root_ + "/" + std::string(relative);
}

Result<Meminfo> ProcfsReader::meminfo() const {
  return read_and_parse(path_of("meminfo"), &parse_meminfo);
}

Result<Vmstat> ProcfsReader::vmstat(const std::vector<std::string>* keep) const {
  std::string path = path_of("vmstat");
  Result<std::string> text = read_file(path);
  if (!text) return text.error();
  return parse_vmstat(*text, path, keep);
}

Result<Uptime> ProcfsReader::uptime() const {
  return read_and_parse(path_of("uptime"), &parse_uptime);
}

Result<PressureStats> ProcfsReader::pressure_memory() const {
  return read_and_parse(path_of("pressure/memory"), &parse_pressure);
}

}  // namespace xenballoon
