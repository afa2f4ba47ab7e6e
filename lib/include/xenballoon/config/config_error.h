// One problem found in a configuration or scenario file, and how a list of them is printed.
// Plain values and pure functions; not synchronized.
#pragma once

#include <string>
#include <vector>

namespace xenballoon {

// One problem in a configuration, with enough to find it: "xenballoond.yaml:7: key: message".
struct ConfigError {
  std::string source_name;
  int line = 0;  // 1-based; 0 when the key has no line (a default or a struct built in code)
  std::string key_path;
  std::string message;

  std::string to_string() const;
};

// One line per error.
std::string format_errors(const std::vector<ConfigError>& errors);

}  // namespace xenballoon
