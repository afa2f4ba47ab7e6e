// The dom0 toolstack side of the simulated host: what xl/libxl write to xenstore when domains are
// created and resized, and the balloon driver's watch on memory/target.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::sim::host {

// A guest domain as libxl lays it out. Sizes in KiB. A plain value.
struct DomainSpec {
  std::uint32_t domid = 0;
  std::string name;
  std::string uuid;
  std::uint64_t static_max_kib = 0;
  std::uint64_t target_kib = 0;
};

// A write to a guest's memory/target seen through the watch. A plain value.
struct Dom0TargetWrite {
  std::uint32_t domid = 0;
  std::uint64_t target_kib = 0;
  // The event xenstore fires when the watch is registered, not a write by anyone.
  bool registration_event = false;
};

// One guest as `list` shows it, read from xenstore. A plain value.
struct DomainSummary {
  std::uint32_t domid = 0;
  std::string name;
  std::optional<std::uint64_t> target_kib;        // memory/target
  std::optional<std::uint64_t> static_max_kib;    // memory/static-max
  std::string agent_mode;                         // data/xenballoon/mode; "" before it publishes
  std::optional<std::uint64_t> agent_target_kib;  // data/xenballoon/target-kb
};

// A stable UUID for a simulated domain (the same name in the same scenario gets the same UUID on
// every run, so Prometheus series continue across restarts).
std::string domain_uuid(const std::string& scenario_name, const std::string& domain_name);

// xl's memory argument: a number with an optional unit b, k, m (the default), g or t. In KiB.
std::optional<std::uint64_t> parse_xl_memory_kib(const std::string& text);

// dom0's connection to xenstore (the C++ client over the real libxenstore). Not thread-safe: one
// thread calls it (the client would serialise, but the watch bookkeeping here does not).
class Toolstack {
 public:
  static Result<std::unique_ptr<Toolstack>> connect(const std::string& dom0_socket);

  // /local/domain/0 with name Domain-0 and domid 0, as on a real host.
  Result<void> create_dom0();

  // libxl__domain_make and the memory part of libxl__build_pre: the home with name, domid and vm,
  // /vm/<uuid>, memory/static-max, memory/target and memory/videoram readable by the guest,
  // data/ and the other guest-owned directories; then INTRODUCE, after which the guest has its
  // own socket.
  Result<void> create_domain(const DomainSpec& domain);

  // The balloon driver's watch on memory/target (drivers/xen/xen-balloon.c watch_target).
  Result<void> watch_dom0_target(std::uint32_t domid);
  int watch_fd();
  // Every memory/target value the watch fired for since the last call, read now.
  std::vector<Dom0TargetWrite> take_dom0_target_writes();

  // Guest domains (every domid but 0), in domid order.
  Result<std::vector<std::uint32_t>> guest_domids();
  // `xl`'s domain argument: a domid, or a name.
  Result<std::uint32_t> resolve_domain(const std::string& name_or_domid);
  Result<DomainSummary> summary(std::uint32_t domid);
  // `xl mem-set`: memory/target, refused above memory/static-max as libxl refuses it. Xen's
  // max_pages follow through the running simulator's watch.
  Result<void> set_dom0_target(std::uint32_t domid, std::uint64_t target_kib);

 private:
  explicit Toolstack(std::unique_ptr<xenstore::Client> client) : client_(std::move(client)) {}

  // `owner` has every right (and others none), `reader` may read: libxl's "n0,r<domid>" is
  // (0, domid), a guest-owned "n<domid>" is (domid, nullopt).
  Result<void> set_permissions(const std::string& path, std::uint32_t owner,
                               std::optional<std::uint32_t> reader);

  std::unique_ptr<xenstore::Client> client_;
  std::map<std::uint32_t, bool> awaiting_registration_event_;
};

}  // namespace xenballoon::sim::host
