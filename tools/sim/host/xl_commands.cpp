#include "xl_commands.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "run_dir.h"
#include "state_file.h"
#include "toolstack.h"
#include "xenballoon/daemon/flags.h"

namespace xenballoon::sim::host {

const char* const kMemSetUsage = R"(Usage: xenballoon-sim mem-set [--rundir DIR] DOMAIN MEMORY

Like `xl mem-set`: sets the guest's memory/target in xenstore. DOMAIN is a name or a domid; MEMORY
is in MiB, or with a unit: 512m, 2g, 786432k. The running simulator's balloon driver follows the
watch (Xen's max_pages become the target + 1 MiB), and an agent in directed mode sets the balloon
there; a selfballooning agent takes it as its ceiling.
)";

const char* const kListUsage = R"(Usage: xenballoon-sim list [--rundir DIR]

Like `xl list`: every guest of the running simulator with its memory in MiB: Mem is what the
domain holds now, Target dom0's memory/target, Max memory/static-max, Agent the target the guest's
xenballoond last chose, and Mode the agent's mode (selfballoon, directed or dry-run).
)";

namespace {

// Parses "[--rundir DIR] ARGS..." and returns the positional arguments, or nullopt after
// printing the usage or an error (status in *exit_status).
std::optional<std::vector<std::string>> parse_common(int argc, char** argv, const char* usage,
                                                     std::string* run_dir, int* exit_status) {
  *run_dir = default_run_dir();
  std::vector<std::string> operands;
  daemon::Flags flags(argv[0], usage);
  flags.option("rundir", 0, run_dir).operands(&operands);
  if (auto code = flags.parse(argc, argv)) {
    *exit_status = *code;
    return std::nullopt;
  }
  return operands;
}

// The running simulator's dom0 connection, or nullptr after printing why not.
std::unique_ptr<Toolstack> connect_to_running(const std::string& run_dir, SimState* state) {
  auto running = read_running_state(RunDir(run_dir).state_file());
  if (!running) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", running.error().message.c_str());
    return nullptr;
  }
  auto toolstack = Toolstack::connect(running->dom0_socket);
  if (!toolstack) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", toolstack.error().message.c_str());
    return nullptr;
  }
  *state = std::move(*running);
  return std::move(*toolstack);
}

std::string mib_text(std::optional<std::uint64_t> kib) {
  return kib ? std::to_string(*kib / 1024) : "-";
}

}  // namespace

int mem_set_command(int argc, char** argv) {
  std::string run_dir;
  int exit_status = 0;
  auto arguments = parse_common(argc, argv, kMemSetUsage, &run_dir, &exit_status);
  if (!arguments) return exit_status;
  if (arguments->size() != 2) {
    std::fputs(kMemSetUsage, stderr);
    return 2;
  }
  const auto target_kib = parse_xl_memory_kib((*arguments)[1]);
  if (!target_kib || *target_kib == 0) {
    std::fprintf(stderr,
                 "xenballoon-sim: invalid memory size \"%s\" (a number of MiB, or with a unit: "
                 "512m, 2g, 786432k)\n",
                 (*arguments)[1].c_str());
    return 2;
  }
  SimState state;
  auto toolstack = connect_to_running(run_dir, &state);
  if (!toolstack) return 1;
  auto domid = toolstack->resolve_domain((*arguments)[0]);
  if (!domid) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", domid.error().message.c_str());
    return 1;
  }
  if (auto set = toolstack->set_dom0_target(*domid, *target_kib); !set) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", set.error().message.c_str());
    return 1;
  }
  return 0;
}

int list_command(int argc, char** argv) {
  std::string run_dir;
  int exit_status = 0;
  auto arguments = parse_common(argc, argv, kListUsage, &run_dir, &exit_status);
  if (!arguments) return exit_status;
  if (!arguments->empty()) {
    std::fputs(kListUsage, stderr);
    return 2;
  }
  SimState state;
  auto toolstack = connect_to_running(run_dir, &state);
  if (!toolstack) return 1;
  std::map<std::uint32_t, const DomainState*> allocations;
  for (const DomainState& domain : state.domains) allocations[domain.domid] = &domain;
  auto domids = toolstack->guest_domids();
  if (!domids) {
    std::fprintf(stderr, "xenballoon-sim: %s\n", domids.error().message.c_str());
    return 1;
  }
  std::printf("%-20s %5s %8s %8s %8s %8s  %s\n", "Name", "ID", "Mem", "Target", "Max", "Agent",
              "Mode");
  for (std::uint32_t domid : *domids) {
    auto summary = toolstack->summary(domid);
    if (!summary) continue;  // destroyed between the listing and the read
    std::string current_mib = "-";
    if (auto allocation = allocations.find(domid); allocation != allocations.end()) {
      current_mib = std::to_string(allocation->second->current_kib / 1024);
    }
    std::printf("%-20s %5u %8s %8s %8s %8s  %s\n", summary->name.c_str(), domid,
                current_mib.c_str(), mib_text(summary->target_kib).c_str(),
                mib_text(summary->static_max_kib).c_str(),
                mib_text(summary->agent_target_kib).c_str(),
                summary->agent_mode.empty() ? "-" : summary->agent_mode.c_str());
  }
  return 0;
}

}  // namespace xenballoon::sim::host
