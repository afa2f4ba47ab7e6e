#include "metrics_doc.h"

#include <fstream>
#include <sstream>

namespace xenballoon::testing {

std::vector<std::regex> documented_families() {
  std::ifstream file(std::string(XENBALLOON_SOURCE_DIR) + "/docs/metrics.md");
  std::stringstream doc;
  doc << file.rdbuf();
  std::vector<std::regex> documented;
  std::regex name_in_table(R"(^\| `(xenballoon_[a-z0-9_<>]+)` \|)");
  std::istringstream in(doc.str());
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, name_in_table)) continue;
    std::string pattern = std::regex_replace(m[1].str(), std::regex("<[a-z]+>"), "[a-z0-9_]+");
    documented.emplace_back("^" + pattern + "$");
  }
  return documented;
}

bool is_documented(const std::vector<std::regex>& documented, const std::string& family) {
  for (const auto& re : documented) {
    if (std::regex_match(family, re)) return true;
  }
  return false;
}

}  // namespace xenballoon::testing
