#include "binaries.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "xenballoon/util/spawn.h"

namespace xenballoon::sim::host {
namespace fs = std::filesystem;
namespace {

bool is_executable_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string own_directory() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return "";
  return exe.parent_path().string();
}

Result<std::string> find_program(const ProgramLookup& lookup) {
  std::vector<std::string> looked_at;
  if (!lookup.explicit_path.empty()) {
    if (is_executable_file(lookup.explicit_path)) return lookup.explicit_path;
    return Error{"cannot run " + lookup.display_name + ": " + lookup.explicit_path +
                 " is not an executable file"};
  }
  const std::string own_dir = own_directory();
  if (!own_dir.empty()) {
    for (const std::string& relative : lookup.relative_candidates) {
      const fs::path candidate = (fs::path(own_dir) / relative).lexically_normal();
      if (is_executable_file(candidate)) return candidate.string();
      looked_at.push_back(candidate.string());
    }
  }
  for (const std::string& name : lookup.path_names) {
    if (auto found = find_in_path(name)) return fs::path(*found).lexically_normal().string();
    looked_at.push_back(name + " in $PATH");
  }
  std::string message = "cannot find " + lookup.display_name + "; looked for:";
  for (const std::string& place : looked_at) message += "\n  " + place;
  if (!lookup.how_to_get_it.empty()) message += "\n" + lookup.how_to_get_it;
  return Error{message};
}

Result<HostPrograms> find_host_programs(const RunOptions& options) {
  const std::string build_hint = "build it: cmake --build build (or give its path with ";
  HostPrograms programs;
  std::string problems;
  auto find = [&](const ProgramLookup& lookup, std::string& out) {
    auto found = find_program(lookup);
    if (found) {
      out = *found;
    } else {
      problems += (problems.empty() ? "" : "\n") + found.error().message;
    }
  };
  find({"xenstored-lite",
        options.xenstored_bin,
        {"../xenstored-lite/xenstored-lite", "xenstored-lite"},
        {"xenstored-lite"},
        build_hint + "--xenstored-bin)"},
       programs.xenstored);
  find({"xenballoond",
        options.agent_bin,
        {"../../agent/xenballoond", "xenballoond"},
        {"xenballoond"},
        build_hint + "--agent-bin)"},
       programs.agent);
  find({"xenballoon-exporter",
        options.exporter_bin,
        {"../../exporter/xenballoon-exporter", "xenballoon-exporter"},
        {"xenballoon-exporter"},
        build_hint + "--exporter-bin)"},
       programs.exporter);
  if (options.with_balancer) {
    find({"xenballoon-balancer",
          options.balancer_bin,
          {"../../balancer/xenballoon-balancer", "xenballoon-balancer"},
          {"xenballoon-balancer"},
          build_hint + "--balancer-bin, or run with --no-balancer)"},
         programs.balancer);
  }
  if (auto monitor = find_program({"xenballoon-monitor",
                                   "",
                                   {"../../monitor/xenballoon-monitor", "xenballoon-monitor"},
                                   {"xenballoon-monitor"},
                                   ""})) {
    programs.monitor = *monitor;
  }
  if (options.with_prometheus) {
    const std::string package_hint =
        "install the demo packages: scripts/install-deps.sh demo (or run with --no-prometheus)";
    find({"Prometheus", options.prometheus_bin, {}, {"prometheus"}, package_hint},
         programs.prometheus);
    find({"Alertmanager",
          options.alertmanager_bin,
          {},
          {"prometheus-alertmanager", "alertmanager"},
          package_hint},
         programs.alertmanager);
  }
  if (!problems.empty()) return Error{problems};
  return programs;
}

}  // namespace xenballoon::sim::host
