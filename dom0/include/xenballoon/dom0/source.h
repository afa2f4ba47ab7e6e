// Where a dom0 program gets its picture of every guest from: xenstore itself (one full read, then
// watch events), or a running xenballoon-exporter's /metrics (no xenstore round trips, the host may
// be remote). The monitor uses either; the balancer reads xenstore. Not thread-safe: one thread
// drives a source.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/guest_record.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/xenstore_feed.h"
#include "xenballoon/result.h"

namespace xenballoon::dom0 {

// Every exported guest and the host's memory, as seen at one moment. Plain value.
struct Sample {
  std::vector<GuestView> views;  // ordered by domid
  std::optional<HostMemory> host;
};

// Not thread-safe.
class Source {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Source() = default;
  virtual Result<Sample> sample() = 0;
  // Waits until `deadline`, keeping the picture current where that takes work.
  virtual void wait_until(Clock::time_point deadline) = 0;
};

// xenstore: one full read, then (when `watch`) watch events. Host memory from libxenctrl when a
// hypervisor answers. Not thread-safe.
class XenstoreSource : public Source {
 public:
  explicit XenstoreSource(bool watch, std::string socket_path = "");
  Result<void> connect() { return feed_.connect(); }
  Result<Sample> sample() override;
  void wait_until(Clock::time_point deadline) override;
  const GuestCache& cache() const { return cache_; }
  XenstoreFeed& feed() { return feed_; }

 private:
  GuestCache cache_;
  XenstoreFeed feed_;
  std::unique_ptr<HostMemorySource> host_;
};

// A running xenballoon-exporter's /metrics at [host]:port. Not thread-safe.
class ExporterSource : public Source {
 public:
  explicit ExporterSource(std::string address) : address_(std::move(address)) {}
  Result<Sample> sample() override;
  void wait_until(Clock::time_point deadline) override;

 private:
  std::string address_;
};

}  // namespace xenballoon::dom0
