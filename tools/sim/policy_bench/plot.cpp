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
#include <optional>

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

std::optional<std::string> find_gnuplot() {
  auto gnuplot = find_in_path("gnuplot");
  if (!gnuplot) {
    std::fprintf(stderr, "gnuplot not found in PATH: skipping the plot (Debian: gnuplot-nox)\n");
  }
  return gnuplot;
}

Result<std::string> make_temp_dir() {
  std::error_code temp_error;
  const std::filesystem::path temp_root = std::filesystem::temp_directory_path(temp_error);
  if (temp_error) return Error{"no temporary directory: " + temp_error.message()};
  std::string dir = (temp_root / "xenballoon-bench.XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return Error{"cannot create " + dir + ": " + std::strerror(errno), errno};
  }
  return dir;
}

// Writes the data and the script into `dir`, runs gnuplot on them and removes `dir`.
Result<void> run_gnuplot(const std::string& program, const std::string& dir,
                         const std::string& data, const std::string& script,
                         const std::string& png_path) {
  const std::string data_path = dir + "/series.dat";
  const std::string script_path = dir + "/plot.gp";
  Result<void> outcome;
  if (auto written = write_file_atomic(data_path, data); !written) {
    outcome = written;
  } else if (auto script_written = write_file_atomic(script_path, script); !script_written) {
    outcome = script_written;
  } else {
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

}  // namespace

// One panel per scenario (rows) and policy (columns) for each scenario's first guest.
Result<void> plot(const std::vector<RunResult>& results, const std::vector<std::string>& scenarios,
                  const std::string& png_path) {
  const auto gnuplot = find_gnuplot();
  if (!gnuplot) return {};
  auto temp = make_temp_dir();
  if (!temp) return temp.error();
  const std::string dir = *temp;
  const std::string data_path = dir + "/series.dat";

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

  return run_gnuplot(*gnuplot, dir, data, script, png_path);
}

Result<void> plot_scenarios(const std::vector<RunResult>& results,
                            const std::vector<std::string>& scenarios, BenchPolicy candidate,
                            const std::string& out_dir) {
  const auto gnuplot = find_gnuplot();
  if (!gnuplot) return {};
  const BenchPolicy shown[] = {BenchPolicy::kOracle, BenchPolicy::kPressure, candidate};
  for (const std::string& scenario : scenarios) {
    const RunResult* oracle = find(results, scenario, BenchPolicy::kOracle);
    if (oracle == nullptr) continue;
    auto temp = make_temp_dir();
    if (!temp) return temp.error();
    std::string data;
    for (BenchPolicy policy : shown) {
      const RunResult* r = find(results, scenario, policy);
      data += "# " + std::string(policy_name(policy)) + "\n";
      if (r != nullptr) {
        for (const SeriesPoint& p : r->series) {
          data += format("%.4f %.1f %.1f %.4f\n", p.hours, p.needed_mib, p.allocation_mib,
                         p.psi_some_percent);
        }
      }
      data += "\n\n";
    }
    const std::string png_path = out_dir + "/" + scenario + ".png";
    const std::string data_path = gnuplot_quoted(*temp + "/series.dat");
    const std::string name(policy_name(candidate));
    std::string script = format(
        "set terminal pngcairo size 900,560 font ',10'\nset output %s\n"
        "set multiplot layout 2,1 title %s\nset grid\nset key top left font ',8'\n"
        "set lmargin 10\nset rmargin 3\n",
        gnuplot_quoted(png_path).c_str(),
        gnuplot_quoted(scenario + ", guest " + oracle->plotted_guest + ": memory and stall over " +
                       "virtual hours")
            .c_str());
    script += format(
        "set size 1,0.62\nset origin 0,0.36\nset ylabel 'MiB'\nset format x ''\n"
        "set yrange [0:%.0f]\n"
        "plot %s index 0 using 1:2 with lines lw 2 lc rgb '#000000' title 'needed', "
        "'' index 0 using 1:3 with lines lw 1.5 lc rgb '#2ca02c' title 'oracle', "
        "'' index 1 using 1:3 with lines lw 1 lc rgb '#ff7f0e' title 'pressure', "
        "'' index 2 using 1:3 with lines lw 1.5 lc rgb '#d62728' title %s\n",
        oracle->plotted_static_max_mib * 1.05, data_path.c_str(), gnuplot_quoted(name).c_str());
    script += format(
        "set size 1,0.34\nset origin 0,0\nset ylabel 'PSI some %%'\nset xlabel 'hours'\n"
        "set format x '%%g'\nset yrange [0:*]\n"
        "plot %s index 1 using 1:4 with impulses lc rgb '#ff7f0e' title 'pressure', "
        "'' index 2 using 1:4 with impulses lw 1.5 lc rgb '#d62728' title %s\n"
        "unset multiplot\n",
        data_path.c_str(), gnuplot_quoted(name).c_str());
    if (auto drawn = run_gnuplot(*gnuplot, *temp, data, script, png_path); !drawn) return drawn;
  }
  return {};
}

}  // namespace xenballoon::sim::bench
