// xenballoon-balancer's /metrics: what the last step saw and decided (per guest, labelled domid,
// domain and uuid), the host figures, and the counters since start, as one plain snapshot the
// loop replaces after each step and scrapes render in the Prometheus text format. Families:
// metrics/vocabulary.h ("Balancer only") and docs/metrics.md.
// Snapshot is a plain value; render() is a pure function (thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xenballoon/dom0/balance.h"
#include "xenballoon/dom0/host_memory.h"

namespace xenballoon::balancer {

// Every Reason and GuestState, in the enums' order (their label values, with 0 from the start).
inline constexpr std::array<dom0::balance::Reason, 11> kAllReasons = {
    dom0::balance::Reason::kUnchanged,      dom0::balance::Reason::kGrowForNeed,
    dom0::balance::Reason::kGrowShare,      dom0::balance::Reason::kShrinkIdle,
    dom0::balance::Reason::kShrinkToBounds, dom0::balance::Reason::kRateLimited,
    dom0::balance::Reason::kWaitingForFree, dom0::balance::Reason::kPinned,
    dom0::balance::Reason::kExcluded,       dom0::balance::Reason::kStuck,
    dom0::balance::Reason::kUncooperative};
inline constexpr std::array<dom0::balance::GuestState, 5> kAllStates = {
    dom0::balance::GuestState::kOk, dom0::balance::GuestState::kStuck,
    dom0::balance::GuestState::kUncooperative, dom0::balance::GuestState::kPinned,
    dom0::balance::GuestState::kExcluded};

// One guest after a step. Sizes in KiB. Plain value.
struct GuestRow {
  std::uint32_t domid = 0;
  std::string name, uuid;                     // valid UTF-8 (from the guest cache)
  std::optional<std::uint64_t> proposed_kib;  // absent when no step was planned
  std::uint64_t applied_kib = 0;              // memory/target after the step
  std::uint64_t need_kib = 0;
  double weight = 1;
  dom0::balance::GuestState state = dom0::balance::GuestState::kOk;
};

// Everything /metrics shows. Plain value; the loop owns it, scrapes get copies.
struct Snapshot {
  bool dry_run = false;
  bool xenstore_connected = false;
  bool balancing = false;                // the last step was planned
  std::optional<dom0::HostMemory> host;  // absent: host families absent
  std::uint64_t host_reserved_kib = 0;
  std::uint64_t dom0_kib = 0;
  // From the last planned step.
  std::optional<std::uint64_t> available_kib, unmet_kib, unreclaimable_kib;
  std::vector<GuestRow> guests;  // ordered by domid
  std::array<std::uint64_t, kAllReasons.size()> decisions{};
  std::uint64_t writes_up = 0, writes_down = 0, write_errors = 0, steps = 0;
  double step_seconds = 0;
  std::optional<double> last_step_unix_seconds;
};

// The Prometheus text exposition (format 0.0.4) of a snapshot.
std::string render(const Snapshot& snapshot);

// The index of a reason in kAllReasons.
std::size_t reason_index(dom0::balance::Reason reason);

}  // namespace xenballoon::balancer
