// node_exporter-style end-to-end check of the agent's /metrics: run the binary on fixture trees,
// diff the scrape against a checked-in file, lint it with promtool, and check every family
// against docs/metrics.md. XENBALLOON_UPDATE_GOLDEN=1 rewrites the golden file.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "guest_env.h"
#include "http_get.h"
#include "metrics_doc.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

// Families whose values depend on timing, not on the fixtures.
const std::set<std::string> kVolatile = {
    "xenballoon_heartbeat_timestamp_seconds", "xenballoon_tick_duration_seconds",
    "xenballoon_publish_duration_seconds", "xenballoon_directed_latency_seconds",
    "xenballoon_cpu_seconds_total"};

std::string family_of(const std::string& series) {
  std::string name = series.substr(0, series.find_first_of("{ "));
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      if (kVolatile.count(base)) return base;
    }
  }
  return name;
}

// Volatile values become "<volatile>"; everything else stays byte for byte.
std::string normalise(const std::string& scrape) {
  std::istringstream in(scrape);
  std::string line, out;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#' && kVolatile.count(family_of(line))) {
      line = line.substr(0, line.rfind(' ')) + " <volatile>";
    }
    out += line + "\n";
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("agent /metrics on the real-Xen fixtures matches the golden file and lints clean") {
  GuestEnv env("interval_seconds: 3600\npublish_interval_seconds: 3600\n");
  env.start_agent({"--dry-run"});
  REQUIRE(env.agent().running());
  // The start-up tick and publication are done once the publication counter moves.
  REQUIRE(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_publications_total{result=\"ok\"}") == 1; }, 5s));
  std::string scrape = http_get(env.port(), "/metrics").body;
  REQUIRE_FALSE(scrape.empty());

  std::string golden_path = std::string(XENBALLOON_GOLDEN) + "/agent-metrics.txt";
  std::string got = normalise(scrape);
  const char* update = std::getenv("XENBALLOON_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") std::ofstream(golden_path) << got;
  CHECK(got == slurp(golden_path));

  TempDir tmp;
  std::ofstream(tmp.path() + "/scrape.txt") << scrape;
  auto lint = run_command({"sh", "-c", "promtool check metrics < " + tmp.path() + "/scrape.txt"});
  INFO(lint.out << lint.err);
  CHECK(lint.exit_code == 0);
}

TEST_CASE("every family the agent exposes is documented in docs/metrics.md") {
  auto documented = documented_families();
  REQUIRE(documented.size() > 30);
  std::string line;

  GuestEnv env("interval_seconds: 1\n");
  env.start_agent();
  std::string scrape = http_get(env.port(), "/metrics").body;
  std::istringstream lines(scrape);
  int families = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string family = line.substr(7, line.find(' ', 7) - 7);
    ++families;
    INFO(family);
    CHECK(is_documented(documented, family));
  }
  CHECK(families > 40);
}

TEST_CASE("every metric the dashboards and alert rules use is documented") {
  auto documented = documented_families();
  // Every dashboard in dashboards/ (at least the three of docs/dashboards.md), the console pages
  // and the rules.
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(XENBALLOON_SOURCE_DIR) + "/dashboards")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  CHECK(files.size() >= 3);
  // And the console pages that show them without Grafana.
  for (const auto& entry : std::filesystem::directory_iterator(std::string(XENBALLOON_SOURCE_DIR) +
                                                               "/config/prometheus/consoles")) {
    if (entry.path().extension() == ".html") files.push_back(entry.path().string());
  }
  CHECK(files.size() >= 9);
  files.push_back(std::string(XENBALLOON_SOURCE_DIR) + "/alerts/xenballoon.rules.yml");
  // A histogram's series are its family name with _bucket, _sum or _count.
  const std::regex histogram_series(R"((.*)_(bucket|sum|count)$)");
  int used = 0;
  for (const std::string& file : files) {
    std::string text = slurp(file);
    std::regex name(R"(xenballoon_[a-z0-9_]+)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
         it != std::sregex_iterator(); ++it) {
      std::string family = it->str();
      if (family.find("xenballoon_test") == 0) continue;
      ++used;
      std::smatch m;
      if (!is_documented(documented, family) && std::regex_match(family, m, histogram_series)) {
        family = m[1].str();
      }
      INFO(file << ": " << family);
      CHECK(is_documented(documented, family));
    }
  }
  CHECK(used > 100);
}
