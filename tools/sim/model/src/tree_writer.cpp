#include "xenballoon/sim/tree_writer.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim {

GuestTreeWriter::GuestTreeWriter(std::string root) : root_(std::move(root)) {}

std::string GuestTreeWriter::path_of(std::string_view relative) const {
  return root_ + "/" + std::string(relative);
}

Result<void> GuestTreeWriter::write_all(const std::vector<TreeFile>& files) const {
  return write(files, /*include_target=*/true);
}

Result<void> GuestTreeWriter::write_state(const std::vector<TreeFile>& files) const {
  return write(files, /*include_target=*/false);
}

Result<void> GuestTreeWriter::write(const std::vector<TreeFile>& files, bool include_target) const {
  for (const TreeFile& file : files) {
    if (!include_target && file.path == kTargetKbPath) continue;
    const std::filesystem::path path = path_of(file.path);
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      return Error{
          "cannot create directory " + path.parent_path().string() + ": " + error.message(),
          error.value()};
    }
    if (auto written = write_file_atomic(path.string(), file.text); !written) return written;
  }
  return {};
}

Result<std::uint64_t> GuestTreeWriter::read_target_kb() const {
  const std::string path = path_of(kTargetKbPath);
  auto text = read_file(path);
  if (!text) return text.error();
  const auto kib = parse_u64(trim(*text));
  if (!kib) return Error{path + ": expected a decimal KiB count, got \"" + *text + "\""};
  return *kib;
}

}  // namespace xenballoon::sim
