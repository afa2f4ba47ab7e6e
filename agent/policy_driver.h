// The agent's policy driver: the policy's inputs from one tick's readings and dom0's view,
// decide(), the balloon write (unless dry-run), the metrics of each decision, say-once logging
// of skipped ticks, and the target restored on exit. Not thread-safe: the agent's loop owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "readings.h"
#include "xenballoon/balloon/driver.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/policy.h"
#include "xenstore_link.h"

namespace xenballoon::agent {

class AgentMetrics;

class PolicyDriver {
 public:
  using Clock = std::chrono::steady_clock;

  // `metrics` and `balloon` must outlive the driver.
  PolicyDriver(AgentMetrics& metrics, BalloonDriver& balloon, bool dry_run)
      : metrics_(metrics), balloon_(balloon), dry_run_(dry_run) {}

  void set_settings(const PolicySettings& settings) { settings_ = settings; }
  const PolicySettings& settings() const { return settings_; }

  PolicyInputs inputs(const Readings& r, const Dom0View& dom0) const;
  // decide() on `in` with the driver's state and settings.
  Decision decide(const PolicyInputs& in);
  // Counts the decision, and writes its target unless it is a skip, dry-run, or already in
  // force; `target_event` is when dom0's new target was seen, for the latency of following it.
  void apply(const Decision& d, const Readings& r, std::uint64_t interval_seconds,
             std::optional<Clock::time_point> target_event);

  // The target of the last decision that was not a skip.
  std::optional<std::uint64_t> last_target_kib() const { return last_target_kib_; }
  // What this agent last wrote to target_kb.
  std::optional<std::uint64_t> last_written_kib() const { return last_written_kib_; }

  // Sets the balloon to dom0's target or static-max as `on_exit` says (nothing for leave).
  void restore_on_exit(OnExit on_exit, const Dom0View& dom0);

 private:
  AgentMetrics& metrics_;
  BalloonDriver& balloon_;
  bool dry_run_;
  PolicySettings settings_;
  PolicyState state_;
  std::optional<std::uint64_t> last_target_kib_;
  std::optional<std::uint64_t> last_written_kib_;
  std::optional<SkipReason> last_skip_logged_;
  std::optional<std::string> write_error_logged_;  // errno name of the last write failure logged
};

}  // namespace xenballoon::agent
