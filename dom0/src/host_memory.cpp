#include "xenballoon/dom0/host_memory.h"

#include <vector>

#include "detail/xenctrl_shim.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

// Thread-safe: calls are serialised on the handle.
class XenctrlHostMemory : public HostMemorySource {
 public:
  explicit XenctrlHostMemory(xb_xenctrl* xc) : xc_(xc) {}
  ~XenctrlHostMemory() override { xb_xenctrl_close(xc_); }
  XenctrlHostMemory(const XenctrlHostMemory&) = delete;
  XenctrlHostMemory& operator=(const XenctrlHostMemory&) = delete;

  std::optional<HostMemory> read() override {
    HostMemory memory;
    std::lock_guard lock(mutex_);
    if (xb_xenctrl_physinfo(xc_, &memory.total_bytes, &memory.free_bytes) != 0) {
      return std::nullopt;
    }
    return memory;
  }

 private:
  std::mutex mutex_;
  xb_xenctrl* xc_;
};

// A host memory file is a few dozen bytes; anything much larger is not one.
constexpr std::size_t kMaxHostMemoryFileBytes = 4096;

std::string where(std::string_view source_name, int line) {
  return std::string(source_name) + ":" + std::to_string(line) + ": ";
}

// Splits at spaces and tabs.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// A size in KiB: decimal, at most kMaxHostMemoryKib.
Result<std::uint64_t> size_kib(std::string_view text, std::string_view what,
                               const std::string& at) {
  auto value = parse_u64(text);
  if (!value) {
    return Error{at + std::string(what) + ": expected a size in KiB (a decimal integer), got " +
                 quote_untrusted(text)};
  }
  if (*value > kMaxHostMemoryKib) {
    return Error{at + std::string(what) + ": " + std::to_string(*value) +
                 " KiB is past the largest size (" + std::to_string(kMaxHostMemoryKib) + " KiB)"};
  }
  return *value;
}

}  // namespace

Result<HostMemory> parse_host_memory_text(std::string_view text, std::string_view source_name) {
  std::optional<std::uint64_t> total_kib, free_kib;
  int total_line = 0, free_line = 0;
  bool positional = false;
  int line_number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string at = where(source_name, line_number);
    if (positional) return Error{at + "unexpected line after \"total_kib free_kib\""};

    // "key value", "key=value" or "key: value".
    std::string_view key, value;
    const std::size_t separator = line.find_first_of(" \t=:");
    if (separator != std::string_view::npos &&
        (line.substr(0, separator) == "total_kib" || line.substr(0, separator) == "free_kib")) {
      key = line.substr(0, separator);
      value = trim(line.substr(separator + 1));
      if (!value.empty() && (value.front() == '=' || value.front() == ':')) {
        value = trim(value.substr(1));
      }
      if (value.find_first_of(" \t") != std::string_view::npos) {
        return Error{at + std::string(key) + ": expected one size in KiB, got " +
                     quote_untrusted(value)};
      }
      auto kib = size_kib(value, key, at);
      if (!kib) return kib.error();
      std::optional<std::uint64_t>& slot = key == "total_kib" ? total_kib : free_kib;
      int& slot_line = key == "total_kib" ? total_line : free_line;
      if (slot) {
        return Error{at + std::string(key) + ": given twice (first on line " +
                     std::to_string(slot_line) + ")"};
      }
      slot = *kib;
      slot_line = line_number;
      continue;
    }

    // "total_kib free_kib" on one line.
    const std::vector<std::string_view> numbers = words(line);
    if (total_kib || free_kib || numbers.size() != 2 || !parse_u64(numbers[0])) {
      return Error{at +
                   "expected \"<total_kib> <free_kib>\" or \"total_kib <n>\" and "
                   "\"free_kib <n>\" lines, got " +
                   quote_untrusted(line)};
    }
    auto total = size_kib(numbers[0], "total_kib", at);
    if (!total) return total.error();
    auto free = size_kib(numbers[1], "free_kib", at);
    if (!free) return free.error();
    total_kib = *total;
    free_kib = *free;
    total_line = free_line = line_number;
    positional = true;
  }
  const std::string file = std::string(source_name) + ": ";
  if (!total_kib && !free_kib) return Error{file + "no host memory figures (empty file)"};
  if (!total_kib) return Error{file + "total_kib: missing"};
  if (!free_kib) return Error{file + "free_kib: missing"};
  if (*total_kib == 0) return Error{where(source_name, total_line) + "total_kib: must not be 0"};
  if (*free_kib > *total_kib) {
    return Error{where(source_name, free_line) + "free_kib: " + std::to_string(*free_kib) +
                 " KiB is more than total_kib " + std::to_string(*total_kib) + " KiB"};
  }
  return HostMemory{*total_kib * 1024, *free_kib * 1024};
}

std::optional<HostMemory> FileHostMemory::read() {
  auto memory = read_checked();
  if (!memory) return std::nullopt;
  return *memory;
}

Result<HostMemory> FileHostMemory::read_checked() const {
  auto text = read_file(path_, kMaxHostMemoryFileBytes);
  if (!text) return text.error();
  return parse_host_memory_text(*text, path_);
}

std::unique_ptr<HostMemorySource> open_xenctrl_host_memory(std::string* why_not) {
  char why[256] = "";
  xb_xenctrl* xc = xb_xenctrl_open(why, sizeof why);
  if (!xc) {
    *why_not = why;
    return nullptr;
  }
  auto source = std::make_unique<XenctrlHostMemory>(xc);
  if (!source->read()) {
    *why_not = "xc_physinfo failed";
    return nullptr;
  }
  return source;
}

}  // namespace xenballoon::dom0
