// One guest domain as the dom0 side knows it: what dom0 wrote (name, uuid, target, static-max)
// and what the guest published in any of the three layouts, decoded and bounded, merged into one
// view ready for exposition. Decoding only, no I/O. Not synchronized (GuestCache locks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/dom0/guest_keys.h"
#include "xenballoon/publish/layout.h"

namespace xenballoon::dom0 {

// Where a guest's statistics come from; for a field published in several, the agent's layout
// wins over the 2008 keys, which win over XenServer's.
// kUnnamed: statistics read back from an exposition, which does not say where they came from.
enum class StatsSource { kNone, kUnnamed, kXenServer, kLegacy, kAgent };
std::string_view to_string(StatsSource source);

// One domain as dom0 programs see it: who it is and its statistics, merged from every layout it
// publishes in. Plain value; not synchronized.
struct GuestView {
  std::uint32_t domid = 0;
  std::string name;  // valid UTF-8, at most kMaxLabelBytes
  std::string uuid;  // canonical lower-case UUID or ""
  StatsSource source = StatsSource::kNone;
  publish::GuestStats stats;  // with dom0's memory/target and memory/static-max
  std::optional<double> last_update_unix_seconds;
};

// Not synchronized.
class GuestRecord {
 public:
  explicit GuestRecord(std::uint32_t domid);

  // Takes the value of one key of the domain's home (nullopt: the key is gone). Returns the
  // reason when the value is refused; what the record held for that key is cleared then.
  // `now` (Unix seconds) becomes the last update when the key is one the guest publishes.
  std::optional<std::string> apply(std::string_view relative_key,
                                   const std::optional<std::string>& value, double now);

  const GuestView& view() const { return view_; }
  // domid="1",domain="…",uuid="…", escaped for the text exposition.
  const std::string& label_text() const { return label_text_; }
  bool has_agent_layout() const { return agent_.layout.has_value(); }
  // dom0 is shown only when something publishes statistics for it.
  bool exported() const { return view_.domid != 0 || view_.source != StatsSource::kNone; }

 private:
  std::optional<std::string> apply_value(GuestKey kind, std::string_view key,
                                         std::string_view value);
  void clear(GuestKey kind, std::string_view key);
  void rebuild_view();

  std::optional<std::uint64_t> dom0_target_kib_, static_max_kib_;
  publish::GuestStats agent_;
  publish::GuestStats legacy_;  // meminfo, vmstat, uptime; target_kib holds memory/selftarget
  std::optional<std::uint64_t> xenserver_total_kib_, xenserver_free_kib_;
  GuestView view_;
  std::string label_text_;
};

}  // namespace xenballoon::dom0
