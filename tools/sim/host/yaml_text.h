// Text for the YAML files the simulator writes (agent and Prometheus configurations).
#pragma once

#include <string>

namespace xenballoon::sim::host {

// A YAML double-quoted scalar.
inline std::string yaml_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace xenballoon::sim::host
