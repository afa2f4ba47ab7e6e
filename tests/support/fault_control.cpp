#include "fault_control.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim_host.h"  // slurp

namespace xenballoon::testing {

FaultControl::FaultControl() : control_(dir_.path() + "/control"), log_(dir_.path() + "/writes") {
  write_rules();
}

std::map<std::string, std::string> FaultControl::env() const {
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {{"LD_PRELOAD", XENBALLOON_FAULT_INJECT_LIB},
          {"XENBALLOON_FAULT_CONTROL", control_},
          {"ASAN_OPTIONS", std::string(asan != nullptr ? asan : "") +
                               (asan != nullptr && *asan != '\0' ? ":" : "") +
                               "verify_asan_link_order=0"}};
}

void FaultControl::set(const std::vector<std::string>& rules) {
  rules_ = rules;
  write_rules();
}

void FaultControl::record(const std::string& path) {
  record_rule_ = "record " + path + " " + log_;
  write_rules();
}

void FaultControl::write_rules() {
  const std::string tmp = control_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const std::string& rule : rules_) out << rule << "\n";
    if (!record_rule_.empty()) out << record_rule_ << "\n";
  }
  std::filesystem::rename(tmp, control_);
}

std::vector<RecordedWrite> FaultControl::recorded() const {
  std::vector<RecordedWrite> writes;
  std::istringstream in(slurp(log_));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    RecordedWrite w;
    if (fields >> w.monotonic_ns >> w.result >> w.data) writes.push_back(w);
  }
  return writes;
}

bool under_address_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)  // GCC
  return true;
#elif defined(__has_feature)  // clang (14 does not define __SANITIZE_ADDRESS__)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace xenballoon::testing
