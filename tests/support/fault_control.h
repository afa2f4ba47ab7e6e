// Test support: the control side of the fault library (fault_inject.c) preloaded into a daemon:
// the environment that loads it, its rules replaced at run time, and the writes it recorded.
// Not thread-safe; one per test.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "process.h"

namespace xenballoon::testing {

// One write the library saw to the recorded file.
struct RecordedWrite {
  std::int64_t monotonic_ns = 0;
  std::string result;  // "ok" or the injected errno ("EIO")
  std::string data;    // without its newline
};

class FaultControl {
 public:
  FaultControl();

  // LD_PRELOAD and XENBALLOON_FAULT_CONTROL for the daemon (ASAN_OPTIONS too, so that a
  // sanitizer build accepts a library ahead of its runtime).
  std::map<std::string, std::string> env() const;
  // Replaces every rule at once (the daemon sees the new file at its next intercepted call):
  // lines such as "fail write EIO <path>", "clock 3600". The record rule stays.
  void set(const std::vector<std::string>& rules);
  // Records every write to `path` from now on.
  void record(const std::string& path);
  std::vector<RecordedWrite> recorded() const;

  const std::string& control_path() const { return control_; }

 private:
  void write_rules();
  TempDir dir_;
  std::string control_;
  std::string log_;
  std::string record_rule_;
  std::vector<std::string> rules_;
};

// True when this process runs under AddressSanitizer (the sanitizer tree).
bool under_address_sanitizer();

}  // namespace xenballoon::testing
