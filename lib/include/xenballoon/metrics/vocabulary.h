// The metric vocabulary shared by xenballoond (one guest, about itself), xenballoon-exporter
// (every guest, with domid/domain/uuid labels) and xenballoon-balancer (its decisions).
// docs/metrics.md is the written list; a test checks that every family a scrape shows is in it.
// Thread-safe (constants only).
#pragma once

#include <string>
#include <string_view>

namespace xenballoon::metrics {

enum class Type { kGauge, kCounter, kHistogram };

struct Family {
  std::string_view name;
  Type type;
  std::string_view help;
};

// Guest statistics (agent: its own; exporter: per guest).
// /proc/meminfo fields: xenballoon_memory_<field>_bytes, or xenballoon_memory_<field>_pages for
// the unitless HugePages_* counts, with the /proc name in snake_case ("MemTotal" -> "mem_total",
// "Active(anon)" -> "active_anon", "Committed_AS" -> "committed_as").
std::string meminfo_family(std::string_view field, bool has_kb_unit);
// /proc/vmstat counters: xenballoon_vmstat_<name>_total.
std::string snake_case(std::string_view proc_name);
std::string vmstat_family(std::string_view counter);
inline constexpr std::string_view kMeminfoHelp = "Memory information field from /proc/meminfo.";
inline constexpr std::string_view kVmstatHelp = "Counter from /proc/vmstat.";

inline constexpr Family kUptime{"xenballoon_uptime_seconds", Type::kGauge,
                                "Guest uptime from /proc/uptime."};
inline constexpr Family kPsiSomeTotal{
    "xenballoon_pressure_memory_waiting_seconds_total", Type::kCounter,
    "Time at least one task was stalled on memory (PSI some total)."};
inline constexpr Family kPsiFullTotal{
    "xenballoon_pressure_memory_stalled_seconds_total", Type::kCounter,
    "Time all non-idle tasks were stalled on memory (PSI full total)."};
inline constexpr Family kPsiSomeAvg10{
    "xenballoon_pressure_memory_some_avg10_ratio", Type::kGauge,
    "Share of the last 10 s at least one task was stalled on memory (PSI some avg10 / 100)."};
inline constexpr Family kPsiFullAvg10{
    "xenballoon_pressure_memory_full_avg10_ratio", Type::kGauge,
    "Share of the last 10 s all non-idle tasks were stalled on memory (PSI full avg10 / 100)."};

// Balloon state and the agent's decisions (agent and exporter).
inline constexpr Family kBalloonTarget{"xenballoon_balloon_target_bytes", Type::kGauge,
                                       "Balloon target the agent set (selftarget)."};
inline constexpr Family kBalloonCurrent{"xenballoon_balloon_current_bytes", Type::kGauge,
                                        "Memory the guest holds now (balloon current_kb)."};
inline constexpr Family kBalloonFloor{"xenballoon_balloon_floor_bytes", Type::kGauge,
                                      "Lowest target the agent will set (minmem floor)."};
inline constexpr Family kStaticMax{"xenballoon_static_max_bytes", Type::kGauge,
                                   "Guest maximum memory (xenstore memory/static-max)."};
inline constexpr Family kDom0Target{"xenballoon_dom0_target_bytes", Type::kGauge,
                                    "dom0's target for the guest (xenstore memory/target)."};
inline constexpr Family kSelfballoon{"xenballoon_selfballoon_enabled", Type::kGauge,
                                     "1 when the guest balloons itself, 0 when it follows dom0."};
inline constexpr Family kAgentInfo{"xenballoon_agent_info", Type::kGauge,
                                   "The guest agent's version, policy and mode (value 1)."};
inline constexpr Family kHeartbeat{"xenballoon_heartbeat_timestamp_seconds", Type::kGauge,
                                   "Unix time of the agent's last publication."};

// Agent only.
inline constexpr Family kAdjustments{"xenballoon_adjustments_total", Type::kCounter,
                                     "Balloon target changes written, by direction."};
inline constexpr Family kTicksSkipped{"xenballoon_ticks_skipped_total", Type::kCounter,
                                      "Policy ticks that wrote no target, by reason."};
inline constexpr Family kShrinkHeld{"xenballoon_shrink_held_total", Type::kCounter,
                                    "Ticks whose shrink was held back, by reason."};
inline constexpr Family kMemoryPressure{
    "xenballoon_memory_pressure", Type::kGauge,
    "1 while a memory-pressure signal is active, by signal (psi, swapin, majfault)."};
inline constexpr Family kXenstoreErrors{"xenballoon_xenstore_errors_total", Type::kCounter,
                                        "Failed xenstore operations, by operation and error."};
inline constexpr Family kXenstoreConnected{"xenballoon_xenstore_connected", Type::kGauge,
                                           "1 while connected to xenstore."};
inline constexpr Family kXenstoreReconnects{"xenballoon_xenstore_reconnects_total", Type::kCounter,
                                            "Successful xenstore reconnections."};
inline constexpr Family kBalloonWriteErrors{
    "xenballoon_balloon_write_errors_total", Type::kCounter,
    "Failed writes of the balloon driver's target, by error (errno name)."};
inline constexpr Family kReadErrors{
    "xenballoon_read_errors_total", Type::kCounter,
    "Failed reads of /proc and the balloon driver, by source and error (errno name, or "
    "malformed)."};
inline constexpr Family kConfigReloadErrors{
    "xenballoon_config_reload_errors_total", Type::kCounter,
    "SIGHUP reloads refused (the running configuration kept), by file (config, web)."};
inline constexpr Family kOverrideErrors{
    "xenballoon_override_errors_total", Type::kCounter,
    "dom0 override values ignored because they were invalid, by key."};
inline constexpr Family kTickDuration{"xenballoon_tick_duration_seconds", Type::kHistogram,
                                      "Time spent in one policy tick."};
inline constexpr Family kPublishDuration{"xenballoon_publish_duration_seconds", Type::kHistogram,
                                         "Time spent in one publication to xenstore."};
inline constexpr Family kCpuSeconds{"xenballoon_cpu_seconds_total", Type::kCounter,
                                    "CPU time (user and system) spent, by activity."};
inline constexpr Family kPublications{"xenballoon_publications_total", Type::kCounter,
                                      "Publications to xenstore, by result."};
inline constexpr Family kDirectedLatency{
    "xenballoon_directed_latency_seconds", Type::kHistogram,
    "Time from a memory/target watch event to the balloon target written."};
inline constexpr Family kEffectiveSetting{
    "xenballoon_effective_setting", Type::kGauge,
    "Setting in force after dom0's overrides, by setting (selfballoon, interval_seconds, "
    "uphysteresis, downhysteresis, minmem_mib)."};
inline constexpr Family kBuildInfo{"xenballoon_build_info", Type::kGauge,
                                   "Build information (value 1)."};

// Exporter only.
inline constexpr Family kLastUpdate{"xenballoon_last_update_timestamp_seconds", Type::kGauge,
                                    "Unix time the exporter last saw the guest's data change."};
inline constexpr Family kGuests{"xenballoon_exporter_guests", Type::kGauge,
                                "Guest domains seen in xenstore."};
inline constexpr Family kGuestsWithAgent{"xenballoon_exporter_guests_with_agent", Type::kGauge,
                                         "Guest domains publishing the xenballoond layout."};
inline constexpr Family kParseErrors{"xenballoon_exporter_parse_errors_total", Type::kCounter,
                                     "Guest values refused, by reason."};
inline constexpr Family kCacheUpdates{"xenballoon_exporter_cache_updates_total", Type::kCounter,
                                      "Values re-read from xenstore after a watch event."};
inline constexpr Family kExporterReconnects{"xenballoon_exporter_xenstore_reconnects_total",
                                            Type::kCounter, "Successful xenstore reconnections."};
inline constexpr Family kExporterConfigReloadErrors{
    "xenballoon_exporter_config_reload_errors_total", Type::kCounter,
    "SIGHUP reloads refused (the running configuration kept), by file (config, web)."};
inline constexpr Family kExporterConnected{"xenballoon_exporter_xenstore_connected", Type::kGauge,
                                           "1 while connected to xenstore."};
inline constexpr Family kScrapeDuration{"xenballoon_exporter_scrape_duration_seconds", Type::kGauge,
                                        "Time the last scrape took to render."};
inline constexpr Family kHostMemoryTotal{"xenballoon_host_memory_total_bytes", Type::kGauge,
                                         "Host memory (xc_physinfo total_pages)."};
inline constexpr Family kHostMemoryFree{"xenballoon_host_memory_free_bytes", Type::kGauge,
                                        "Free host memory (xc_physinfo free_pages)."};

// Balancer only (xenballoon-balancer: per guest with domid/domain/uuid labels, and its host
// figures and decisions).
inline constexpr Family kBalancerProposedTarget{
    "xenballoon_balancer_proposed_target_bytes", Type::kGauge,
    "Target the last step chose for the guest (also in a dry run)."};
inline constexpr Family kBalancerAppliedTarget{
    "xenballoon_balancer_applied_target_bytes", Type::kGauge,
    "The guest's memory/target after the last step (what was written, else what it was)."};
inline constexpr Family kBalancerNeed{"xenballoon_balancer_need_bytes", Type::kGauge,
                                      "The guest's need: Committed_AS + reserve, raised by "
                                      "pressure, within its bounds."};
inline constexpr Family kBalancerWeight{"xenballoon_balancer_weight", Type::kGauge,
                                        "The guest's weight in sharing spare memory."};
inline constexpr Family kBalancerGuestState{
    "xenballoon_balancer_guest_state", Type::kGauge,
    "1 for the guest's current state (ok, stuck, uncooperative, pinned, excluded), else 0."};
inline constexpr Family kBalancerGuests{"xenballoon_balancer_guests", Type::kGauge,
                                        "Guest domains the last step saw."};
inline constexpr Family kBalancerHostTotal{"xenballoon_balancer_host_total_bytes", Type::kGauge,
                                           "Host memory, as the last step read it."};
inline constexpr Family kBalancerHostFree{"xenballoon_balancer_host_free_bytes", Type::kGauge,
                                          "Free host memory, as the last step read it."};
inline constexpr Family kBalancerHostReserved{"xenballoon_balancer_host_reserved_bytes",
                                              Type::kGauge,
                                              "Host memory kept free (host.reserve_mib)."};
inline constexpr Family kBalancerDom0{"xenballoon_balancer_dom0_bytes", Type::kGauge,
                                      "Memory counted for dom0 and kept from the guests."};
inline constexpr Family kBalancerAvailable{
    "xenballoon_balancer_available_bytes", Type::kGauge,
    "Host memory the managed guests may hold in all (total - reserve - what held guests hold)."};
inline constexpr Family kBalancerUnmetNeed{"xenballoon_balancer_unmet_need_bytes", Type::kGauge,
                                           "Need the last step could not give."};
inline constexpr Family kBalancerUnreclaimable{
    "xenballoon_balancer_unreclaimable_bytes", Type::kGauge,
    "Memory held by stuck and uncooperative guests above their targets."};
inline constexpr Family kBalancerBalancing{
    "xenballoon_balancer_balancing", Type::kGauge,
    "1 while the balancer plans steps (xenstore connected and host memory known)."};
inline constexpr Family kBalancerDryRun{"xenballoon_balancer_dry_run", Type::kGauge,
                                        "1 in a dry run (targets computed, never set)."};
inline constexpr Family kBalancerConfigReloadErrors{
    "xenballoon_balancer_config_reload_errors_total", Type::kCounter,
    "SIGHUP reloads refused (the running configuration kept), by file (config, web)."};
inline constexpr Family kBalancerXenstoreConnected{"xenballoon_balancer_xenstore_connected",
                                                   Type::kGauge, "1 while connected to xenstore."};
inline constexpr Family kBalancerDecisions{"xenballoon_balancer_decisions_total", Type::kCounter,
                                           "Per-guest decisions of the steps, by reason."};
inline constexpr Family kBalancerTargetWrites{"xenballoon_balancer_target_writes_total",
                                              Type::kCounter,
                                              "Targets set, by direction (up, down)."};
inline constexpr Family kBalancerTargetWriteErrors{
    "xenballoon_balancer_target_write_errors_total", Type::kCounter,
    "Targets not set: refused, failed, or stale at the write (another domain, a moved target)."};
inline constexpr Family kBalancerSteps{"xenballoon_balancer_steps_total", Type::kCounter,
                                       "Steps planned."};
inline constexpr Family kBalancerStepDuration{"xenballoon_balancer_step_duration_seconds",
                                              Type::kGauge, "Time the last step took."};
inline constexpr Family kBalancerLastStep{"xenballoon_balancer_last_step_timestamp_seconds",
                                          Type::kGauge, "Unix time of the last step planned."};

}  // namespace xenballoon::metrics
