#include "publisher.h"

#include <cerrno>
#include <cstdio>

#include "agent_metrics.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/util/log.h"
#include "xenballoon/version.h"
#include "xenballoon/xenstore/client.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::agent {
namespace {

namespace keys = xenstore::keys;

std::string join_lines(const std::vector<std::pair<std::string, std::uint64_t>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) out += k + " " + std::to_string(v) + "\n";
  return out;
}

}  // namespace

publish::GuestStats guest_stats(const StatsSources& from) {
  const Readings& r = from.readings;
  const std::optional<Decision>& d = from.decision;
  publish::GuestStats s;
  s.layout = publish::kLayoutVersion;
  s.agent = std::string(publish::kAgentName) + kVersion;
  bool selfballoon = d ? d->effective.selfballoon : from.settings.selfballoon;
  s.selfballoon = selfballoon;
  s.mode = from.dry_run ? "dry-run" : selfballoon ? "selfballoon" : "directed";
  s.policy = std::string(to_string(from.settings.kind));
  s.target_kib = from.target_kib;
  if (d && d->floor_kib) s.floor_kib = d->floor_kib;
  if (r.balloon) s.current_kib = r.balloon->current_kib;
  if (r.meminfo) {
    for (const auto& f : r.meminfo->fields) {
      std::uint64_t value = f.has_kb_unit ? f.value / 1024 : f.value;
      if (auto i = publish::meminfo_index(f.name)) {
        s.meminfo_kib.known[*i] = value;
      } else {
        s.meminfo_kib.other.emplace_back(f.name, value);
      }
    }
  }
  if (r.vmstat) {
    for (const auto& name : from.vmstat_fields) {
      auto v = r.vmstat->get(name);
      if (!v) continue;
      if (auto i = publish::vmstat_index(name)) {
        s.vmstat.known[*i] = *v;
      } else {
        s.vmstat.other.emplace_back(name, *v);
      }
    }
  }
  if (r.uptime) {
    s.uptime_seconds = r.uptime->uptime_seconds;
    s.idle_seconds = r.uptime->idle_seconds;
  }
  if (r.pressure) {
    const auto& some = r.pressure->some;
    s.psi_some = publish::Psi{some.avg10, some.avg60, some.avg300, some.total_us};
    if (r.pressure->full) {
      const auto& full = *r.pressure->full;
      s.psi_full = publish::Psi{full.avg10, full.avg60, full.avg300, full.total_us};
    }
  }
  s.static_max_kib = from.dom0.static_max_kib;
  s.dom0_target_kib = from.dom0.target_kib;
  return s;
}

std::optional<std::int64_t> Publisher::publish(XenstoreLink& link, const publish::GuestStats& s,
                                               const Readings& r, bool legacy_paths,
                                               const std::vector<std::string>& vmstat_fields) {
  if (link.generation() != generation_) {  // a fresh home: it holds none of our keys
    published_.clear();
    generation_ = link.generation();
  }
  std::optional<std::int64_t> heartbeat;
  publish::Encoded encoded = publish::encode(s);
  for (const auto& key : encoded.truncated) {
    log::debug("publication: " + key + " cut to fit the xenstore value limit");
  }
  std::map<std::string, std::string> changed;
  for (const auto& [key, value] : encoded.values) {
    auto it = published_.find(key);
    if (it == published_.end() || it->second != value) changed[key] = value;
  }
  std::string dir(publish::kDir);
  auto result = link.requests()->transact([&](xenstore::Transaction& tx) -> Result<void> {
    for (const auto& [key, value] : changed) {
      auto w = tx.write(dir + "/" + key, value);
      if (!w) return w;
    }
    return {};
  });
  if (!result) {
    metrics_.publication("error").Increment();
    link.count_error("publish", result.error());
    log::warning("publication failed: " + result.error().message);
  } else {
    metrics_.publication("ok").Increment();
    for (auto& [key, value] : changed) published_[key] = std::move(value);
    heartbeat = s.heartbeat_unix_seconds;
  }
  if (legacy_paths && link.connected()) publish_legacy(link, r, vmstat_fields, s.target_kib);
  return heartbeat;
}

void Publisher::publish_legacy(XenstoreLink& link, const Readings& r,
                               const std::vector<std::string>& vmstat_fields,
                               std::optional<std::uint64_t> target_kib) {
  // The 2008 daemon's keys and formats; dom0 must have made memory/ writable for us.
  std::map<std::string, std::string> values;
  if (r.meminfo) {
    std::string text;
    for (const auto& f : r.meminfo->fields) {
      // As the kernel prints it: "Name:" padded to 16 columns, the value right-aligned in 8.
      char line_buf[96];
      std::snprintf(line_buf, sizeof line_buf, "%-16s%8llu%s\n", (f.name + ":").c_str(),
                    static_cast<unsigned long long>(f.has_kb_unit ? f.value / 1024 : f.value),
                    f.has_kb_unit ? " kB" : "");
      std::string line = line_buf;
      if (text.size() + line.size() > publish::kMaxValueBytes) break;
      text += line;
    }
    if (!text.empty()) text.pop_back();  // `cat` inside backquotes dropped the last newline
    values[std::string(keys::kLegacyMeminfo)] = text;
  }
  if (r.vmstat) {
    std::vector<std::pair<std::string, std::uint64_t>> selected;
    for (const auto& name : vmstat_fields) {
      if (auto v = r.vmstat->get(name)) selected.emplace_back(name, *v);
    }
    std::string text = join_lines(selected);
    if (!text.empty()) text.pop_back();
    values[std::string(keys::kLegacyVmstat)] = text.substr(0, publish::kMaxValueBytes);
  }
  if (r.uptime) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f", r.uptime->uptime_seconds, r.uptime->idle_seconds);
    values[std::string(keys::kLegacyUptime)] = buf;
  }
  if (target_kib) {
    values[std::string(keys::kLegacySelftarget)] = std::to_string(*target_kib);
  }
  for (const auto& [path, value] : values) {
    if (!link.connected()) return;
    auto w = link.requests()->write(path, value);
    if (w) continue;
    if (w.error().errnum == EACCES) {
      if (!legacy_denied_reported_) {
        log::warning("legacy_paths: dom0 has not granted write access to memory/ (" +
                     w.error().message + "); the 2008 keys are not written");
        legacy_denied_reported_ = true;
      }
      metrics_.xenstore_error("legacy_write", "EACCES").Increment();
      return;
    }
    link.count_error("legacy_write", w.error());
    return;
  }
  legacy_denied_reported_ = false;
}

}  // namespace xenballoon::agent
