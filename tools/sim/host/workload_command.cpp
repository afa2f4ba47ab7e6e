#include "workload_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "model_driver.h"
#include "state_file.h"
#include "toolstack.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim::host {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The simulator takes requests once per model second; at --speed 0.1 that is every 10 s.
constexpr auto kTakeTimeout = 30s;
// Above any guest's static-max: a bigger service is just killed by the OOM killer.
constexpr std::uint64_t kMaxBaseMib = 1024 * 1024;

std::string describe(const WorkloadSpec& spec) {
  std::ostringstream text;
  text << "a steady " << spec.base_mib << " MiB service, " << spec.access.hot_percent << " % hot";
  return text.str();
}

}  // namespace

const char* const kWorkloadUsage =
    R"(Usage: xenballoon-sim workload [--rundir DIR] [--hot-percent P] DOMAIN MEMORY

Changes what runs in a guest of the running simulator, from its next model second on: the
scenario's workload ends and one steady service of MEMORY (MiB by default, or with a unit: 512m,
2g) takes its place, keeping the scenario's noise and access pattern. DOMAIN is a name or a domid.
A service larger than the guest may hold swaps (and, beyond its swap, is OOM-killed); a smaller one
gives memory back to the agent. Returns once the simulator has taken the change.

Options:
      --rundir DIR       the simulator's run directory (default ${XDG_RUNTIME_DIR:-/tmp}/xenballoon-sim)
      --hot-percent P    share of the service's memory touched often (0 to 100; the scenario's
                         access.hot_percent when not given): the hot pages in swap are what swaps in
  -h, --help             this text
)";

std::string render_workload_request(const WorkloadRequest& request) {
  std::string text = "base_mib " + std::to_string(request.base_mib) + "\n";
  if (request.hot_percent) {
    std::ostringstream hot;
    hot << *request.hot_percent;
    text += "hot_percent " + hot.str() + "\n";
  }
  return text;
}

Result<WorkloadRequest> parse_workload_request(const std::string& text) {
  WorkloadRequest request;
  bool have_base = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "base_mib" && !have_base) {
      auto mib = parse_u64(value);
      if (!mib || *mib > kMaxBaseMib) return Error{"base_mib: " + quote_untrusted(value)};
      request.base_mib = *mib;
      have_base = true;
    } else if (key == "hot_percent" && !request.hot_percent) {
      auto percent = parse_double(value);
      if (!percent || *percent < 0 || *percent > 100) {
        return Error{"hot_percent: " + quote_untrusted(value)};
      }
      request.hot_percent = *percent;
    } else {
      return Error{"unexpected line " + quote_untrusted(line)};
    }
  }
  if (!have_base) return Error{"no base_mib"};
  return request;
}

WorkloadSpec apply_workload_request(const WorkloadSpec& current, const WorkloadRequest& request) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kSteady;
  spec.base_mib = request.base_mib;
  spec.noise_mib = current.noise_mib;
  spec.restart_delay_seconds = current.restart_delay_seconds;
  spec.access = current.access;
  if (request.hot_percent) spec.access.hot_percent = *request.hot_percent;
  return spec;
}

void take_workload_requests(const RunDir& run_dir, ModelDriver& driver) {
  for (std::size_t i = 0; i < driver.guest_count(); ++i) {
    const std::string path = run_dir.workload_request(static_cast<std::uint32_t>(i + 1));
    auto text = read_file(path);
    if (!text) continue;  // none pending
    std::error_code ignored;
    fs::remove(path, ignored);
    const std::string& name = driver.guest(i).spec().name;
    auto request = parse_workload_request(*text);
    if (!request) {
      log::warning(name + ": workload request refused: " + request.error().message);
      continue;
    }
    const WorkloadSpec spec = apply_workload_request(driver.guest(i).spec().workload, *request);
    driver.set_workload(i, spec);
    log::info(name + ": workload now " + describe(spec));
  }
}

int workload_command(int argc, char** argv) {
  std::string run_dir = default_run_dir();
  std::vector<std::string> operands;
  WorkloadRequest request;
  daemon::Flags flags(argv[0], kWorkloadUsage);
  flags.option("rundir", 0, &run_dir).operands(&operands);
  flags.option("hot-percent", 0, [&](std::string_view text) -> Result<void> {
    auto percent = parse_double(text);
    if (!percent || *percent < 0 || *percent > 100) {
      return Error{"--hot-percent: expected 0 to 100, got \"" + std::string(text) + "\""};
    }
    request.hot_percent = *percent;
    return {};
  });
  if (auto code = flags.parse(argc, argv)) return *code;
  if (operands.size() != 2) {
    std::fputs(kWorkloadUsage, stderr);
    return 2;
  }
  const auto kib = parse_xl_memory_kib(operands[1]);
  if (!kib || *kib / 1024 > kMaxBaseMib) {
    std::fprintf(stderr,
                 "xenballoon-sim: invalid memory size \"%s\" (a number of MiB, or with a unit: "
                 "512m, 2g)\n",
                 operands[1].c_str());
    return 2;
  }
  request.base_mib = *kib / 1024;

  const RunDir dir(run_dir);
  auto running = read_running_state(dir.state_file());
  if (!running) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", running.error().message.c_str());
    return 1;
  }
  const DomainState* domain = nullptr;
  const auto domid = parse_u64(operands[0]);
  for (const DomainState& candidate : running->domains) {
    if (candidate.name == operands[0] || (domid && candidate.domid == *domid)) {
      domain = &candidate;
      break;
    }
  }
  if (!domain) {
    std::fprintf(stderr, "xenballoon-sim: no guest domain named or numbered \"%s\"\n",
                 operands[0].c_str());
    return 1;
  }
  const std::string path = dir.workload_request(domain->domid);
  if (auto written = write_file_atomic(path, render_workload_request(request)); !written) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", written.error().message.c_str());
    return 1;
  }
  const auto deadline = Clock::now() + kTakeTimeout;
  while (fs::exists(path)) {
    if (Clock::now() >= deadline || !read_running_state(dir.state_file())) {
      std::error_code ignored;
      fs::remove(path, ignored);
      std::fprintf(stderr, "xenballoon-sim: the simulator did not take the request for %s\n",
                   domain->name.c_str());
      return 1;
    }
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

}  // namespace xenballoon::sim::host
