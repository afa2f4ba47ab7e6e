// The model against real Xen: xenballoon-policy-bench runs the lab guest of
// tests/fixtures/calibration/ (the real-Xen agent-selfballoon scenario's guest and workload) under
// the shipped pressure-v2 settings, and its trace must follow what the real guest did, within
// stated tolerances (docs/simulation.md, "Calibration against real Xen").
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"

using namespace xenballoon::testing;

namespace {

struct Sample {
  double second = 0;
  std::uint64_t target_kb = 0;
  std::uint64_t mem_total_kb = 0;
  std::uint64_t committed_as_kb = 0;
  std::uint64_t psi_some_total_us = 0;
};

const std::string kFixtures = std::string(XENBALLOON_FIXTURES) + "/calibration";

// The real guest: "second target_kb current_kb mem_total_kb committed_as_kb hog_mib psi_us".
std::vector<Sample> real_samples() {
  std::ifstream in(kFixtures + "/real-pv-pressure-v2.txt");
  std::vector<Sample> samples;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Sample s;
    std::uint64_t current = 0;
    std::uint64_t hog = 0;
    fields >> s.second >> s.target_kb >> current >> s.mem_total_kb >> s.committed_as_kb >> hog >>
        s.psi_some_total_us;
    REQUIRE(fields);
    samples.push_back(s);
  }
  return samples;
}

// The model's trace (trace.h columns after scenario,policy,guest), by whole second.
std::map<std::int64_t, Sample> model_samples(const std::string& csv) {
  std::map<std::int64_t, Sample> samples;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    REQUIRE(cells.size() == 18);
    if (cells[1] != "pressure-v2") continue;
    Sample s;
    s.second = std::stod(cells[3]);
    s.mem_total_kb = std::stoull(cells[4]);
    s.committed_as_kb = std::stoull(cells[5]);
    s.psi_some_total_us = std::stoull(cells[10]);
    s.target_kb = std::stoull(cells[16]);
    samples[static_cast<std::int64_t>(s.second)] = s;
  }
  return samples;
}

}  // namespace

TEST_CASE("the model follows the real-Xen lab guest under the shipped policy within tolerances") {
  const std::vector<Sample> real = real_samples();
  REQUIRE(real.size() >= 40);

  TempDir dir;
  const std::string trace = dir.path() + "/trace.csv";
  auto run = run_command({XENBALLOON_POLICY_BENCH_BIN, "--scenario", kFixtures + "/lab-guest.yaml",
                          "--policy", "pressure-v2", "--trace", trace});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  std::ifstream in(trace);
  std::stringstream csv;
  csv << in.rdbuf();
  const auto model = model_samples(csv.str());
  REQUIRE(model.size() >= 70);

  // The tolerances: each real sample (taken every 1.3 s under TCG, by a shell loop; the agent
  // ticks in between) is matched by a model second within 1.5 s of it whose balloon target and
  // MemTotal are within 2 % of memory/target (5.2 MiB), and by one whose Committed_AS is within
  // one step of the workload (16 MiB).
  constexpr double kTimeSlack = 1.5;
  constexpr double kCeilingKb = 262144;
  constexpr double kStepKb = 16 * 1024;
  auto distance = [](std::uint64_t a, std::uint64_t b) {
    return std::abs(static_cast<double>(a) - static_cast<double>(b));
  };
  int matched = 0;
  for (const Sample& r : real) {
    double best_level = 1e18;
    double best_committed = 1e18;
    for (auto s = static_cast<std::int64_t>(std::floor(r.second - kTimeSlack));
         s <= static_cast<std::int64_t>(std::ceil(r.second + kTimeSlack)); ++s) {
      auto it = model.find(s);
      if (it == model.end()) continue;
      const Sample& m = it->second;
      best_level = std::min(best_level, std::max(distance(m.target_kb, r.target_kb),
                                                 distance(m.mem_total_kb, r.mem_total_kb)));
      best_committed = std::min(best_committed, distance(m.committed_as_kb, r.committed_as_kb));
    }
    INFO("real second " << r.second << ": target_kb " << r.target_kb << ", MemTotal "
                        << r.mem_total_kb << ", Committed_AS " << r.committed_as_kb);
    CHECK(best_level <= 0.02 * kCeilingKb);
    CHECK(best_committed <= kStepKb);
    if (best_level <= 0.02 * kCeilingKb && best_committed <= kStepKb) ++matched;
  }
  CHECK(matched == static_cast<int>(real.size()));

  // The stall: the real guest stalled 5.9 ms over the run (PSI some total=), the model must stay
  // below a second (neither is a stall a person would notice; the model's refault-free guest
  // has nothing to stall on).
  const double real_stall_s =
      static_cast<double>(real.back().psi_some_total_us - real.front().psi_some_total_us) / 1e6;
  const double model_stall_s = static_cast<double>(model.rbegin()->second.psi_some_total_us) / 1e6;
  CHECK(real_stall_s < 1.0);
  CHECK(model_stall_s < 1.0);
}
