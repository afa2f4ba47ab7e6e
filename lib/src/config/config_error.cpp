#include "xenballoon/config/config_error.h"

namespace xenballoon {

std::string ConfigError::to_string() const {
  std::string out = source_name.empty() ? std::string("<config>") : source_name;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  return out;
}

std::string format_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& error : errors) {
    if (!out.empty()) out += '\n';
    out += error.to_string();
  }
  return out;
}

}  // namespace xenballoon
