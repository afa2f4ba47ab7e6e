// The alert rules against their documentation and their tests: every alert has a severity, a
// summary, a description and a runbook_url naming its entry in docs/alerts.md, where the table
// gives the same severity and `for:`; every selector names the job that serves its family
// (docs/metrics.md: the guest and exporter families job xenballoon-exporter, the agent-only ones
// xenballoond, the balancer's xenballoon-balancer); the promtool tests hold a firing and a quiet
// case for every alert.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string kSource = XENBALLOON_SOURCE_DIR;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

struct Rule {
  std::string name;
  std::string expr;
  std::string for_text;  // "" without for:
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

std::vector<Rule> load_rules() {
  std::vector<Rule> rules;
  const YAML::Node file = YAML::LoadFile(kSource + "/alerts/xenballoon.rules.yml");
  for (const auto& group : file["groups"]) {
    for (const auto& node : group["rules"]) {
      Rule rule;
      rule.name = node["alert"].as<std::string>("");
      rule.expr = node["expr"].as<std::string>("");
      if (node["for"]) rule.for_text = node["for"].as<std::string>();
      for (const auto& label : node["labels"]) {
        rule.labels[label.first.as<std::string>()] = label.second.as<std::string>();
      }
      for (const auto& annotation : node["annotations"]) {
        rule.annotations[annotation.first.as<std::string>()] = annotation.second.as<std::string>();
      }
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

// docs/metrics.md's families, each as a pattern with the job that serves it.
std::vector<std::pair<std::regex, std::string>> family_jobs() {
  std::vector<std::pair<std::regex, std::string>> families;
  std::istringstream doc(slurp(kSource + "/docs/metrics.md"));
  const std::regex name_in_table(R"(^\| `(xenballoon_[a-z0-9_<>]+)` \|)");
  std::string line, job;
  while (std::getline(doc, line)) {
    if (line.rfind("## ", 0) == 0) {
      job = line.find("Agent only") != std::string::npos      ? "xenballoond"
            : line.find("Balancer only") != std::string::npos ? "xenballoon-balancer"
                                                              : "xenballoon-exporter";
      continue;
    }
    std::smatch m;
    if (!std::regex_search(line, m, name_in_table)) continue;
    const std::string pattern =
        std::regex_replace(m[1].str(), std::regex("<[a-z]+>"), "[a-z0-9_]+");
    families.emplace_back(std::regex("^" + pattern + "$"), job);
  }
  return families;
}

}  // namespace

TEST_CASE("every alert has a severity, a summary, a description and its runbook entry") {
  const std::vector<Rule> rules = load_rules();
  REQUIRE(rules.size() >= 19);
  const std::string doc = slurp(kSource + "/docs/alerts.md");
  REQUIRE_FALSE(doc.empty());
  std::set<std::string> names;
  for (Rule rule : rules) {
    INFO(rule.name);
    CHECK(names.insert(rule.name).second);
    CHECK(std::set<std::string>{"critical", "warning", "info"}.count(
              rule.labels.count("severity") ? rule.labels.at("severity") : "") == 1);
    CHECK_FALSE(rule.annotations["summary"].empty());
    CHECK_FALSE(rule.annotations["description"].empty());
    const std::string anchor = lower(rule.name);
    CHECK(rule.annotations["runbook_url"] == "docs/alerts.md#" + anchor);
    CHECK(doc.find("\n### " + rule.name + "\n") != std::string::npos);
    // The table row: | [Name](#anchor) | severity | fires when | for |
    const std::string row_start = "| [" + rule.name + "](#" + anchor + ") | ";
    const auto row = doc.find(row_start);
    REQUIRE(row != std::string::npos);
    const std::string line = doc.substr(row, doc.find('\n', row) - row);
    std::vector<std::string> cells;
    std::istringstream parts(line);
    for (std::string cell; std::getline(parts, cell, '|');) {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    REQUIRE(cells.size() == 5);  // "" then four columns
    CHECK(cells[2] == rule.labels["severity"]);
    CHECK(cells[4] == (rule.for_text.empty() ? "—" : rule.for_text));
  }
}

TEST_CASE("every selector of the rules names the job that serves its family") {
  const auto families = family_jobs();
  REQUIRE(families.size() > 30);
  const std::regex selector(R"(\b(xenballoon_[a-z0-9_]+|up)\b(\{[^}]*\})?)");
  int selectors = 0;
  for (const Rule& rule : load_rules()) {
    for (auto it = std::sregex_iterator(rule.expr.begin(), rule.expr.end(), selector);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      const std::string matchers = (*it)[2];
      std::string job;
      if (name == "up") {
        job = matchers.find("xenballoon-balancer") != std::string::npos ? "xenballoon-balancer"
                                                                        : "xenballoon-exporter";
      } else {
        for (const auto& [pattern, family_job] : families) {
          if (std::regex_match(name, pattern)) {
            job = family_job;
            break;
          }
        }
      }
      ++selectors;
      INFO(rule.name << ": " << it->str());
      REQUIRE_FALSE(job.empty());  // a family docs/metrics.md lacks
      CHECK(matchers.find("job=\"" + job + "\"") != std::string::npos);
    }
  }
  CHECK(selectors > 25);
}

TEST_CASE("the promtool tests hold a firing and a quiet case for every alert") {
  const YAML::Node tests =
      YAML::LoadFile(kSource + "/tests/alerts/xenballoon_rules_test.yml")["tests"];
  std::map<std::string, std::pair<int, int>> cases;  // alert -> (firing, quiet)
  for (const auto& test : tests) {
    for (const auto& check : test["alert_rule_test"]) {
      auto& [firing, quiet] = cases[check["alertname"].as<std::string>()];
      (check["exp_alerts"].size() > 0 ? firing : quiet) += 1;
    }
  }
  for (const Rule& rule : load_rules()) {
    INFO(rule.name);
    CHECK(cases[rule.name].first > 0);
    CHECK(cases[rule.name].second > 0);
  }
}
