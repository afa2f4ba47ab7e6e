// Benchmark support: simulated guests in xenstore as dom0 and their agents leave them: a domain's
// home laid out as libxl does, the agent's data/xenballoon/ publications (the real-Xen capture
// guest's figures, moving from round to round) written as the agent writes them, and the domain
// destroyed as libxl destroys it. Not thread-safe per handle (one XsHandle per thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "xenballoon/publish/guest_stats.h"
#include "xs_client.h"

namespace xenballoon::bench {

// What the agent of guest `domid` publishes in its publication number `round`: the capture
// guest's meminfo with MemFree moving, vmstat counters growing, uptime and PSI totals advancing.
publish::GuestStats stats_for(unsigned domid, std::uint64_t round);

// The keys of data/xenballoon/ last written for one guest (what the agent remembers, so that a
// publication writes only what changed).
using Published = std::map<std::string, std::string>;

// One publication as the agent makes it: the keys that changed since `last`, in one transaction
// (retried on EAGAIN). False when it could not be committed.
bool publish_stats(testing::XsHandle& xs, unsigned domid, const publish::GuestStats& stats,
                   Published* last);
inline bool publish_guest(testing::XsHandle& xs, unsigned domid, std::uint64_t round,
                          Published* last) {
  return publish_stats(xs, domid, stats_for(domid, round), last);
}

// A domain's home as libxl creates it, in one transaction: name, vm, memory/static-max,
// memory/target, memory/videoram, control/shutdown and data/; `introduce` then INTRODUCEs it (which
// fires @introduceDomain). Returns the errno of the first failure, 0 on success.
int make_guest(testing::XsHandle& dom0, unsigned domid, bool introduce = false,
               std::uint64_t target_kib = 262144, std::uint64_t static_max_kib = 524288);

// What libxl does when the domain is destroyed: RELEASE (fires @releaseDomain) when it was
// introduced, then the home removed. Returns the errno of the first failure, 0 on success.
int destroy_guest(testing::XsHandle& dom0, unsigned domid, bool introduced = false);

}  // namespace xenballoon::bench
