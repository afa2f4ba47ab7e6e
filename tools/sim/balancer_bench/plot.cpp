#include "plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "report.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/spawn.h"

extern char** environ;

namespace xenballoon::sim::balancer_bench {
namespace {

// One colour per guest (gnuplot's default cycle repeats after eight and has close pairs).
constexpr const char* kColours[] = {"#9400d3", "#009e73", "#56b4e9", "#e69f00",
                                    "#f0e442", "#0072b2", "#e51e10", "#000000"};
std::string colour(std::size_t i) {
  return std::string("rgb '") + kColours[i % std::size(kColours)] + "'";
}

// gnuplot's single-quoted strings take everything literally except the quote itself.
std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

Result<void> run_gnuplot(const std::string& program, const std::string& script_path,
                         const std::string& png_path) {
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(script_path.c_str()),
                  nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
  int status = 0;
  if (spawned != 0) return Error{"cannot run " + program + ": " + std::strerror(spawned), spawned};
  if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{"gnuplot failed to write " + png_path};
  }
  return {};
}

// Columns of series.dat: hours, host free, then per guest allocation, target, PSI avg10.
std::string series_data(const RunResult& r) {
  std::string data;
  for (const Sample& s : r.series) {
    data += format("%.4f %.1f", static_cast<double>(s.second) / kSecondsPerHour, s.host_free_mib);
    for (const GuestSample& g : s.guests) {
      data += format(" %.1f %.1f %.2f", g.allocation_mib, g.target_mib, g.psi_some_avg10);
    }
    data += "\n";
  }
  return data;
}

std::string script_for(const RunResult& r, const std::string& data_path,
                       const std::string& png_path) {
  const std::string data = gnuplot_quoted(data_path);
  std::string script = format(
      "set terminal pngcairo size 1200,1000 font ',9'\nset output %s\n"
      "set multiplot layout 3,1 title %s\nset xlabel 'hours'\nset grid\n"
      "set key outside right font ',8'\nset xrange [0:*]\n",
      gnuplot_quoted(png_path).c_str(),
      gnuplot_quoted(r.scenario + " / " + std::string(policy_name(r.policy)) + " / seed " +
                     std::to_string(r.seed))
          .c_str());
  script += "set title 'allocation per guest (MiB; dashed: dom0 target)'\nset yrange [0:*]\nplot ";
  for (std::size_t i = 0; i < r.guests.size(); ++i) {
    const std::size_t column = 3 + 3 * i;
    script +=
        format("%s using 1:%zu with lines lw 1.5 lc %s title %s, ", i == 0 ? data.c_str() : "''",
               column, colour(i).c_str(), gnuplot_quoted(r.guests[i].name).c_str());
    script += format("'' using 1:%zu with lines dt 2 lc %s notitle%s", column + 1,
                     colour(i).c_str(), i + 1 < r.guests.size() ? ", " : "\n");
  }
  script += format(
      "set title 'host free memory (MiB)'\nset yrange [0:*]\n"
      "plot %s using 1:2 with lines lw 1.5 lc rgb '#000000' title 'free'\n",
      data.c_str());
  script += "set title 'PSI some avg10 per guest (%)'\nset yrange [0:*]\nplot ";
  for (std::size_t i = 0; i < r.guests.size(); ++i) {
    script +=
        format("%s using 1:%zu with lines lw 1.2 lc %s title %s%s", i == 0 ? data.c_str() : "''",
               5 + 3 * i, colour(i).c_str(), gnuplot_quoted(r.guests[i].name).c_str(),
               i + 1 < r.guests.size() ? ", " : "\n");
  }
  return script + "unset multiplot\n";
}

}  // namespace

Result<void> plot(const std::vector<RunResult>& results, std::uint64_t seed,
                  const std::string& prefix) {
  const auto gnuplot = find_in_path("gnuplot");
  if (!gnuplot) {
    std::fprintf(stderr, "gnuplot not found in PATH: skipping the plots (Debian: gnuplot-nox)\n");
    return {};
  }
  std::error_code temp_error;
  const std::filesystem::path temp_root = std::filesystem::temp_directory_path(temp_error);
  if (temp_error) return Error{"no temporary directory: " + temp_error.message()};
  std::string dir = (temp_root / "xenballoon-balancer-bench.XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return Error{"cannot create " + dir + ": " + std::strerror(errno), errno};
  }
  Result<void> outcome;
  for (const RunResult& r : results) {
    if (r.seed != seed) continue;
    const std::string name(policy_name(r.policy));
    const std::string data_path = dir + "/" + name + ".dat";
    const std::string script_path = dir + "/" + name + ".gp";
    const std::string png_path = prefix + "-" + name + ".png";
    if (auto written = write_file_atomic(data_path, series_data(r)); !written) {
      outcome = written;
    } else if (auto script = write_file_atomic(script_path, script_for(r, data_path, png_path));
               !script) {
      outcome = script;
    } else {
      outcome = run_gnuplot(*gnuplot, script_path, png_path);
    }
    if (!outcome) break;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return outcome;
}

}  // namespace xenballoon::sim::balancer_bench
