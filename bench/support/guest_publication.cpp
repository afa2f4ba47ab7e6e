#include "guest_publication.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "xenballoon/publish/layout.h"

namespace xenballoon::bench {
namespace {

// /proc/meminfo of the real-Xen capture guest, as the agent publishes it.
const std::vector<std::pair<std::string, std::uint64_t>> kMeminfo = {{"MemTotal", 204924},
                                                                     {"MemFree", 176464},
                                                                     {"MemAvailable", 179724},
                                                                     {"Buffers", 0},
                                                                     {"Cached", 4128},
                                                                     {"SwapCached", 0},
                                                                     {"Active", 3420},
                                                                     {"Inactive", 2040},
                                                                     {"Active(anon)", 1376},
                                                                     {"Inactive(anon)", 0},
                                                                     {"Active(file)", 2044},
                                                                     {"Inactive(file)", 2040},
                                                                     {"Unevictable", 0},
                                                                     {"Mlocked", 0},
                                                                     {"SwapTotal", 0},
                                                                     {"SwapFree", 0},
                                                                     {"Zswap", 0},
                                                                     {"Zswapped", 0},
                                                                     {"Dirty", 0},
                                                                     {"Writeback", 0},
                                                                     {"AnonPages", 1356},
                                                                     {"Mapped", 2364},
                                                                     {"Shmem", 20},
                                                                     {"KReclaimable", 2456},
                                                                     {"Slab", 8980},
                                                                     {"SReclaimable", 2456},
                                                                     {"SUnreclaim", 6524},
                                                                     {"KernelStack", 1168},
                                                                     {"PageTables", 88},
                                                                     {"SecPageTables", 0},
                                                                     {"NFS_Unstable", 0},
                                                                     {"Bounce", 0},
                                                                     {"WritebackTmp", 0},
                                                                     {"CommitLimit", 102460},
                                                                     {"Committed_AS", 5136},
                                                                     {"VmallocTotal", 34359738367},
                                                                     {"VmallocUsed", 7372},
                                                                     {"VmallocChunk", 0},
                                                                     {"Percpu", 260},
                                                                     {"HardwareCorrupted", 0},
                                                                     {"AnonHugePages", 0},
                                                                     {"ShmemHugePages", 0},
                                                                     {"ShmemPmdMapped", 0},
                                                                     {"FileHugePages", 0},
                                                                     {"FilePmdMapped", 0},
                                                                     {"DirectMap4k", 524288},
                                                                     {"DirectMap2M", 0}};

std::string home_of(unsigned domid) {
  return "/local/domain/" + std::to_string(domid);
}

// Transactions end in EAGAIN when another connection changed what they read meanwhile: every
// creation and destruction changes /local/domain, which each creation reads. libxl retries such a
// transaction without limit; so do these, with a random backoff of up to 1, 2, 4 ... 64 ms (so
// that a dozen writers on a loaded machine do not keep colliding), for at most 30 s.
constexpr std::chrono::seconds kRetryFor{30};

class Retry {
 public:
  // Whether to try again after an EAGAIN: false once the 30 s are over, else after a backoff.
  bool again() {
    if (std::chrono::steady_clock::now() - start_ > kRetryFor) return false;
    const unsigned ceiling_ms = 1u << std::min(attempt_++, 6u);
    thread_local std::minstd_rand rng(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::microseconds(
        std::uniform_int_distribution<unsigned>(0, ceiling_ms * 1000)(rng)));
    return true;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  unsigned attempt_ = 0;
};

}  // namespace

publish::GuestStats stats_for(unsigned domid, std::uint64_t round) {
  publish::GuestStats s;
  s.agent = "xenballoond 0.1.0";
  s.heartbeat_unix_seconds = std::time(nullptr);
  s.mode = "selfballoon";
  s.policy = "pressure";
  s.target_kib = 172032;
  s.floor_kib = 172032;
  s.current_kib = 262144;
  for (const auto& [field, kib] : kMeminfo)
    s.meminfo_kib.known[*publish::meminfo_index(field)] = kib;
  s.meminfo_kib.known[*publish::meminfo_index("MemFree")] =
      170000 + (domid * 7 + round * 13) % 5000;  // MemFree moves
  const std::pair<const char*, std::uint64_t> vmstat[] = {
      {"pswpin", round * 3},   {"pswpout", round * 5},    {"pgpgin", round * 100},
      {"pgpgout", round * 50}, {"pgfault", 8561 + round}, {"pgmajfault", round},
      {"oom_kill", 0}};
  for (const auto& [counter, value] : vmstat)
    s.vmstat.known[*publish::vmstat_index(counter)] = value;
  s.uptime_seconds = 7.3 + 5.0 * static_cast<double>(round);
  s.idle_seconds = 2.52 + 4.0 * static_cast<double>(round);
  s.psi_some = publish::Psi{0.5, 0.25, 0.1, 1000 * round};
  s.psi_full = publish::Psi{0.0, 0.0, 0.0, 10 * round};
  return s;
}

bool publish_stats(testing::XsHandle& xs, unsigned domid, const publish::GuestStats& stats,
                   Published* last) {
  auto encoded = publish::encode(stats);
  const std::string dir = home_of(domid) + "/data/xenballoon/";
  Retry retry;
  do {
    xs_transaction_t t = xs_transaction_start(xs.get());
    if (t == XBT_NULL) return false;
    for (const auto& [key, value] : encoded.values) {
      auto it = last->find(key);
      if (it != last->end() && it->second == value) continue;
      xs.write(dir + key, value, t);
    }
    if (xs_transaction_end(xs.get(), t, false)) {
      for (auto& [key, value] : encoded.values) (*last)[key] = value;
      return true;
    }
    if (errno != EAGAIN) return false;
  } while (retry.again());
  return false;
}

int make_guest(testing::XsHandle& dom0, unsigned domid, bool introduce, std::uint64_t target_kib,
               std::uint64_t static_max_kib) {
  const std::string home = home_of(domid);
  char uuid[64];
  std::snprintf(uuid, sizeof uuid, "/vm/00000000-0000-4000-8000-%012u", domid);
  const std::pair<std::string, std::string> keys[] = {
      {"/name", "guest" + std::to_string(domid)},
      {"/vm", uuid},
      {"/memory/static-max", std::to_string(static_max_kib)},
      {"/memory/target", std::to_string(target_kib)},
      {"/memory/videoram", "0"},
      {"/control/shutdown", ""}};
  // In one transaction, as libxl__domain_make writes a new domain's home.
  int err = 0;
  Retry retry;
  do {
    xs_transaction_t t = xs_transaction_start(dom0.get());
    if (t == XBT_NULL) return errno;
    err = 0;
    for (const auto& [key, value] : keys) {
      if (!err) err = dom0.write(home + key, value, t);
    }
    if (!err) err = dom0.mkdir(home + "/data", t);
    if (!xs_transaction_end(dom0.get(), t, err != 0) && !err) err = errno;
  } while (err == EAGAIN && retry.again());
  if (err) return err;
  if (introduce && !xs_introduce_domain(dom0.get(), domid, 1000 + domid, 1)) return errno;
  return 0;
}

int destroy_guest(testing::XsHandle& dom0, unsigned domid, bool introduced) {
  if (introduced && !xs_release_domain(dom0.get(), domid)) return errno;
  return dom0.rm(home_of(domid));
}

}  // namespace xenballoon::bench
