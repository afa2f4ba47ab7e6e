#include "plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "report.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/spawn.h"

extern char** environ;

namespace xenballoon::sim::bench {
namespace {

// gnuplot's single-quoted strings take everything literally except the quote itself.
std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

// One panel per scenario (rows) and policy (columns) for each scenario's first guest.
Result<void> plot(const std::vector<RunResult>& results, const std::vector<std::string>& scenarios,
                  const std::string& png_path) {
  const auto gnuplot = find_in_path("gnuplot");
  if (!gnuplot) {
    std::fprintf(stderr, "gnuplot not found in PATH: skipping the plot (Debian: gnuplot-nox)\n");
    return {};
  }
  std::error_code temp_error;
  const std::filesystem::path temp_root = std::filesystem::temp_directory_path(temp_error);
  if (temp_error) return Error{"no temporary directory: " + temp_error.message()};
  std::string dir = (temp_root / "xenballoon-bench.XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return Error{"cannot create " + dir + ": " + std::strerror(errno), errno};
  }
  const std::string data_path = dir + "/series.dat";
  const std::string script_path = dir + "/plot.gp";

  std::string data;
  std::string panels;
  int index = 0;
  const int columns = static_cast<int>(std::size(kPolicies));
  for (const std::string& scenario : scenarios) {
    for (BenchPolicy policy : kPolicies) {
      const RunResult* r = find(results, scenario, policy);
      if (r == nullptr) continue;
      data += "# " + scenario + " " + std::string(policy_name(policy)) + "\n";
      for (const SeriesPoint& p : r->series) {
        data +=
            format("%.4f %.1f %.1f %.1f\n", p.hours, p.needed_mib, p.target_mib, p.allocation_mib);
      }
      data += "\n\n";
      panels += format("set title %s\nset yrange [0:%.0f]\n",
                       gnuplot_quoted(scenario + " / " + r->plotted_guest + " / " +
                                      std::string(policy_name(policy)))
                           .c_str(),
                       r->plotted_static_max_mib * 1.05);
      panels += format(
          "plot %s index %d using 1:2 with lines lw 1.5 lc rgb '#000000' title 'needed', "
          "'' index %d using 1:4 with lines lw 1.5 lc rgb '#d62728' title 'allocation', "
          "'' index %d using 1:3 with lines lc rgb '#1f77b4' dt 2 title 'target'\n",
          gnuplot_quoted(data_path).c_str(), index, index, index);
      ++index;
    }
  }
  const int rows = static_cast<int>(scenarios.size());
  std::string script = format(
      "set terminal pngcairo size %d,%d font ',9'\nset output %s\n"
      "set multiplot layout %d,%d title 'needed memory, balloon target and allocation (MiB) over "
      "virtual hours'\nset xlabel 'hours'\nset key top left font ',7'\nset grid\n",
      340 * columns, 240 * rows + 40, gnuplot_quoted(png_path).c_str(), rows, columns);
  script += panels + "unset multiplot\n";

  Result<void> outcome;
  if (auto written = write_file_atomic(data_path, data); !written) {
    outcome = written;
  } else if (auto script_written = write_file_atomic(script_path, script); !script_written) {
    outcome = script_written;
  } else {
    const std::string program = *gnuplot;
    char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(script_path.c_str()),
                    nullptr};
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    int status = 0;
    if (spawned != 0) {
      outcome = Error{"cannot run " + program + ": " + std::strerror(spawned), spawned};
    } else if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      outcome = Error{"gnuplot failed to write " + png_path};
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return outcome;
}

}  // namespace xenballoon::sim::bench
