// xenballoon-sim: a simulated Xen host running the real xenballoon programs (docs/demo.md).
//   run       the host: xenstore, guests, agents, exporter, Prometheus, Alertmanager
//   mem-set   xl mem-set against the running host
//   list      xl list against the running host
//   workload  a guest's workload changed live
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "run_command.h"
#include "run_options.h"
#include "workload_command.h"
#include "xenballoon/daemon/flags.h"
#include "xl_commands.h"

namespace {

constexpr const char* kUsage = R"(Usage: xenballoon-sim COMMAND [options]

A simulated Xen host for machines without a hypervisor: guests whose memory is modelled in real
time, each with the real xenballoond, and dom0 with the real xenballoon-exporter, Prometheus and
Alertmanager.

Commands:
  run [options]                 run the host until Ctrl-C (see run --help)
  mem-set [--rundir DIR] DOMAIN MEMORY
                                like xl mem-set: set a guest's memory/target (MiB by default)
  list [--rundir DIR]           like xl list: the guests, their memory and their agents' mode
  workload [--rundir DIR] [--hot-percent P] DOMAIN MEMORY
                                what runs in a guest becomes a steady service of MEMORY, live

  -V, --version                 print the version
  -h, --help                    this text
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace xenballoon::sim::host;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "-V" || command == "--version") {
    xenballoon::daemon::print_version("xenballoon-sim");
    return 0;
  }
  // getopt names argv[0] in its messages.
  std::string program = "xenballoon-sim " + command;
  std::vector<char*> arguments(argv + 1, argv + argc);
  arguments[0] = program.data();
  arguments.push_back(nullptr);
  const int count = argc - 1;
  if (command == "run") {
    RunOptions options;
    if (auto exit_code = parse_run_options(count, arguments.data(), &options)) return *exit_code;
    xenballoon::daemon::CommonFlags logging;
    logging.log_level = options.log_level;
    xenballoon::daemon::init_logging("xenballoon-sim", logging);
    return run_host(options);
  }
  if (command == "mem-set") return mem_set_command(count, arguments.data());
  if (command == "list") return list_command(count, arguments.data());
  if (command == "workload") return workload_command(count, arguments.data());
  std::fprintf(stderr, "xenballoon-sim: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}
