#include "balancer_metrics.h"

#include <string_view>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/metrics/text_writer.h"
#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::balancer {
namespace {

using metrics::Family;
using metrics::Type;

constexpr std::uint64_t kBytesPerKib = 1024;

using metrics::append_number;

std::string guest_labels(const GuestRow& row) {
  std::string labels = "domid=\"";
  append_number(labels, static_cast<std::uint64_t>(row.domid));
  labels += "\",domain=\"";
  dom0::append_label_value(labels, row.name);
  labels += "\",uuid=\"";
  dom0::append_label_value(labels, row.uuid);
  labels += "\"";
  return labels;
}

// One family over every guest that has a value; nothing at all when none has.
template <typename ValueOf>
void guest_family(std::string& out, const Family& family, const std::vector<GuestRow>& rows,
                  const std::vector<std::string>& labels, ValueOf&& value_of) {
  bool written = false;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto value = value_of(rows[i]);
    if (!value) continue;
    if (!written) metrics::append_header(out, family);
    written = true;
    out.append(family.name).append("{").append(labels[i]).append("} ");
    append_number(out, *value);
    out.push_back('\n');
  }
}

}  // namespace

std::size_t reason_index(dom0::balance::Reason reason) {
  for (std::size_t i = 0; i < kAllReasons.size(); ++i) {
    if (kAllReasons[i] == reason) return i;
  }
  return 0;
}

std::string render(const Snapshot& s) {
  using namespace metrics;
  std::string out;
  out.reserve(2048 + s.guests.size() * 1024);
  std::vector<std::string> labels;
  labels.reserve(s.guests.size());
  for (const GuestRow& row : s.guests) labels.push_back(guest_labels(row));

  auto bytes = [](std::uint64_t kib) { return std::optional<std::uint64_t>(kib * kBytesPerKib); };
  guest_family(out, kBalancerProposedTarget, s.guests, labels, [&](const GuestRow& r) {
    return r.proposed_kib ? bytes(*r.proposed_kib) : std::nullopt;
  });
  guest_family(out, kBalancerAppliedTarget, s.guests, labels,
               [&](const GuestRow& r) { return bytes(r.applied_kib); });
  guest_family(out, kBalancerNeed, s.guests, labels,
               [&](const GuestRow& r) { return bytes(r.need_kib); });
  guest_family(out, kBalancerWeight, s.guests, labels,
               [](const GuestRow& r) { return std::optional<double>(r.weight); });
  if (!s.guests.empty()) {
    metrics::append_header(out, kBalancerGuestState);
    for (std::size_t i = 0; i < s.guests.size(); ++i) {
      for (dom0::balance::GuestState state : kAllStates) {
        out.append(kBalancerGuestState.name).append("{").append(labels[i]).append(",state=\"");
        out.append(dom0::balance::to_string(state)).append("\"} ");
        out.push_back(state == s.guests[i].state ? '1' : '0');
        out.push_back('\n');
      }
    }
  }
  metrics::append_single(out, kBalancerGuests, static_cast<std::uint64_t>(s.guests.size()));

  if (s.host) {
    metrics::append_single(out, kBalancerHostTotal, s.host->total_bytes);
    metrics::append_single(out, kBalancerHostFree, s.host->free_bytes);
  }
  metrics::append_single(out, kBalancerHostReserved, s.host_reserved_kib * kBytesPerKib);
  metrics::append_single(out, kBalancerDom0, s.dom0_kib * kBytesPerKib);
  if (s.available_kib)
    metrics::append_single(out, kBalancerAvailable, *s.available_kib * kBytesPerKib);
  if (s.unmet_kib) metrics::append_single(out, kBalancerUnmetNeed, *s.unmet_kib * kBytesPerKib);
  if (s.unreclaimable_kib) {
    metrics::append_single(out, kBalancerUnreclaimable, *s.unreclaimable_kib * kBytesPerKib);
  }
  metrics::append_single(out, kBalancerBalancing, static_cast<std::uint64_t>(s.balancing));
  metrics::append_single(out, kBalancerDryRun, static_cast<std::uint64_t>(s.dry_run));
  metrics::append_single(out, kBalancerXenstoreConnected,
                         static_cast<std::uint64_t>(s.xenstore_connected));

  metrics::append_header(out, kBalancerDecisions);
  for (std::size_t i = 0; i < kAllReasons.size(); ++i) {
    out.append(kBalancerDecisions.name).append("{reason=\"");
    out.append(dom0::balance::to_string(kAllReasons[i])).append("\"} ");
    append_number(out, s.decisions[i]);
    out.push_back('\n');
  }
  metrics::append_header(out, kBalancerTargetWrites);
  out.append(kBalancerTargetWrites.name).append("{direction=\"up\"} ");
  append_number(out, s.writes_up);
  out.append("\n").append(kBalancerTargetWrites.name).append("{direction=\"down\"} ");
  append_number(out, s.writes_down);
  out.push_back('\n');
  metrics::append_single(out, kBalancerTargetWriteErrors, s.write_errors);
  metrics::append_single(out, kBalancerSteps, s.steps);
  metrics::append_single(out, kBalancerStepDuration, s.step_seconds);
  if (s.last_step_unix_seconds)
    metrics::append_single(out, kBalancerLastStep, *s.last_step_unix_seconds);
  return out;
}

}  // namespace xenballoon::balancer
