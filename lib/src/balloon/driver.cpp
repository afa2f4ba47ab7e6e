#include "xenballoon/balloon/driver.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "util/detail/lines.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon {
namespace {

constexpr std::string_view kSysfsBalloonDir = "devices/system/xen_memory/xen_memory0";
constexpr std::string_view kLegacyBalloonFile = "xen/balloon";
using detail::line_error;
using detail::quoted;

std::string join_path(const std::string& root, std::string_view relative) {
  if (!root.empty() && root.back() == '/') return root + std::string(relative);
  return root + "/" + std::string(relative);
}

// Present, absent, or an Error when the path cannot be checked (EACCES on a parent, ...).
Result<bool> path_exists(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  int err = errno;
  if (err == ENOENT || err == ENOTDIR) return false;
  return Error{"cannot stat " + path + ": " + std::strerror(err), err};
}

// One sysfs attribute holding a decimal KiB count ("262144\n").
Result<std::uint64_t> read_kib_file(RereadableFile& file) {
  Result<std::string_view> text = file.read();
  if (!text) return text.error();
  std::string_view value = trim(*text);
  if (value.empty()) return Error{file.path() + ": file is empty"};
  std::optional<std::uint64_t> kib = parse_u64(value);
  if (!kib) return Error{file.path() + ": value " + quoted(value) + " is not a number of KiB"};
  return *kib;
}

}  // namespace

std::string_view balloon_interface_name(BalloonInterface interface) {
  switch (interface) {
    case BalloonInterface::kSysfs:
      return "sysfs";
    case BalloonInterface::kLegacyProc:
      return "legacy-proc";
  }
  return "unknown";
}

Result<BalloonState> parse_legacy_balloon(std::string_view text, std::string_view source) {
  BalloonState state;
  state.interface = BalloonInterface::kLegacyProc;
  struct Required {
    std::string_view label;
    std::uint64_t* kib;
    std::size_t line_number = 0;
  };
  Required required[] = {{"Current allocation", &state.current_kib},
                         {"Requested target", &state.target_kib},
                         {"Low-mem balloon", &state.low_kib},
                         {"High-mem balloon", &state.high_kib}};
  Result<void> parsed = detail::for_each_line(
      text, source, [&](std::size_t line_number, std::string_view line) -> Result<void> {
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
          return line_error(source, line_number,
                            "line " + quoted(line) + " is not \"Label: value\"");
        }
        std::string_view label = trim(line.substr(0, colon));
        for (Required& field : required) {
          if (field.label != label) continue;
          if (field.line_number != 0) {
            return line_error(source, line_number,
                              "duplicate " + quoted(label) + " (first on line " +
                                  std::to_string(field.line_number) + ")");
          }
          field.line_number = line_number;
          std::string_view value = trim(line.substr(colon + 1));
          std::optional<std::uint64_t> kib;
          if (value.size() > 2 && value.substr(value.size() - 2) == "kB") {
            kib = parse_u64(trim(value.substr(0, value.size() - 2)));
          }
          if (!kib) {
            return line_error(
                source, line_number,
                "value " + quoted(value) + " of " + quoted(label) + " is not \"<number> kB\"");
          }
          *field.kib = *kib;
        }
        return {};
      });
  if (!parsed) return parsed.error();
  for (const Required& field : required) {
    if (field.line_number == 0) {
      return Error{std::string(source) + ": no " + quoted(field.label) + " line"};
    }
  }
  return state;
}

BalloonDriver::BalloonDriver(std::string sysfs_root, std::string procfs_root)
    : sysfs_dir_(join_path(sysfs_root, kSysfsBalloonDir)),
      legacy_path_(join_path(procfs_root, kLegacyBalloonFile)),
      target_kb_(sysfs_dir_ + "/target_kb"),
      current_kb_(sysfs_dir_ + "/info/current_kb"),
      low_kb_(sysfs_dir_ + "/info/low_kb"),
      high_kb_(sysfs_dir_ + "/info/high_kb"),
      legacy_(legacy_path_) {}

Result<BalloonInterface> BalloonDriver::detect() const {
  std::string target_kb = sysfs_dir_ + "/target_kb";
  Result<bool> sysfs = path_exists(target_kb);
  if (!sysfs) return sysfs.error();
  if (*sysfs) return BalloonInterface::kSysfs;
  Result<bool> legacy = path_exists(legacy_path_);
  if (!legacy) return legacy.error();
  if (*legacy) return BalloonInterface::kLegacyProc;
  return Error{"no Xen balloon driver: neither " + target_kb + " nor " + legacy_path_ + " exists",
               ENOENT};
}

Result<BalloonState> BalloonDriver::read(BalloonFields fields) {
  if (!found_) {
    Result<BalloonInterface> interface = detect();
    if (!interface) return interface.error();
    found_ = *interface;
  }
  Result<BalloonState> state = Error{};
  if (*found_ == BalloonInterface::kSysfs) {
    state = read_sysfs(fields);
  } else if (Result<std::string_view> text = legacy_.read(); text) {
    state = parse_legacy_balloon(*text, legacy_path_);
  } else {
    state = text.error();
  }
  // Look for the interface again next time: the driver may have gone or been replaced.
  if (!state) found_.reset();
  return state;
}

Result<BalloonState> BalloonDriver::read_sysfs(BalloonFields fields) {
  BalloonState state;
  state.interface = BalloonInterface::kSysfs;
  std::pair<RereadableFile*, std::uint64_t*> files[] = {{&target_kb_, &state.target_kib},
                                                        {&current_kb_, &state.current_kib},
                                                        {&low_kb_, &state.low_kib},
                                                        {&high_kb_, &state.high_kib}};
  std::size_t count = fields == BalloonFields::kAll ? 4 : 2;
  for (std::size_t i = 0; i < count; ++i) {
    Result<std::uint64_t> value = read_kib_file(*files[i].first);
    if (!value) return value.error();
    *files[i].second = *value;
  }
  return state;
}

Result<void> BalloonDriver::set_target_kib(std::uint64_t target_kib) const {
  std::string asked = "balloon target " + std::to_string(target_kib) + " KiB";
  // A zero target would hand every page back to Xen and kill the guest; it is always a bug.
  if (target_kib == 0)
    return Error{"refusing " + asked + ": the guest would have no memory", EINVAL};
  if (target_kib > std::numeric_limits<std::uint64_t>::max() / 1024) {
    return Error{"refusing " + asked + ": too large to count in bytes", EINVAL};
  }
  Result<BalloonInterface> interface = detect();
  if (!interface) return interface.error();
  std::string path;
  std::string data;
  if (*interface == BalloonInterface::kSysfs) {
    // The kernel reads this with base 0, so the text must never start with a 0 (octal);
    // std::to_string of a non-zero value does not.
    path = sysfs_dir_ + "/target_kb";
    data = std::to_string(target_kib) + "\n";
  } else {
    // /proc/xen/balloon takes bytes, as `echo $bytes > /proc/xen/balloon` wrote them.
    path = legacy_path_;
    data = std::to_string(target_kib * 1024) + "\n";
  }
  Result<void> written = write_file(path, data);
  if (!written)
    return Error{"cannot set " + asked + ": " + written.error().message, written.error().errnum};
  return {};
}

}  // namespace xenballoon
