// Fuzz target xenstored_wire: xenstored-lite's message decoder and request handlers, as a client
// reaches them through its socket (Daemon::feed, the code run() uses on received bytes). The
// first byte picks who connects (0: dom0, 1..3: that guest), the rest is the byte stream of
// xsd_sockmsg headers and payloads. Every input gets a fresh daemon over a small tree with
// domains 1..3 and a run directory of its own (INTRODUCE makes sockets there).
// Not thread-safe: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "daemon.h"
#include "store.h"
#include "tree_text.h"
#include "xenballoon/util/log.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTree =
    "/local = \"\"   (n0,r0)\n"
    "/local/domain = \"\"   (n0,r0)\n"
    "/local/domain/0 = \"\"   (n0,r0)\n"
    "/local/domain/0/name = \"Domain-0\"   (n0,r0)\n"
    "/local/domain/1 = \"\"   (n0,r1)\n"
    "/local/domain/1/name = \"guest1\"   (n0,r1)\n"
    "/local/domain/1/memory = \"\"   (n0,r1)\n"
    "/local/domain/1/memory/target = \"262144\"   (n0,r1)\n"
    "/local/domain/1/data = \"\"   (n1)\n"
    "/local/domain/2 = \"\"   (n0,r2)\n"
    "/local/domain/2/data = \"\"   (n2)\n"
    "/local/domain/3 = \"\"   (n0,r3)\n"
    "/local/domain/3/data = \"\"   (n3)\n";

// The run directory of every input's daemon; removed at exit.
struct RunDir {
  fs::path path;
  RunDir() {
    std::string dir = (fs::temp_directory_path() / "xenballoon-fuzz-xenstored-XXXXXX").string();
    if (!::mkdtemp(dir.data())) std::abort();
    path = dir;
  }
  ~RunDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  xenballoon::log::set_level(xenballoon::log::Level::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon::xenstored_lite;
  if (size == 0) return 0;
  static RunDir rundir;
  auto store = std::make_unique<Store>();
  if (!load_tree(*store, kTree, "fuzz tree")) std::abort();
  DaemonOptions options;
  options.rundir = rundir.path.string();
  options.max_queued_output = 1 << 16;
  Daemon daemon(options, std::move(store));
  (void)daemon.feed(data[0] % 4,
                    std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
