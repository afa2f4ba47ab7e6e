// xenballoon-monitor as a process against xenstored-lite loaded with the fixture host: golden
// table and JSON (--once), sorting, rates from two publications, live refreshes in a pipe.
// XENBALLOON_UPDATE_GOLDEN=1 rewrites the golden files.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_get.h"
#include "process.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

const std::string kFixtures = std::string(XENBALLOON_FIXTURES) + "/dom0/";
const std::string kFixtureTree = kFixtures + "xenstore-tree.txt";
const std::string kGolden = std::string(XENBALLOON_GOLDEN) + "/";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult monitor(const Xenstored& xenstored, std::vector<std::string> args) {
  args.insert(args.begin(), XENBALLOON_MONITOR_BIN);
  return run_command(args, xenstored.env_for(0), 20s);
}

// The age of a guest's statistics depends on the clock: the table's last column and the JSON's
// "time" and "age_seconds" become <age>/<time>.
std::string normalise_table(const std::string& table) {
  std::istringstream in(table);
  std::string line, out;
  std::regex trailing_age(R"( +\d+[smhd]$)");  // with its padding, which varies with the width
  while (std::getline(in, line)) out += std::regex_replace(line, trailing_age, " <age>") + "\n";
  return out;
}

std::string normalise_json(const std::string& json) {
  std::string out = std::regex_replace(json, std::regex(R"("time": [0-9.]+)"), "\"time\": <time>");
  return std::regex_replace(out, std::regex(R"("age_seconds": [0-9.]+)"), "\"age_seconds\": <age>");
}

void check_golden(const std::string& got, const std::string& file) {
  const char* update = std::getenv("XENBALLOON_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") std::ofstream(kGolden + file) << got;
  CHECK(got == slurp(kGolden + file));
}

// The whitespace-separated cells of the table row for `domid`.
std::vector<std::string> row_of(const std::string& table, unsigned domid) {
  std::istringstream in(table);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream cells(line);
    std::vector<std::string> row;
    std::string cell;
    while (cells >> cell) row.push_back(cell);
    if (!row.empty() && row[0] == std::to_string(domid)) return row;
  }
  return {};
}

// The domids of the table's rows, top to bottom.
std::vector<std::string> order_of(const std::string& table) {
  std::vector<std::string> ids;
  std::istringstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.rfind("Total:", 0) == 0) break;
    std::istringstream cells(line);
    std::string id;
    cells >> id;
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

TEST_CASE("monitor --once prints the golden table") {
  Xenstored xenstored({"--load", kFixtureTree});
  auto result = monitor(xenstored, {"--once"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_golden(normalise_table(result.out), "monitor-once.txt");
  // What the golden file pins, spelled out.
  auto web = row_of(result.out, 1);
  REQUIRE(web.size() == 14);
  CHECK(web[1] == "web");
  CHECK(web[2] == "agent");
  CHECK(web[3] == "256");                // current-kb 262144
  CHECK(web[6] == "146");                // Committed_AS 150000 KiB
  CHECK(web[7] == "-");                  // one read: no rates
  CHECK(web[12] == "1.25");              // PSI some avg10
  CHECK(row_of(result.out, 0).empty());  // dom0 publishes nothing
  CHECK(result.out.find("host memory unknown") != std::string::npos);
  CHECK(result.out.find('\033') == std::string::npos);
}

TEST_CASE("monitor --once --json prints the golden document") {
  Xenstored xenstored({"--load", kFixtureTree});
  auto result = monitor(xenstored, {"--once", "--json"});
  REQUIRE(result.exit_code == 0);
  check_golden(normalise_json(result.out), "monitor-once.json");
  auto doc = nlohmann::json::parse(result.out);
  const auto& xenserver = doc.at("domains").at(2);
  CHECK(xenserver.at("domid") == 3);
  CHECK(xenserver.at("name") == "xenserver");
  CHECK(xenserver.at("memory_bytes") == 2088960000);
}

TEST_CASE("monitor sorts by any column") {
  Xenstored xenstored({"--load", kFixtureTree});
  auto by_memory = monitor(xenstored, {"--once", "-s", "mem"});
  REQUIRE(by_memory.exit_code == 0);
  CHECK(order_of(by_memory.out) == std::vector<std::string>{"3", "2", "1", "4", "5"});
  auto by_memory_reversed = monitor(xenstored, {"--once", "-s", "MEM", "-r"});
  CHECK(order_of(by_memory_reversed.out) == std::vector<std::string>{"1", "2", "3", "4", "5"});
  auto by_name = monitor(xenstored, {"--once", "-s", "name"});
  CHECK(order_of(by_name.out) == std::vector<std::string>{"4", "5", "2", "1", "3"});
  auto by_maxmem = monitor(xenstored, {"--once", "--sort", "maxmem"});
  CHECK(order_of(by_maxmem.out) == std::vector<std::string>{"3", "2", "1", "5", "4"});
  auto bad = monitor(xenstored, {"--once", "-s", "colour"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("unknown column") != std::string::npos);
}

TEST_CASE("monitor --once -d N takes two reads and shows rates between publications") {
  Xenstored xenstored({"--load", kFixtureTree});
  TempDir dir;
  ChildProcess child({XENBALLOON_MONITOR_BIN, "--once", "-d", "2.5"}, xenstored.env_for(0),
                     dir.path() + "/out", dir.path() + "/err");
  std::this_thread::sleep_for(800ms);
  // The agent in guest 1 publishes again 10 s (of its uptime) later.
  XsHandle dom0(xenstored.socket());
  std::string dir1 = "/local/domain/1/data/xenballoon/";
  REQUIRE(dom0.write(dir1 + "vmstat",
                     "pswpin 220\npswpout 340\npgpgin 60000\npgpgout 20500\npgfault 8561000\n"
                     "pgmajfault 62\noom_kill 0\n") == 0);
  REQUIRE(dom0.write(dir1 + "uptime", "3615.12 7010.50") == 0);
  REQUIRE(dom0.write(dir1 + "heartbeat", "1795663710") == 0);
  REQUIRE(child.wait(10s) == 0);
  std::string out = slurp(dir.path() + "/out");
  INFO(out << slurp(dir.path() + "/err"));
  auto web = row_of(out, 1);
  REQUIRE(web.size() == 14);
  CHECK(web[7] == "10.0");          // swap-in: 100 pages in 10 s
  CHECK(web[8] == "0.0");           // swap-out unchanged
  CHECK(web[9] == "1000.0");        // page-in
  CHECK(web[10] == "50.0");         // page-out
  CHECK(web[11] == "2.0");          // major faults
  CHECK(row_of(out, 2)[7] == "-");  // the 2008 guest did not publish in between
}

TEST_CASE("monitor refreshes in a pipe without terminal escapes") {
  Xenstored xenstored({"--load", kFixtureTree});
  auto result = monitor(xenstored, {"-d", "0.2", "-n", "3"});
  REQUIRE(result.exit_code == 0);
  std::size_t tables = 0;
  for (std::size_t at = 0; (at = result.out.find("Total: ", at)) != std::string::npos; ++at) {
    ++tables;
  }
  CHECK(tables == 3);
  CHECK(result.out.find('\033') == std::string::npos);
  auto json = monitor(xenstored, {"-d", "0.2", "-n", "2", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(std::count(json.out.begin(), json.out.end(), '\n') > 10);
  CHECK(json.out.find("\"totals\"", json.out.find("\"totals\"") + 1) != std::string::npos);
}

TEST_CASE("monitor without xenstore says so and fails") {
  TempDir dir;
  auto result = run_command({XENBALLOON_MONITOR_BIN, "--once"},
                            {{"XENSTORED_PATH", dir.path() + "/no-socket"}}, 10s);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("cannot read xenstore") != std::string::npos);
  auto help = run_command({XENBALLOON_MONITOR_BIN, "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--once") != std::string::npos);
  CHECK(run_command({XENBALLOON_MONITOR_BIN, "-d", "0"}).exit_code == 2);
}

TEST_CASE("monitor --exporter reads a running exporter and shows the same host") {
  Xenstored xenstored({"--load", kFixtureTree});
  TempDir dir;
  auto port = free_port();
  ChildProcess exporter(
      {XENBALLOON_EXPORTER_BIN, "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
      xenstored.env_for(0), dir.path() + "/log", dir.path() + "/log");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (http_get(port, "/healthz").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  auto direct = monitor(xenstored, {"--once"});
  auto through = run_command(
      {XENBALLOON_MONITOR_BIN, "--once", "--exporter", "127.0.0.1:" + std::to_string(port)}, {},
      10s);
  INFO(through.err);
  REQUIRE(through.exit_code == 0);
  // Every column but SRC (the exposition does not name the layout) and AGE (the clock): the
  // table has fixed widths, SRC at 23..30, AGE in the last 7 characters.
  auto without_src_and_age = [](const std::string& table) {
    std::istringstream in(table);
    std::string line, out;
    while (std::getline(in, line)) {
      if (line.rfind("Total:", 0) == 0 || line.size() < 40) continue;
      out += line.substr(0, 23) + line.substr(31, line.size() - 31 - 7) + "\n";
    }
    return out;
  };
  CHECK(without_src_and_age(through.out) == without_src_and_age(direct.out));
  CHECK(order_of(through.out) == order_of(direct.out));
  CHECK(row_of(through.out, 1)[2] == "agent");
  auto unreachable = run_command(
      {XENBALLOON_MONITOR_BIN, "--once", "--exporter", "127.0.0.1:" + std::to_string(free_port())},
      {}, 10s);
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.find("cannot connect") != std::string::npos);
}
