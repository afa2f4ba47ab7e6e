// Guest data shared by the dom0, exporter and monitor unit tests: the xenstore values of a guest
// running the agent (kAgentGuest) and a parser of an exposition's sample lines. Test-only;
// constants and pure functions, thread-safe.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace xenballoon::test {

using Values = std::vector<std::pair<std::string, std::string>>;

// series -> value of every sample line.
inline std::map<std::string, double> samples_of(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

inline const Values kAgentGuest = {
    {"name", "web"},
    {"vm", "/vm/632EA78C-e949-11f1-9b01-4b366020df3b"},
    {"memory/target", "262144"},
    {"memory/static-max", "524288"},
    {"data/xenballoon/layout", "1"},
    {"data/xenballoon/agent", "xenballoond 0.1.0"},
    {"data/xenballoon/heartbeat", "1795663700"},
    {"data/xenballoon/mode", "directed"},
    {"data/xenballoon/policy", "classic"},
    {"data/xenballoon/target-kb", "172032"},
    {"data/xenballoon/current-kb", "262144"},
    {"data/xenballoon/meminfo", "MemTotal 204924\nHugePages_Free 3\nSomethingNew 5\n"},
    {"data/xenballoon/vmstat", "pswpin 7\npgmajfault 9\nnr_free_pages 5\n"},
    {"data/xenballoon/uptime", "7.30 2.52"},
    {"data/xenballoon/pressure",
     "some avg10=1.50 avg60=0.00 avg300=0.00 total=2500000\nfull avg10=0.50 avg60=0.00 "
     "avg300=0.00 total=1000\n"}};

}  // namespace xenballoon::test
