#include "xenballoon/dom0/host_memory.h"

#include "detail/xenctrl_shim.h"

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

}  // namespace

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
